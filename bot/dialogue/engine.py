"""The dialogue engine: one message in, replies out; the chat's state is loaded and saved around every step."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from bot.content import Content, ContentStore
from bot.dialogue import actions, agency, countries, faq, offer, report, status
from bot.dialogue.decision import ANSWER, CLARIFY, MAX_ALTERNATIVES, NOTHING_FOUND, THRESHOLDS, Decision, decide
from bot.dialogue.menu import back_to_menu_button, main_menu_buttons, with_menu, with_menu_link
from bot.dialogue.messages import Button, Incoming, Reply, Turn, emergency_then
from bot.insights.recorder import InsightRecorder
from bot.limits import ChatRateLimiter
from bot.nlu.danger import QUESTION, SITUATION, WEAK, asks_generally, danger_level, is_over, told_over
from bot.nlu.normalise import normalise
from bot.nlu.phrases import says
from bot.nlu.service import Nlu
from bot.nlu.understanding import NOTHING, Matcher, Understanding, faq_topic_of
from bot.offers.analyse import OfferCheck, looks_like_offer
from bot.offers.rules import RULES_FILE, RuleStore
from bot.registry.mentions import MAX_NAME_WORDS, STOP_WORDS, company_mentions
from bot.registry.names import normalise_name
from bot.registry.service import MAX_TEXT, AgencyRegistry, Found, Lookup, clean_query, found_lookup
from bot.reports.service import ReportService
from db.chat_state import ChatStateRepository, ConversationState

log = logging.getLogger(__name__)

# A message that is only a registered company's name (and maybe a city) is answered with its verdict.
MAX_BARE_NAME_CHARS = 80
MAX_COMPANIES = 3
# NLU's score for an emergency or a report above which a message is never answered with a destination instead, nor
# with a sure out of scope when it has a word that may mean danger.
HEARD_DANGER = 0.15
QUESTION_TAIL = 60  # characters at the end of a message read for a question word
REPORT_OPENING = 60  # a wish to report opening a long message ("Saya ingin membuat laporan ..."), not an offer's
MAX_ID_DIGITS = 9  # a registry id in button data; longer is forged (and would overflow the database integer)
QUESTION_END = re.compile(r"\?\W*$|\b(kah|ko|ga|gak|gk|ngga|nggak|tidak|tdk|sonde|son|bagaimana|gimana|gmn|aman|"
                          r"resmi|benar|bener)(\W+(ya|yah|kak|kaka|kakak|pak|bapa|bapak|bu|ibu|mama|min|admin|dong|nih|"
                          r"to|tuh))?\W*$", re.IGNORECASE)
QUESTION_WORD_END = re.compile(r"\b(bagaimana|apa|kenapa|mengapa|berapa|kapan|siapa|mana)\W*$")
STARTS_WITH_MARKER = re.compile(r"\W*(p\.?\s?t\b|cv\b|perusahaan|agen|yayasan|penyalur)", re.IGNORECASE)
# Asked for a company's name: "I don't know it" ("sa sonde tau nama dia pung PT", "lupa namanya"), normalised.
NAME_NOT_KNOWN = re.compile(r"^(saya |kami )?(tidak|belum|nda|ndak) (tahu|tau|ingat|kenal)\b(?!.*\b(pt|cv)\b \w)|"
                            r"^(saya |kami )?lupa\b")
STORY_WORDS = 8  # a wish to report this long, naming who or what happened, tells the case: kept as its story
CASE_WORDS = re.compile(r"\b(calo|sponsor|agen|perekrut|tekong|majikan|yayasan|lpk|pt|cv|penampungan|mami|bos|"
                        r"(di)?(bawa|jual|kirim|rekrut|kumpul|tahan|tipu|pukul|kurung|sekap|berangkatkan)|"
                        r"kumpulkan|menipu|merekrut|mengirim|membawa)\b")
MAX_NOT_KNOWN_WORDS = 8
SENTENCE_WORDS = 6  # a reply to "which company?" this long, with particles and verbs, is a sentence, not a name
ONLY_A_MARKER = re.compile(r"\W*(p\.?\s?t\.?|cv|pjtki|p3mi|agen|perusahaan)\W*", re.IGNORECASE)
# While the bot waits for a company name, these meanings do not count as "asked something else".
NOT_A_NAME_INSTEAD = ("check_agency", "out_of_scope", "affirm", "deny", "greet", "thanks", "bot_challenge")
# A report draft left this long gets one reminder; left as long again after it, it is deleted.
DRAFT_IDLE = timedelta(hours=24)

# Intents answered by one template followed by the main menu.
SIMPLE_INTENTS = {
    "greet": "greeting",
    "goodbye": "goodbye",
    "thanks": "thanks",
    "menu": "menu",
    "bot_challenge": "bot_challenge",
    "out_of_scope": "out_of_scope",
    "affirm": "affirm",
    "deny": "deny",
}
# Intents that lead to a menu entry, and so can also be offered as a "did you mean" button.
# check_agency is routed by _check_agency first (it can carry a company name) and falls back to its menu entry.
MENU_INTENTS = {
    "check_agency": actions.MENU_AGENCY,
    "report_trafficking": actions.MENU_REPORT,
    "emergency": actions.MENU_EMERGENCY,
}
COMMANDS = {
    "/start": "start",
    "/menu": "menu",
    "/bantuan": "help",
    "/help": "help",
    "/batal": "cancel",
    "/lapor": actions.MENU_REPORT,
    "/cek": actions.MENU_AGENCY,
    "/darurat": actions.MENU_EMERGENCY,
    "/status": "status",
    "/tawaran": actions.MENU_OFFER,
    "/privasi": "privacy",
    "/hapus": "erase",
}


def usable_labels(content: Content) -> frozenset[str]:
    """The NLU labels the engine can act on: intents with an answer, and the FAQ topics the content has."""
    return frozenset({*SIMPLE_INTENTS, *MENU_INTENTS, "check_agency", "country_info", "report_status",
                      *(f"faq/{topic}" for topic in content.topics)})


@dataclass
class TextMessage:
    """A typed message on its way through the router; NLU is asked at most once, and only when needed."""

    content: Content
    state: ConversationState
    text: str
    turn: Turn
    nlu: Nlu
    forwarded: bool = False
    emergency_set_aside: bool = False  # a danger asked about in general, or heard by NLU, not acted on: offered
    _understanding: Understanding | None = None

    @cached_property
    def danger(self) -> str | None:
        """The danger net's level for this message (asked by two recognisers, computed once)."""
        return danger_level(self.text)

    @cached_property
    def countries_named(self) -> list[str]:
        """The destination countries the message names (asked by up to three recognisers, computed once)."""
        return countries.countries_in_text(self.content, self.text)

    @property
    def heard_emergency(self) -> float:
        """NLU's score for an emergency (asked by the decision and by the safety net)."""
        return dict(self.understanding.candidates).get("emergency", 0.0)

    @property
    def understanding(self) -> Understanding:
        if self._understanding is None:
            self._understanding = self.nlu.understand(self.text, self.content)
            self.turn.intent = self._understanding.intent
            self.turn.confidence = round(self._understanding.confidence, 4)
        return self._understanding


