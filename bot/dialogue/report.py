"""The reporter's conversation: short, skippable steps, saved after each one, then a summary and a code.

The draft lives in the chat state (`state.data["report"]`); what the reporter writes is kept there encrypted
(`secret`), the choices (category, place codes, evidence file ids) in the clear.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from db.chat_state import ConversationState
from markupsafe import Markup

from bot.content import Content
from bot.dialogue import actions, countries
from bot.dialogue.agency import ntt_branches
from bot.dialogue.menu import with_menu, with_menu_link
from bot.dialogue.messages import Button, Reply
from bot.nlu.normalise import normalise
from bot.registry.service import AgencyRegistry
from bot.reports.service import ReportService, place_name
from bot.textformat import TELEGRAM_TEXT_LIMIT, telegram_len, utf16_cut, utf16_len

FLOW = "report"
STEPS = ("danger", "what", "category", "where", "who", "when", "evidence", "contact", "confirm")
EDITABLE = ("what", "category", "where", "who", "when", "evidence", "contact")
WHERE_STEPS = ("where", "where_ntt", "where_country", "where_place")
SECRET_FIELDS = ("what", "who", "when", "place", "phone")  # what the reporter typed: encrypted in the draft
MAX_STORY = 2000  # UTF-16 units, as Telegram counts (an emoji counts 2)
MAX_SHORT = 500
MAX_EVIDENCE = 10
EVIDENCE_KINDS = ("photo", "document", "voice", "audio", "video")
VOICE_KINDS = ("voice", "audio")
YES_WORDS = {"ya", "iya", "y", "ada", "yes", "betul", "benar", "bahaya", "tolong"}
NO_WORDS = {"tidak", "tdk", "gak", "ga", "nggak", "ngga", "enggak", "ndak", "sonde", "son", "no", "aman", "belum"}
# Typed words for the buttons, after normalisation (slang mapped: "tdk"/"sonde" -> "tidak").
TYPED_CANCEL = {"batal", "batalkan", "batalkan laporan", "cancel", "tidak jadi", "tidak jadi lapor", "stop"}
TYPED_WORDS: dict[str, dict[str, str]] = {
    "any": {"lewati": "skip", "lewat": "skip", "skip": "skip", "lanjut": "skip", "tidak tahu": "skip",
            "tidak ada": "skip", "-": "skip"},
    "danger": {"ya": "danger_yes", "iya": "danger_yes", "ada": "danger_yes", "tidak": "danger_no",
               "tidak ada": "danger_no", "aman": "danger_no"},
    "evidence": {"selesai": "evidence_done", "sudah": "evidence_done", "sudah semua": "evidence_done",
                 "tidak ada": "evidence_done", "lewati": "evidence_done", "skip": "evidence_done",
                 "tidak punya": "evidence_done", "done": "evidence_done"},
    "confirm": {"kirim": "send", "kirim laporan": "send", "ya kirim": "send", "ya": "send", "send": "send",
                "ubah": "edit", "edit": "edit", "ganti": "edit"},
}
TYPED_CONTACT = {
    "anonim": "report_contact_anonymous", "anonymous": "report_contact_anonymous",
    "tanpa nama": "report_contact_anonymous", "rahasia": "report_contact_anonymous",
    "jangan hubungi": "report_contact_anonymous", "jangan hubungi saya": "report_contact_anonymous",
    "lewat bot": "report_contact_bot", "lewat bot saja": "report_contact_bot", "bot saja": "report_contact_bot",
    "kabari lewat bot": "report_contact_bot", "lewati": "report_contact_bot", "skip": "report_contact_bot",
    "tidak": "report_contact_bot", "tidak mau": "report_contact_bot",
}
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")
_COMPANY = re.compile(r"\b(?:pt|p\.t\.?|cv)\s+[^\n,;:()]{3,60}", re.IGNORECASE)


def _r(arg: str) -> str:
    return f"{actions.REPORT}:{arg}"


class ReportFlow:
    def __init__(self, service: ReportService | None, registry: AgencyRegistry):
        self._service = service
        self._registry = registry
        self._on_press_at: dict[str, Callable] = {
            "danger": self._press_danger, "category": self._press_category, "where": self._press_where,
            "where_ntt": self._press_regency, "where_country": self._press_country, "when": self._press_when,
            "evidence": self._press_evidence, "confirm": self._press_confirm,
        }
        self._on_text_at: dict[str, Callable] = {
            "danger": self._text_danger, "what": self._text_what, "where": self._text_place,
            "where_ntt": self._text_place, "where_country": self._text_place, "where_place": self._text_place,
            "who": self._text_who, "when": self._text_when, "evidence": self._text_evidence,
            "contact": self._text_contact,
        }

    def in_progress(self, state: ConversationState) -> bool:
        """A draft is open (and reports are switched on: a draft left from before they were off is ignored)."""
        return self._service is not None and state.flow == FLOW and isinstance(state.data.get("report"), dict)

    # ---- entry, interruptions, cancelling ----------------------------------------------------

    def start(self, content: Content, state: ConversationState) -> list[Reply]:
        if self._service is None:
            state.reset()
            return [with_menu_link(content, "report_not_ready")]
        if self.in_progress(state):
            return self.prompt(content, state)
        if self._service.reports_left_today(state.chat_id) <= 0:  # REPORTS_PER_DAY from one chat
            return [with_menu(content, "report_quota", limit=self._service.reports_per_day)]
        state.enter(FLOW, "danger", {"report": {"key": secrets.token_urlsafe(18)}})
        return self.prompt(content, state)

    def start_prefilled(self, content: Content, state: ConversationState, story: str,
                        agency_text: str | None) -> list[Reply]:
        """A report begun from a checked job offer: the offer is the story and the company it names is who is
        involved. After the danger question the reporter lands on the summary, to add details or send."""
        if self._service is None or self.in_progress(state):
            return self.start(content, state)  # reports off, or a draft already open: never overwrite it
        self.start(content, state)
        self._set_secret(state, "what", utf16_cut(story, MAX_STORY))
        if agency_text:
            self._set_secret(state, "who", utf16_cut(agency_text, MAX_SHORT))
            record = self._agency_named(agency_text)
            state.data["report"]["agency_id"] = record.id if record is not None else None
        # Anonymous until the reporter chooses otherwise on the summary ("Ubah"): the bot never writes first to
        # someone who did not ask for news.
        state.data["report"]["contact"] = "anonymous"
        state.data["report"]["editing"] = True  # the danger answer then goes straight to the summary
        return self.prompt(content, state)

    def interrupted(self, content: Content, state: ConversationState) -> list[Reply]:
        """/start or a menu button mid-report: continue or cancel, never lose the draft silently."""
        return [Reply(content.render("report_interrupted"), self.reminder(content).buttons)]

    def reminder(self, content: Content) -> Reply:
        return Reply(content.render("report_draft_reminder"), (
            Button(content.label("report_resume"), _r("resume")),
            Button(content.label("report_cancel"), _r("cancel_yes")),
        ))

    def ask_cancel(self, content: Content, state: ConversationState) -> list[Reply]:
        return [Reply(content.render("report_cancel_confirm"), (
            Button(content.label("report_cancel_yes"), _r("cancel_yes")),
            Button(content.label("report_resume"), _r("resume")),
        ))]

    def prompt(self, content: Content, state: ConversationState, note: str | None = None) -> list[Reply]:
        """The question of the current step (again), optionally after a short note."""
        draft = state.data["report"]
        step = state.step
        cancel = Button(content.label("report_cancel"), _r("cancel"))
        skip = Button(content.label("report_skip"), _r("skip"))
        context = {"note": Markup(note) if note else None}  # notes are our own rendered templates
        if step == "danger":
            return [Reply(content.render("report_start", **context), (
                Button(content.label("report_danger_yes"), _r("danger_yes")),
                Button(content.label("report_danger_no"), _r("danger_no")), cancel))]
        if step == "what":
            return [Reply(content.render("report_ask_what", **context), (cancel,))]
        if step == "category":
            options = tuple(Button(label, _r(f"cat_{key}"))
                            for key, label in content.report_options.categories.items())
            return [Reply(content.render("report_ask_category", **context), (*options, skip, cancel))]
        if step == "where":
            return [Reply(content.render("report_ask_where", **context), (
                Button(content.label("report_where_ntt"), _r("where_ntt")),
                Button(content.label("report_where_indonesia"), _r("where_indonesia")),
                Button(content.label("report_where_abroad"), _r("where_abroad")), skip, cancel))]
        if step == "where_ntt":
            options = tuple(Button(name, _r(f"reg_{code}"))
                            for code, name in content.report_options.regencies.items())
            return [Reply(content.render("report_ask_regency", **context), (*options, skip, cancel), columns=2)]
        if step == "where_country":
            options = tuple(Button(content.countries[code].name, _r(f"ctry_{code}"))
                            for code in countries.ordered_codes(content))
            other = Button(content.label("report_other_country"), _r("ctry_other"))
            return [Reply(content.render("report_ask_country", **context), (*options, other, skip, cancel),
                          columns=2)]
        if step == "where_place":
            return [Reply(content.render("report_ask_place", abroad=draft.get("where") == "abroad", **context),
                          (skip, cancel))]
        if step == "who":
            return [Reply(content.render("report_ask_who", **context), (skip, cancel))]
        if step == "when":
            options = tuple(Button(label, _r(f"when_{key}")) for key, label in content.report_options.when.items())
            return [Reply(content.render("report_ask_when", **context), (*options, skip, cancel))]
        if step == "evidence":
            count = len(draft.get("evidence") or ())
            done = Button(content.label("report_evidence_done" if count else "report_skip"), _r("evidence_done"))
            return [Reply(content.render("report_ask_evidence", count=count, **context), (done, cancel))]
        if step == "contact":
            return [Reply(content.render("report_ask_contact", **context), keyboard=(
                content.label("report_contact_share"), content.label("report_contact_bot"),
                content.label("report_contact_anonymous")))]
        return self._summary(content, state, context["note"])

    # ---- input -------------------------------------------------------------------------------

    def on_press(self, content: Content, state: ConversationState, arg: str | None) -> list[Reply]:
        arg = arg or ""
        if not self.in_progress(state):
            if arg == "send" and state.data.get("sent_code"):  # the same press again: the report is filed
                return [with_menu(content, "report_already_sent", code=state.data["sent_code"])]
            if arg in ("resume", "cancel", "cancel_yes", "send"):
                return [with_menu(content, "report_no_draft")]
            return [with_menu(content, "button_expired")]
        if arg == "resume":
            return self.prompt(content, state)
        if arg == "cancel":
            return self.ask_cancel(content, state)
        if arg == "cancel_yes":
            state.reset()
            return [with_menu(content, "report_cancelled")]
        if arg == "skip" and state.step not in ("danger", "what", "contact", "confirm"):
            return self._advance(content, state)
        handler = self._on_press_at.get(state.step or "")
        replies = handler(content, state, arg) if handler else None
        if replies is None:  # a button of another step (an old message) or forged data
            return self.prompt(content, state, note=content.render("report_button_old"))
        return replies

    def on_text(self, content: Content, state: ConversationState, text: str) -> list[Reply]:
        text = text.strip()
        if not text:
            return self.prompt(content, state, note=content.render("report_empty"))
        typed = self._typed_button(content, state, text)
        if typed is not None:  # the keyboard is often hidden on phones: typed words work like the buttons
            return self.on_press(content, state, typed)
        handler = self._on_text_at.get(state.step or "")
        if handler is None:
            return self.prompt(content, state, note=content.render("report_use_buttons"))
        return handler(content, state, text)

    def on_attachment(self, content: Content, state: ConversationState, kind: str, file_id: str | None,
                      phone: str | None) -> list[Reply]:
        draft = state.data["report"]
        if state.step == "contact" and kind == "contact" and phone:
            return self._set_phone(content, state, phone)
        if state.step == "what" and kind in VOICE_KINDS and file_id:
            # Telling it by voice is easier for many than typing: the voice note is the story (and evidence).
            # A new voice story (through "edit") replaces the earlier one; the evidence cap holds on every path.
            evidence = [item for item in draft.get("evidence") or [] if item != draft.get("story_voice")]
            if len(evidence) >= MAX_EVIDENCE:
                return self.prompt(content, state, note=content.render("report_evidence_full", limit=MAX_EVIDENCE))
            draft["evidence"] = [*evidence, [kind, file_id]]
            draft["story_voice"] = [kind, file_id]
            draft["story_by_voice"] = True
            return self._advance(content, state, content.render("report_story_voice"))
        if state.step != "evidence":
            return self.prompt(content, state, note=content.render("report_attachment_not_now", kind=kind))
        if kind not in EVIDENCE_KINDS or not file_id:
            return self.prompt(content, state, note=content.render("report_attachment_not_evidence", kind=kind))
        evidence = list(draft.get("evidence") or [])
        if len(evidence) >= MAX_EVIDENCE:
            return self.prompt(content, state, note=content.render("report_evidence_full", limit=MAX_EVIDENCE))
        if [kind, file_id] not in evidence:
            evidence.append([kind, file_id])
        draft["evidence"] = evidence
        return self.prompt(content, state, note=content.render("report_evidence_received", count=len(evidence)))

    # ---- steps -------------------------------------------------------------------------------

    def _press_danger(self, content, state, arg):
        if arg not in ("danger_yes", "danger_no"):
            return None
        return self._answer_danger(content, state, arg == "danger_yes")

    def _text_danger(self, content, state, text):
        words = set(normalise(text).split())
        if words & YES_WORDS and not words & NO_WORDS:
            return self._answer_danger(content, state, True)
        if words & NO_WORDS:
            return self._answer_danger(content, state, False)
        return self.prompt(content, state, note=content.render("report_use_buttons"))

    def _answer_danger(self, content, state, urgent: bool):
        state.data["report"]["urgent"] = urgent
        replies = [Reply(content.render("report_emergency"))] if urgent else []
        return replies + self._advance(content, state)

    def _text_what(self, content, state, text):
        if not any(ch.isalpha() for ch in text):
            return self.prompt(content, state, note=content.render("report_need_words"))
        self._set_secret(state, "what", utf16_cut(text, MAX_STORY))
        state.data["report"].pop("story_by_voice", None)
        note = content.render("report_story_cut", limit=MAX_STORY) if utf16_len(text) > MAX_STORY else None
        return self._advance(content, state, note)

    def _press_category(self, content, state, arg):
        key = arg.removeprefix("cat_")
        if not arg.startswith("cat_") or key not in content.report_options.categories:
            return None
        state.data["report"]["category"] = key
        return self._advance(content, state)

    def _press_where(self, content, state, arg):
        draft = state.data["report"]
        if arg == "where_ntt":
            state.step = "where_ntt"
        elif arg == "where_abroad":
            state.step = "where_country"
        elif arg == "where_indonesia":
            draft["where"], draft["place_code"] = "indonesia", None
            state.step = "where_place"
        else:
            return None
        return self.prompt(content, state)

    def _press_regency(self, content, state, arg):
        code = arg.removeprefix("reg_")
        if not arg.startswith("reg_") or code not in content.report_options.regencies:
            return None
        return self._set_place(content, state, "ntt", code)

    def _press_country(self, content, state, arg):
        if arg == "ctry_other":
            state.data["report"]["where"], state.data["report"]["place_code"] = "abroad", None
            state.step = "where_place"
            return self.prompt(content, state)
        code = arg.removeprefix("ctry_")
        if not arg.startswith("ctry_") or code not in content.countries:
            return None
        return self._set_place(content, state, "abroad", code)

    def _text_place(self, content, state, text):
        """A typed place: a regency or a country we know becomes a choice, anything else is kept as written."""
        regency = _regency_in_text(content, text)
        country = countries.country_in_text(content, text)
        if regency is not None and state.step != "where_country":
            return self._set_place(content, state, "ntt", regency)
        if country is not None:
            return self._set_place(content, state, "abroad", country)
        draft = state.data["report"]
        if state.step == "where_ntt":
            draft["where"] = "ntt"
        elif state.step == "where_country":
            draft["where"] = "abroad"
        draft.setdefault("where", None)
        draft["place_code"] = None
        self._set_secret(state, "place", utf16_cut(text, MAX_SHORT))
        return self._advance(content, state)

    def _set_place(self, content, state, kind: str, code: str):
        draft = state.data["report"]
        draft["where"], draft["place_code"] = kind, code
        self._set_secret(state, "place", None)
        missions = content.countries[code].missions if kind == "abroad" else None
        replies = []
        if kind == "abroad" and draft.get("urgent"):
            replies.append(Reply(content.render("report_country_help", country=content.countries[code],
                                                missions=missions or [])))
        return replies + self._advance(content, state)

    def _text_who(self, content, state, text):
        self._set_secret(state, "who", utf16_cut(text, MAX_SHORT))
        draft = state.data["report"]
        draft["agency_id"] = None
        note = None
        record = self._agency_named(text)
        if record is not None:
            draft["agency_id"] = record.id
            note = content.render("report_agency_note", agency=record, stamp=self._registry.stamp(record),
                                  ntt_branches=ntt_branches(record))
        return self._advance(content, state, note)

    def _agency_named(self, text: str):
        """The registry's agency when the text clearly names one ("PT Sinar Jaya", or just a company name)."""
        named = _COMPANY.search(text)
        query = named.group(0) if named else (text if len(text.split()) <= 5 else None)
        if query is None:
            return None
        lookup = self._registry.lookup(query)
        return self._registry.get(lookup.agency_ids[0]) if lookup.kind == "clear" else None

    def _press_when(self, content, state, arg):
        key = arg.removeprefix("when_")
        if not arg.startswith("when_") or key not in content.report_options.when:
            return None
        self._set_secret(state, "when", content.report_options.when[key])
        return self._advance(content, state)

    def _text_when(self, content, state, text):
        self._set_secret(state, "when", utf16_cut(text, MAX_SHORT))
        return self._advance(content, state)

    def _press_evidence(self, content, state, arg):
        return self._advance(content, state) if arg == "evidence_done" else None

    def _text_evidence(self, content, state, text):
        return self.prompt(content, state, note=content.render("report_evidence_text"))

    def _typed_button(self, content: Content, state: ConversationState, text: str) -> str | None:
        """The button a typed answer means: its label, or a word for it (batal, lewati, selesai, kirim, ubah)."""
        said = normalise(text)
        if said in TYPED_CANCEL:
            return "cancel"
        if state.step in ("what", "who", "when", "where_place", "contact"):  # free text is the answer there
            return None
        skippable = state.step not in ("danger", "confirm")
        words = (TYPED_WORDS["any"] if skippable else {}) | TYPED_WORDS.get(state.step or "", {})
        if said in words:
            return words[said]
        buttons = [b for reply in self.prompt(content, state) for b in reply.buttons]
        return next((b.data.removeprefix(f"{actions.REPORT}:") for b in buttons
                     if b.data.startswith(f"{actions.REPORT}:") and normalise(b.label) == said), None)

    def _text_contact(self, content, state, text):
        draft = state.data["report"]
        said = normalise(text)
        if said in TYPED_CONTACT:
            text = content.label(TYPED_CONTACT[said])
        if text == content.label("report_contact_bot"):
            draft["contact"] = "bot"
            self._set_secret(state, "phone", None)
        elif text == content.label("report_contact_anonymous"):
            draft["contact"] = "anonymous"
            self._set_secret(state, "phone", None)
        elif text == content.label("report_contact_share"):
            return self.prompt(content, state, note=content.render("report_contact_button_help"))
        else:
            return self._set_phone(content, state, text)
        return self._after_contact(content, state)

    def _set_phone(self, content, state, phone: str):
        digits = re.sub(r"\D", "", phone)
        if not _PHONE_CHARS.match(phone.strip()) or not 8 <= len(digits) <= 15:
            return self.prompt(content, state, note=content.render("report_phone_invalid"))
        state.data["report"]["contact"] = "phone"
        self._set_secret(state, "phone", phone.strip()[:30])
        return self._after_contact(content, state)

    def _after_contact(self, content, state):
        return [Reply(content.render("report_contact_noted", mode=state.data["report"]["contact"]),
                      remove_keyboard=True)] + self._advance(content, state)

    def _press_confirm(self, content, state, arg):
        draft = state.data["report"]
        if arg == "send":
            report = self._service.submit(draft, state.chat_id)
            # Anonymous means unlinkable: nothing about the report stays with this chat (the reporter was told to
            # save the code); otherwise the code answers a second press of "send".
            sent = {"sent_code": report.code} if report.contact_mode != "anonymous" else {}
            state.reset(sent)
            return [with_menu(content, "report_sent", report=report)]
        if arg == "edit":
            return [Reply(content.render("report_edit_which"), tuple(
                Button(content.label(f"report_edit_{field}"), _r(f"edit_{field}")) for field in EDITABLE
            ) + (Button(content.label("report_back_to_summary"), _r("resume")),))]
        field = arg.removeprefix("edit_")
        if arg.startswith("edit_") and field in EDITABLE:
            draft["editing"] = True
            state.step = field
            return self.prompt(content, state)
        return None

    # ---- helpers -----------------------------------------------------------------------------

    def _advance(self, content: Content, state: ConversationState, note: str | None = None) -> list[Reply]:
        draft = state.data["report"]
        current = "where" if state.step in WHERE_STEPS else state.step
        if draft.pop("editing", False) or current == "confirm":
            state.step = "confirm"
        else:
            state.step = STEPS[STEPS.index(current) + 1]
        return self.prompt(content, state, note)

    def _summary(self, content: Content, state: ConversationState, note: str | None) -> list[Reply]:
        draft = state.data["report"]
        secret = dict.fromkeys(SECRET_FIELDS) | self._service.open_draft(draft)
        options = content.report_options
        place = place_name(content, draft.get("where"), draft.get("place_code")) or secret.get("place")
        agency = self._registry.get(draft["agency_id"]) if draft.get("agency_id") else None
        context = dict(draft=draft, place=place, agency=agency, evidence=len(draft.get("evidence") or ()),
                       category=options.categories.get(draft.get("category") or ""))
        text = content.render("report_summary", secret=secret, note=note, **context)
        if telegram_len(text) > TELEGRAM_TEXT_LIMIT:  # a long story (emoji count double): show its start, say so
            shown = dict(secret, what="")
            room = TELEGRAM_TEXT_LIMIT - telegram_len(content.render("report_summary", secret=shown, note=note,
                                                                     **context)) - 200
            story = secret.get("what") or ""
            head = utf16_cut(story, max(0, room))
            cut_note = content.render("report_summary_cut")
            note = Markup(f"{note}\n\n{cut_note}") if note else Markup(cut_note)  # our own templates
            text = content.render("report_summary", secret=dict(secret, what=f"{head} […]"), note=note, **context)
        return [Reply(text, (
            Button(content.label("report_send"), _r("send")),
            Button(content.label("report_edit"), _r("edit")),
            Button(content.label("report_cancel"), _r("cancel")),
        ))]

    def _set_secret(self, state: ConversationState, field: str, value: str | None) -> None:
        draft = state.data["report"]
        secret = self._service.open_draft(draft)
        secret[field] = value
        self._service.seal_draft(draft, secret)


def _regency_in_text(content: Content, text: str) -> str | None:
    words = f" {normalise(text)} "
    for code, name in content.report_options.regencies.items():
        bare = normalise(name.replace("Kab.", "").replace("Kota", ""))
        if f" {bare} " in words:
            return code
    return None