def _ranked_topics_about(m: TextMessage, code: str) -> list[str]:
    """The destination topics about a country (their `countries:`) that NLU ranked for the message, best first."""
    about = {t for t, topic in m.content.topics.items() if code in topic.countries}
    return [t for t in map(faq_topic_of, (label for label, _score in m.understanding.candidates)) if t in about]


def _ends_as_a_question(text: str) -> bool:
    """A question mark or a question word at the end, as typed or a question word in its standard spelling ("tu
    begimana"); not a claim with a form of address ("dijamin resmi kk")."""
    return QUESTION_END.search(text) is not None or \
        QUESTION_WORD_END.search(normalise(text[-QUESTION_TAIL:])) is not None


def _tells_a_case(text: str) -> bool:
    """A wish to report that also tells the case: long enough, names who or what happened, and is no question ("sa
    mau lapor calo di kampung yang kumpul KTP anak muda"; not "selamat siang kaka, sa mau lapor ke gugus tugas", not
    "sa mau lapor tapi takut calo tau, aman kah")."""
    return len(text.split()) >= STORY_WORDS and CASE_WORDS.search(normalise(text)) is not None \
        and not _ends_as_a_question(text)


def _name_not_known(text: str) -> bool:
    """A short "I don't know its name" ("tidak tahu namanya", "lupa kak"), not a story that starts so."""
    said = normalise(text)
    return len(said.split()) <= MAX_NOT_KNOWN_WORDS and NAME_NOT_KNOWN.match(said) is not None


def _a_sentence(text: str) -> bool:
    """Many words, with particles and verbs among them: told, not a company's name."""
    words = normalise(text).split()
    return len(words) >= SENTENCE_WORDS and sum(word in STOP_WORDS for word in words) >= 2


def _verdict_meaning(lookup: Lookup) -> str:
    """How an agency answer is named in `Turn.meaning`: the registry id, "?" when not found, "choose" to pick."""
    if lookup.kind == Found.CLEAR:
        return str(lookup.agency_ids[0])
    return "choose" if lookup.kind == Found.SEVERAL else "?"


class Engine:
    def __init__(self, content: ContentStore, nlu: Nlu, states: ChatStateRepository, registry: AgencyRegistry,
                 reports: ReportService | None = None, insights: InsightRecorder | None = None,
                 limiter: ChatRateLimiter | None = None, retention_days: int = 90,
                 offer_rules: RuleStore | None = None):
        self._content = content
        self._nlu = nlu
        self._states = states
        self._registry = registry
        self._reports = reports
        self._report = report.ReportFlow(reports, registry)
        self._insights = insights
        self._limiter = limiter
        self._offer_rules = offer_rules or RuleStore(content.root / RULES_FILE)
        self.retention_days = retention_days

    def handle(self, message: Incoming) -> Turn:
        if self._limiter is not None:  # per-chat limit, before any work (no database, no NLU)
            verdict = self._limiter.check(message.chat_id)
            if verdict != "ok":
                log.info("chat over the message limit: %s", verdict)
                if verdict == "drop":
                    return Turn(meaning="rate_limited")
                content = self._content.current()
                return Turn([Reply(content.render("chat_rate_limited",
                                                  seconds=self._limiter.wait_seconds(message.chat_id)))],
                            meaning="rate_limited")
        with self._states.turn(message.chat_id) as state:  # one transaction; the chat's row locked on PostgreSQL
            if message.update_id is not None and state.handled(message.update_id):
                if message.update_id == state.recent_updates[-1] and state.last_replies:
                    # Saved but perhaps never sent (its worker died): the same replies again, not a second turn.
                    log.info("an update handled before: its replies are sent again")
                    return Turn([Reply.from_dict(reply) for reply in state.last_replies], meaning="replayed")
                log.info("ignored a redelivered update")
                return Turn()
            turn, content = self._turn(state, message)
            if message.update_id is not None:
                state.last_replies = [reply.to_dict() for reply in turn.replies]
        if self._insights is not None:
            self._insights.record(message, turn, content)  # in-memory counters only (bot/insights/recorder.py)
        return turn

    def _turn(self, state: ConversationState, message: Incoming) -> tuple[Turn, Content]:
        content = self._content.current()
        turn = Turn()
        if message.press is not None:
            turn.replies = self._on_press(content, state, message.press)
        elif message.attachment is not None:
            turn.replies = self._on_attachment(content, state, message)
        else:
            turn.replies = self._on_text(content, state, message.text or "", turn, message.forwarded)
        if message.update_id is not None:
            state.remember(message.update_id)
        if state.erased:
            turn.meaning = "erased"
        elif self._report.in_progress(state):  # the reporter is back: a next idle day brings a reminder again
            draft = self._report.draft(state)
            draft.reminded = False
            self._report.keep(state, draft)
        return turn, content

    def remind_idle_drafts(self, now: datetime) -> list[tuple[int, Reply]]:
        """Report drafts idle for a day: remind once; a day after the reminder, delete the draft and say so."""
        content = self._content.current()
        messages = []
        for idle in self._states.in_flow(report.FLOW, now - DRAFT_IDLE):
            with self._states.turn(idle.chat_id) as state:  # the reporter may be typing right now: look again
                if state.updated_at is None:  # erased meanwhile (/hapus): it stays erased
                    state.erase()
                    continue
                if state.updated_at != idle.updated_at or not self._report.in_progress(state):
                    continue
                draft = self._report.draft(state)
                if draft.reminded:
                    state.erase()
                    messages.append((state.chat_id, with_menu(content, "report_draft_expired")))
                else:
                    draft.reminded = True
                    self._report.keep(state, draft)
                    messages.append((state.chat_id, self._report.reminder(content)))
        return messages

    def forget(self, chat_id: int) -> None:
        """Start the chat's conversation afresh."""
        self._states.clear(chat_id)

    def _on_attachment(self, content: Content, state: ConversationState, message: Incoming) -> list[Reply]:
        kind = message.attachment or "other"
        if self._report.in_progress(state):
            return self._report.on_attachment(content, state, kind, message.file_id, message.phone)
        if message.forwarded or offer.waiting_for_offer(state) or (message.attachment == "photo" and message.text):
            # A forwarded or flyer photo: its caption is read; other kinds get a note.
            return offer.on_attachment(content, state, self._registry, self._offer_rules.current(),
                                       kind, message.text, self._reports,
                                       on_check=self._count_offer)
        return [with_menu(content, "attachment_outside_flow", kind=message.attachment)]

    def _on_press(self, content: Content, state: ConversationState, data: str) -> list[Reply]:
        action = actions.parse(data)
        reporting = self._report.in_progress(state)
        if action is None:
            log.info("rejected malformed button data (%d bytes)", len(data.encode("utf-8", "replace")))
            if reporting:
                return self._report.prompt(content, state, note=content.render("report_button_old"))
            return [with_menu(content, "button_expired")]
        if action.kind == actions.OFFER:
            return offer.on_press(content, state, action.arg, self._report, self._reports)
        offer.discard(state)  # anything else: the offer text kept for its report button is dropped
        if action.kind == actions.REPORT:
            return self._report.on_press(content, state, action.arg)
        if reporting:
            if data == actions.MENU_EMERGENCY:  # the contacts, and the report waits where it was
                return [Reply(content.render("emergency")), *self._report.prompt(content, state)]
            if data in actions.MENU_ACTIONS or action.kind in actions.BROWSING_KINDS:
                return self._report.interrupted(content, state)
            return self._report.prompt(content, state, note=content.render("report_button_old"))
        browsed = self._browse(content, state, action)
        if browsed is not None:
            return browsed
        if data in actions.MENU_ACTIONS:
            return self._menu_entry(content, state, data)
        return [with_menu(content, "button_expired")]

    def _browse(self, content: Content, state: ConversationState, action: actions.Action) -> list[Reply] | None:
        """A topic, agency, country or topic group button; None when it names nothing that exists (any more)."""
        arg = action.arg
        if action.kind == actions.FAQ_TOPIC and arg in content.topics:
            return faq.answer(content, state, arg)
        if action.kind == actions.AGENCY and arg and arg.isdigit() and len(arg) <= MAX_ID_DIGITS:
            record = self._registry.get(int(arg))
            return agency.verdict(content, state, self._registry, record) if record is not None else None
        offered = None
        if action.kind == actions.OFFERED_AGENCY:
            offered = actions.offered_agency_arg(arg or "", MAX_ID_DIGITS)
        if offered is not None:
            record = self._registry.get(offered[0])
            return agency.offered_verdict(content, state, self._registry, record, offered[1]) if record else None
        if action.kind == actions.COUNTRY:
            if arg is None:
                return countries.country_list(content, state)
            return countries.country_info(content, state, arg) if arg in content.countries else None
        if action.kind == actions.TOPIC_GROUP:
            return faq.topic_group(content, state, arg or "")
        return None

    def _menu_entry(self, content: Content, state: ConversationState, data: str) -> list[Reply]:
        if data == actions.MENU_FAQ:
            return faq.topic_groups(content, state)
        if data == actions.MENU_REPORT:
            return self._report.start(content, state)
        self._reset(state)
        if data == actions.MENU_EMERGENCY:
            return [with_menu_link(content, "emergency")]
        if data == actions.MENU_AGENCY:
            return agency.start(content, state)
        if data == actions.MENU_OFFER:
            return offer.start(content, state)
        return [with_menu(content, "menu")]

    def _on_text(self, content: Content, state: ConversationState, text: str, turn: Turn,
                 forwarded: bool = False) -> list[Reply]:
        """The router: the recognisers below are tried in this order; the first that claims the message answers."""
        message = TextMessage(content, state, text.strip(), turn, self._nlu, forwarded)
        if state.flow == offer.FLOW and not offer.waiting_for_offer(state):
            offer.discard(state)  # a new message: the last offer's text is not kept
        for recognise in (self._command, self._report_step, self._empty, self._picked_option, self._agency_step,
                          self._offer_asked, self._danger, self._pasted_offer, self._report_wish, self._company,
                          self._only_a_country, self._understood):
            replies = recognise(message)
            if replies is not None:
                return replies
        raise AssertionError("the last recogniser always answers")

    # ---- the recognisers, in the router's order ---------------------------------------------------

    def _command(self, m: TextMessage) -> list[Reply] | None:
        if not m.text.startswith("/"):
            return None
        m.turn.meaning = "command"
        return self._on_command(m.content, m.state, m.text)

    def _report_step(self, m: TextMessage) -> list[Reply] | None:
        """The open report takes the text; a danger told in it gets the emergency contacts first."""
        if not self._report.in_progress(m.state):
            return None
        m.turn.meaning = "report_step"
        if m.danger == SITUATION and not self._report.answers_step(m.content, m.state, m.text):
            # "tolong, majikan datang lagi" at a step with buttons: the contacts, then the step's question again
            contacts = self._emergency_contacts(m.content, m.text, reporting=True)
            return [contacts, *self._report.prompt(m.content, m.state)]
        return self._report.on_text(m.content, m.state, m.text)

    def _empty(self, m: TextMessage) -> list[Reply] | None:
        if m.text:
            return None
        m.turn.meaning = "empty"
        return [with_menu(m.content, "empty_message")]

    def _picked_option(self, m: TextMessage) -> list[Reply] | None:
        picked = faq.picked_option(m.state, m.text)
        if picked is None:
            return None
        m.turn.meaning = "option"
        return self._on_press(m.content, m.state, picked)

    def _agency_step(self, m: TextMessage) -> list[Reply] | None:
        """Asked for a company name: the message is the name unless a sentence names it ("anak sa daftar di PT SJA,
        resmi ko?": the names in it), it clearly asks something else, it tells of a danger ("PT Sinar Jaya tahan
        paspor saya dan kunci saya di mess": the danger net answers), it says the name is not known ("tidak tahu
        namanya": how to find out and check) or it is a story without a name (the router goes on)."""
        if not agency.waiting_for_name(m.state) or m.danger == SITUATION:
            return None
        lookup = self._registry.lookup(m.text)
        if lookup.kind in (Found.NONE, Found.TOO_SHORT) and m.danger == WEAK:
            return None  # "tolong", "adik tidak bisa dihubungi": no name, the router goes on
        if lookup.kind == Found.NONE and company_mentions(m.text[:MAX_TEXT], unmarked=False) and (
                named := self._company(m)) is not None:
            return named  # "anak sa daftar di PT SJA, resmi ko?": the name after PT; "Garuda Sinar Jaya" is a name
        if lookup.kind in (Found.NONE, Found.TOO_SHORT) and m.danger is None and _name_not_known(m.text):
            m.turn.meaning = "faq/cek_perusahaan"  # "tidak tahu namanya": how to find out and check, without it
            return faq.answer(m.content, m.state, "cek_perusahaan")
        if lookup.kind == Found.NONE and _a_sentence(m.text):
            return None  # "agen bilang sa harus bayar 10 juta dulu": no name; the router goes on
        if lookup.kind not in ("clear", "several") and not STARTS_WITH_MARKER.match(m.text):  # "PT ..." is the name
            decision = self._decision(m)
            if decision.kind == ANSWER and decision.sure and decision.labels[0] not in NOT_A_NAME_INSTEAD:
                return None
        return self._verdicts(m, [(m.text, lookup)])

    def _offer_asked(self, m: TextMessage) -> list[Reply] | None:
        """Text after /tawaran, or any forwarded message: the job offer to check, unless it tells of a danger and
        reads like no offer (a forwarded "Mama tolong sa dikurung majikan": the danger net answers)."""
        if not (m.forwarded or offer.waiting_for_offer(m.state)):
            return None
        if m.danger == SITUATION and not looks_like_offer(m.text):
            return None
        return self._check_offer(m)

    def _pasted_offer(self, m: TextMessage) -> list[Reply] | None:
        """Pasted text that reads like a job offer is checked without asking first; someone telling their own story
        and asking about it ("Anak saya ... aman kah?", "pt X buka pendaftaran, aman gk") is a question."""
        if not looks_like_offer(m.text) or _ends_as_a_question(m.text) or says(m.text[:REPORT_OPENING], "report"):
            return None  # "Saya ingin membuat laporan tentang perusahaan yang ...": the report, not an offer
        return self._check_offer(m)

    def _check_offer(self, m: TextMessage) -> list[Reply]:
        m.turn.meaning = "offer"
        return offer.answer(m.content, m.state, self._registry, self._offer_rules.current(), m.text, self._reports,
                            on_check=self._count_offer)

    def _count_offer(self, check: OfferCheck) -> None:
        if self._insights is not None:
            self._insights.offer_checked(check)

    def _danger(self, m: TextMessage) -> list[Reply] | None:
        """Someone describes a danger: the emergency contacts (for the country named) first, whatever else; except
        a wish to report a case that is over ("sy mau lapor calo yg dulu jual sy, skrg sdh selamat di rumah"): the
        report, whose first question is whether anyone is in danger now. A danger that goes on told with a wish to
        report it ("kaka sa mau lapor, majikan pukul sa tiap hari di johor"): the contacts first, then the report
        begun with the message as its story."""
        if m.danger != SITUATION:
            return None
        if says(m.text, "report"):
            if told_over(m.text):
                return None
            reporting = self._report.start_with_danger(m.content, m.state, m.text)
            if reporting is not None:
                m.turn.meaning = "emergency_report"
                return [self._emergency_contacts(m.content, m.text, reporting=True), *reporting]
        m.turn.meaning = "emergency"
        asked = self._topic_asked_beside_danger(m)
        if asked is not None:  # "majikan tahan paspor sa, dong bilang itu aturan. benar ko?": both, danger first
            m.turn.meaning = emergency_then(f"faq/{asked}")
            hedged = m.understanding.source == Matcher.FALLBACK
            return [*self._emergency(m.content, m.state, m.text, []),
                    *faq.answer(m.content, m.state, asked, hedged=hedged)]
        decision = self._decision(m)
        topics = [t for t in map(faq_topic_of, decision.labels) if t is not None and t in m.content.topics]
        return self._emergency(m.content, m.state, m.text, topics[:1])

    @staticmethod
    def _topic_asked_beside_danger(m: TextMessage) -> str | None:
        """The FAQ topic NLU is sure the message asks about beside the danger it tells (its best guess after the
        emergency, at or above the threshold to act on), when that topic's answer is one for someone in danger now
        (`beside_danger` in its file), or None."""
        act_at = THRESHOLDS.get(m.understanding.source, THRESHOLDS[Matcher.RASA])[0]
        guesses = [(label, score) for label, score in m.understanding.candidates if label != "emergency"]
        if not guesses or guesses[0][1] < act_at:
            return None
        topic = m.content.topics.get(faq_topic_of(guesses[0][0]) or "")
        return topic.id if topic is not None and topic.beside_danger else None

    def _report_wish(self, m: TextMessage) -> list[Reply] | None:
        """"Saya mau lapor calo di desa": the report conversation, before any company it names is looked up;
        "laporan saya sudah sampai mana": the status of the chat's reports."""
        if says(m.text, "status"):
            m.turn.meaning = "report_status"
            return status.answer(m.content, self._reports, m.state.chat_id, status.code_or_nothing(m.text))
        if not says(m.text, "report"):
            return None
        m.turn.meaning = "report_trafficking"
        replies = self._report.start(m.content, m.state, m.text if _tells_a_case(m.text) else None)
        if m.danger == WEAK and m.heard_emergency >= HEARD_DANGER and self._report.in_progress(m.state):
            # "tolong dicatat, calo bawa ade ... sonde bisa dihubungi 3 bulan": the contacts before the report
            m.turn.meaning = "emergency_report"
            return [self._emergency_contacts(m.content, m.text, reporting=True), *replies]
        return replies

    def _company(self, m: TextMessage) -> list[Reply] | None:
        """Registry first: a licence number, registered names written whole anywhere in the message, names after
        PT/CV/agen... (found or not), or a short message that is a registered name or a part of one and of no other."""
        if ONLY_A_MARKER.fullmatch(m.text):
            m.turn.meaning = "check_agency"
            return agency.start(m.content, m.state)
        licensed = self._registry.by_licence(m.text)
        if licensed:
            return self._verdicts(m, [(m.text, found_lookup(licensed))])
        lookups: list[tuple[str, Lookup]] = []
        claimed: set[int] = set()
        unmarked = m.danger != QUESTION  # names without PT/agen, but not in a question about a danger
        for mention in company_mentions(m.text[:MAX_TEXT], unmarked=unmarked)[:MAX_COMPANIES]:
            # The name after PT decides for its span: "PT Sinar Jaya Makmur" is not PT Sinar Jaya.
            lookup = self._registry.lookup_mention(mention.text)
            if lookup.kind == Found.CLEAR and lookup.agency_ids[0] in claimed:
                continue  # the same company named twice
            lookups.append((mention.text, lookup))
            claimed.update(self._registry.named_in(mention.text))
            claimed.update(lookup.agency_ids if lookup.kind == Found.CLEAR else ())
        named = self._registry.named_in(m.text)
        lookups += [(m.text, found_lookup([owner])) for owner in named if owner not in claimed]
        if not lookups and len(m.text) <= MAX_BARE_NAME_CHARS:
            bare = self._registry.exact_lookup(m.text)
            if bare is not None and bare.kind == Found.CLEAR:
                return self._verdicts(m, [(m.text, bare)])
        if not lookups and unmarked:  # "alwihda", "multi intan ato putri samawa?": parts of names, no PT before them
            lookups = self._registry.partial_names(m.text)
        if unmarked:  # "daftar lwt alwihda jaya, aman?", "putri samawa ato ramzy cahaya karya": two words of a name
            found = claimed | set(named) | {i for _query, lookup in lookups for i in lookup.agency_ids}
            lookups += self._registry.pairs_in(m.text, found)
        return self._verdicts(m, lookups[:MAX_COMPANIES]) if lookups else None

    def _only_a_country(self, m: TextMessage) -> list[Reply] | None:
        """A country's name alone, or with words that only ask for information ("UEA", "info negara taiwan"): its
        card, whatever NLU makes of so few words."""
        named = m.countries_named
        if len(named) != 1 or m.danger is not None or not countries.only_the_country(m.content, m.text):
            return None
        m.turn.meaning = f"country:{named[0]}"
        return countries.country_info(m.content, m.state, named[0])

    def _understood(self, m: TextMessage) -> list[Reply]:
        """NLU's meaning: answer it (with "Bukan ini?" alternatives), ask between close ones, or admit defeat."""
        content, state, understanding = m.content, m.state, m.understanding
        if understanding is NOTHING:
            m.turn.meaning = "no_words"
            return [with_menu(content, "no_words")]
        decision = self._decision(m)
        danger = m.danger
        if self._needs_safety_net(m, decision):
            m.turn.meaning = "emergency"
            topics = [t for t in map(faq_topic_of, decision.labels) if t is not None and t in content.topics]
            return self._emergency(content, state, m.text, topics[:2])
        destination = self._named_destination(m) if decision.kind != ANSWER and danger is None else None
        if destination is not None:  # "kk di singapore gaji ART brp, brgkt lwt apa": nothing stood out but the place
            others = tuple(label for label in decision.labels if label != destination)
            decision = Decision(ANSWER, (destination, *others[:MAX_ALTERNATIVES]), sure=False)
        if decision.kind == ANSWER and decision.labels[0] == "out_of_scope" and not decision.sure:
            return self._not_understood(m, list(decision.labels[1:]))
        if decision.kind == ANSWER:
            label = decision.labels[0]
            m.turn.sure = decision.sure and understanding.source != Matcher.FALLBACK
            alternatives = list(decision.labels[1:])
            code = self._other_destination(m, label)
            if code is not None:  # that country's own card first, the topic offered beside it
                m.turn.meaning = f"country:{code}"
                replies = countries.country_info(content, state, code)
                alternatives.insert(0, label)
            else:
                replies = self._act_on(m, label)
            if m.emergency_set_aside and label != "emergency":
                alternatives.insert(0, "emergency")
            buttons = self._option_buttons(content, alternatives)
            if buttons and (not decision.sure or m.emergency_set_aside or code is not None):
                replies.append(Reply(content.render("not_this"), tuple(buttons)))
            return replies
        if decision.kind == CLARIFY:
            options = [*decision.labels, *(["emergency"] if m.emergency_set_aside else [])]
            buttons = self._option_buttons(content, options)
            if len(buttons) < 2:  # out of scope or small talk among them: never a question with one option or none
                return self._not_understood(m, list(decision.labels))
            m.turn.meaning = "clarify"
            return faq.clarify(content, state, buttons)
        return self._not_understood(m, [])

    def _not_understood(self, m: TextMessage, guesses: list[str]) -> list[Reply]:
        """Nothing understood, or only a guess that the message is out of scope (typos, a new way to ask, gibberish
        lean that way, and so does a close call between them): "not understood, or not something I help with; say it
        another way", with the other guesses as buttons (the emergency contacts first when NLU heard them). Only an
        agency question NLU leant to, too weakly to act on, is answered when the registry clearly finds the company
        ("elsafa resmi kah kaka")."""
        leaning = m.understanding.candidates[0][0] if m.understanding.candidates else None
        if leaning == "check_agency" and len(m.text) <= MAX_BARE_NAME_CHARS:
            lookup = self._registry.lookup(m.text)
            if lookup.kind == Found.CLEAR:
                return self._verdicts(m, [(m.text, lookup)])
        self._reset(m.state)
        m.turn.meaning = "not_understood"
        replies = [with_menu(m.content, "not_understood")]
        guesses = [*(["emergency"] if m.emergency_set_aside else []), *guesses]
        buttons = self._option_buttons(m.content, list(dict.fromkeys(guesses)))
        if buttons:
            replies.append(Reply(m.content.render("maybe_this"), tuple(buttons)))
        return replies

    # ---- helpers of the recognisers ----------------------------------------------------------------

    def _decision(self, m: TextMessage) -> Decision:
        usable = usable_labels(m.content)
        act_at, suggest_at, _margin = THRESHOLDS.get(m.understanding.source, THRESHOLDS[Matcher.RASA])
        heard = m.heard_emergency
        asked = m.danger == QUESTION or m.danger is None and (is_over(m.text) or asks_generally(m.text))
        if asked and heard < act_at:
            # A general question about a danger ("kalau paspor ditahan ..."), one that is over ("dulu dipukul,
            # sekarang sudah di rumah"), or a question asked in general ("apa itu jeratan utang"): the answer to it
            # first, unless NLU is sure it is an emergency; the emergency contacts are offered beside it when the
            # danger net or NLU saw one (`emergency_set_aside`).
            usable = usable - {"emergency"}
            m.emergency_set_aside = m.danger == QUESTION or heard >= suggest_at
        elif m.danger == WEAK:
            m.emergency_set_aside = True  # "takut", "hilang", "tolong": the contacts offered beside any answer
        return decide(m.understanding, usable)

    @staticmethod
    def _needs_safety_net(m: TextMessage, decision: Decision) -> bool:
        """Someone who may be in danger never gets "not understood", a question or "out of scope": the emergency
        contacts instead, what NLU half-understood as buttons. Only a general question about a danger ("kalau nanti
        dipukul, lapor ke mana?", a film) may be asked between close meanings, or be out of scope when NLU is sure of
        it; the emergency contacts are one tap away then. A question without a word of danger whose emergency NLU
        heard but was set aside ("maksudnya apa agen bilang adik tdk bisa dihubungi 8 bulan?") gets the contacts
        when nothing else was understood. A word that may mean danger ("takut", "hilang", "tolong") gets them unless
        a topic was understood, or NLU is sure the message is out of scope and heard no emergency in it ("kartu KIS
        hilang, urus baru di mana"); a greeting or the menu is no answer to "tolong bantu kami"."""
        if m.danger == WEAK:
            label = decision.labels[0] if decision.kind == ANSWER else None
            if label is None or (label in SIMPLE_INTENTS and label != "out_of_scope"):
                return True
            return label == "out_of_scope" and not (decision.sure and m.heard_emergency < HEARD_DANGER)
        if decision.kind == ANSWER and decision.labels[0] != "out_of_scope":
            return False
        if m.danger is None:  # nothing understood, or only guessed to be out of scope (`_not_understood`)
            return m.emergency_set_aside and (decision.kind == NOTHING_FOUND or not decision.sure)
        if not m.emergency_set_aside:  # a word of danger, not a general question
            return True
        out_of_scope_for_sure = decision.kind == ANSWER and decision.sure
        return not (decision.kind == CLARIFY or out_of_scope_for_sure)

    @staticmethod
    def _named_destination(m: TextMessage) -> str | None:
        """The label to answer for the one destination a message names: the topic opening with that country that NLU
        ranks highest, else the country's card; None when the message names no country or several, or when NLU
        gave an emergency or a report HEARD_DANGER or more (a danger is never answered with a country)."""
        named = m.countries_named
        heard = {label for label, score in m.understanding.candidates if score >= HEARD_DANGER}
        if len(named) != 1 or not heard.isdisjoint({"emergency", "report_trafficking"}):
            return None
        ranked = _ranked_topics_about(m, named[0])
        return f"faq/{ranked[0]}" if ranked else "country_info"

    @staticmethod
    def _other_destination(m: TextMessage, label: str) -> str | None:
        """The one country the message names when `label` is a destination topic that opens with other countries
        ("kerja di jepang?" heard as the topic that opens with Korea); None otherwise."""
        topic = m.content.topics.get(faq_topic_of(label) or "")
        if topic is None or not topic.countries:
            return None
        named = m.countries_named
        return named[0] if len(named) == 1 and named[0] not in topic.countries else None

    def _act_on(self, m: TextMessage, label: str) -> list[Reply]:
        content, state, understanding = m.content, m.state, m.understanding
        topic = faq_topic_of(label)
        m.turn.meaning = label
        if topic is not None:
            return faq.answer(content, state, topic, hedged=understanding.source == Matcher.FALLBACK)
        if label == "check_agency":
            return self._check_agency(m)
        if label == "country_info":
            return self._country(m)
        if label == "report_status":
            return status.answer(content, self._reports, state.chat_id, status.code_or_nothing(m.text))
        if label == "emergency":
            return self._emergency(content, state, m.text, [])
        if label in MENU_INTENTS:
            return self._menu_entry(content, state, MENU_INTENTS[label])
        self._reset(state)
        return [with_menu(content, SIMPLE_INTENTS[label])]

    def _verdicts(self, m: TextMessage, lookups: list[tuple[str, Lookup]]) -> list[Reply]:
        lookups = [(query, agency.under_other_form(self._registry, lookup, m.text)) for query, lookup in lookups]
        m.turn.meaning = "agency:" + "|".join(_verdict_meaning(lookup) for _query, lookup in lookups)
        replies: list[Reply] = []
        for query, lookup in lookups:
            replies.extend(agency.answer_lookup(m.content, m.state, self._registry, query, lookup, m.text))
        if m.danger == WEAK:  # "tolong, agen dari PT Sinar Jaya bawa ade sa": the contacts one tap away
            replies.append(Reply(m.content.render("not_this"), tuple(self._option_buttons(m.content, ["emergency"]))))
        return replies

    def _emergency(self, content: Content, state: ConversationState, text: str, topics: list[str]) -> list[Reply]:
        self._reset(state)
        buttons = [Button(content.label("menu_report"), actions.MENU_REPORT)]
        buttons += [Button(content.topics[t].title, actions.faq_topic(t)) for t in topics]
        buttons.append(back_to_menu_button(content))
        return [Reply(self._emergency_contacts(content, text).text, tuple(buttons))]

    @staticmethod
    def _emergency_contacts(content: Content, text: str, reporting: bool = False) -> Reply:
        """The emergency contacts, with those of the country the message names; `reporting`: a report is begun
        right after them (no button to begin one)."""
        code = countries.country_in_text(content, text)
        country = content.countries.get(code) if code else None
        return Reply(content.render("emergency_now", country=country, reporting=reporting))

    def _on_command(self, content: Content, state: ConversationState, text: str) -> list[Reply]:
        command, _, argument = text.partition(" ")
        command = command.split("@")[0].lower()
        target = COMMANDS.get(command)
        if target == "status":
            return status.answer(content, self._reports, state.chat_id, argument.strip())
        if target == "privacy":
            return [with_menu(content, "privacy", retention_days=self.retention_days,
                              reports_on=self._reports is not None)]
        if target == "erase":
            return self._erase(content, state)
        if self._report.in_progress(state):
            return self._command_while_reporting(content, state, target, command)
        if target is None:
            return [with_menu(content, "unknown_command", command=command[:32])]
        if target == "start":
            self._reset(state)
            return [with_menu(content, "greeting")]
        if target == "help":
            return [with_menu(content, "help")]
        if target == "cancel":
            had_something = state.flow is not None
            self._reset(state)
            return [with_menu(content, "cancelled" if had_something else "nothing_to_cancel")]
        return self._menu_entry(content, state, target)

    def _erase(self, content: Content, state: ConversationState) -> list[Reply]:
        """/hapus: delete the chat's state and drafts; filed reports stay with the task force, unlinked from it."""
        unlinked = self._reports.forget_chat(state.chat_id) if self._reports is not None else 0
        state.erase()
        log.info("a chat asked to erase its data (%d filed report(s) unlinked)", unlinked)
        return [with_menu(content, "erased", unlinked=unlinked)]

    def _command_while_reporting(self, content: Content, state: ConversationState, target: str | None,
                                 command: str) -> list[Reply]:
        """Commands mid-report keep the draft: /batal asks first, /lapor resumes, the others add their answer."""
        if target == "cancel":
            return self._report.ask_cancel(content, state)
        if target == actions.MENU_REPORT:
            return self._report.prompt(content, state)
        if target == actions.MENU_EMERGENCY:
            return [Reply(content.render("emergency"))] + self._report.prompt(content, state)
        if target == "help":
            return [Reply(content.render("help"))] + self._report.prompt(content, state)
        if target is None:
            unknown = Reply(content.render("unknown_command", command=command[:32]))
            return [unknown, *self._report.prompt(content, state)]
        return self._report.interrupted(content, state)

    def _check_agency(self, m: TextMessage) -> list[Reply]:
        """'cek PT sinar jaya': the name NLU found (or the longer company-like rest of the message); a name of two
        words or more like registered ones but none of them ("bintang sinar jaya resmi ko"): not found, those shown
        as other companies; without a name, ask for it."""
        values = [str(e.get("value") or "") for e in m.understanding.entities
                  if e["entity"] in ("agency_name", "licence_number")]
        named = [value for value in values if normalise_name(value)]  # not a legal form alone ("cek pt")
        rest = clean_query(m.text)
        if named:
            query = rest if len(rest) > len(named[0]) and clean_query(named[0]) in rest else named[0]
            return self._verdicts(m, [(query, self._registry.lookup(query))])
        lookup = self._registry.lookup(m.text)  # "multi intan resmi kah": the rest of the message may be the name
        if lookup.kind in (Found.CLEAR, Found.SEVERAL):
            return self._verdicts(m, [(m.text, lookup)])
        if lookup.kind == Found.NONE and lookup.agency_ids and 2 <= len(rest.split()) <= MAX_NAME_WORDS:
            return self._verdicts(m, [(rest, lookup)])
        return agency.start(m.content, m.state)

    def _country(self, m: TextMessage) -> list[Reply]:
        """The country NLU found, else one named in the text, else the list of countries. A question about working
        in a country a topic is about ("sy mau ke taiwan jaga lansia, infonya gimana") gets that topic, the
        country's card beside it; the country's name alone ("Taiwan", "info soal UEA dong") gets the card."""
        named = [str(e.get("value") or "") for e in m.understanding.entities if e["entity"] == "country"]
        for name in named or [m.text]:
            code = countries.country_in_text(m.content, name)
            if code is None:
                continue
            topic = self._country_topic(m, code)
            if topic is None:
                m.turn.meaning = f"country:{code}"
                return countries.country_info(m.content, m.state, code)
            m.turn.meaning = f"faq/{topic}"
            card = Button(m.content.countries[code].name, actions.country(code))
            return [*faq.answer(m.content, m.state, topic), Reply(m.content.render("not_this"), (card,))]
        return countries.country_list(m.content, m.state)

    @staticmethod
    def _country_topic(m: TextMessage, code: str) -> str | None:
        """The topic about working in the country (the one NLU ranks highest when several are), unless the message
        only names it ("info negara taiwan")."""
        if countries.only_the_country(m.content, m.text):
            return None
        about = [t for t, topic in m.content.topics.items() if code in topic.countries]
        return next(iter(_ranked_topics_about(m, code) or about), None)

    @staticmethod
    def _option_buttons(content: Content, labels: list[str]) -> list[Button]:
        """Buttons for meanings offered as alternatives or choices: FAQ topics and menu entries."""
        menu_labels = {b.data: b.label for b in main_menu_buttons(content)}
        menu_labels[actions.country()] = content.label("country_list")
        targets = {**MENU_INTENTS, "country_info": actions.country()}
        buttons = []
        for label in labels:
            topic = faq_topic_of(label)
            if topic in content.topics:
                buttons.append(Button(content.topics[topic].title, actions.faq_topic(topic)))
            elif label in targets:
                buttons.append(Button(menu_labels[targets[label]], targets[label]))
        return buttons

    @staticmethod
    def _reset(state: ConversationState) -> None:
        state.reset()
