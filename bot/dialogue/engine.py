"""The dialogue engine: one message in, replies out; the chat's state is loaded and saved around every step."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from db.chat_state import ChatStateRepository, ConversationState

from bot.content import Content, ContentStore
from bot.dialogue import actions, agency, countries, faq, report, status
from bot.dialogue.menu import main_menu_buttons, with_menu, with_menu_link
from bot.dialogue.messages import Button, Incoming, Reply, Turn
from bot.nlu.normalise import mentions_danger
from bot.nlu.service import Nlu
from bot.nlu.understanding import NOTHING, UNSURE, Understanding, faq_topic_of
from bot.registry.service import AgencyRegistry
from bot.reports.service import ReportService

log = logging.getLogger(__name__)

# Confidence needed to act on what NLU understood, and to offer it as a "did you mean" option.
# The fuzzy fallback matcher scores differently from Rasa, so it has its own, stricter pair.
THRESHOLDS = {"rasa": (0.60, 0.25), "fallback": (0.85, 0.60)}
MAX_CLARIFY_OPTIONS = 3
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
}


class Engine:
    def __init__(self, content: ContentStore, nlu: Nlu, states: ChatStateRepository, registry: AgencyRegistry,
                 reports: ReportService | None = None):
        self._content = content
        self._nlu = nlu
        self._states = states
        self._registry = registry
        self._reports = reports
        self._report = report.ReportFlow(reports, registry)

    def handle(self, message: Incoming) -> Turn:
        state = self._states.load(message.chat_id)
        if message.update_id is not None and (state.last_update_id or 0) >= message.update_id:
            log.info("ignored a redelivered update")
            return Turn()
        content = self._content.current()
        turn = Turn()
        if message.press is not None:
            turn.replies = self._on_press(content, state, message.press)
        elif message.attachment is not None:
            turn.replies = self._on_attachment(content, state, message)
        else:
            turn.replies = self._on_text(content, state, message.text or "", turn)
        state.last_update_id = message.update_id or state.last_update_id
        if self._report.in_progress(state):
            state.data["report"].pop("reminded", None)
        self._states.save(state)
        return turn

    def remind_idle_drafts(self, now: datetime) -> list[tuple[int, Reply]]:
        """Report drafts idle for a day: remind once; a day after the reminder, delete the draft and say so."""
        content = self._content.current()
        messages = []
        for state in self._states.in_flow(report.FLOW, now - DRAFT_IDLE):
            if not self._report.in_progress(state):
                continue
            if state.data["report"].get("reminded"):
                self._states.clear(state.chat_id)
                messages.append((state.chat_id, with_menu(content, "report_draft_expired")))
            else:
                state.data["report"]["reminded"] = True
                self._states.save(state)
                messages.append((state.chat_id, self._report.reminder(content)))
        return messages

    def forget(self, chat_id: int) -> None:
        """Start the chat's conversation afresh."""
        self._states.clear(chat_id)

    def _on_attachment(self, content: Content, state: ConversationState, message: Incoming) -> list[Reply]:
        if self._report.in_progress(state):
            return self._report.on_attachment(content, state, message.attachment, message.file_id, message.phone)
        return [with_menu(content, "attachment_outside_flow", kind=message.attachment)]

    def _on_press(self, content: Content, state: ConversationState, data: str) -> list[Reply]:
        action = actions.parse(data)
        reporting = self._report.in_progress(state)
        if action is None:
            log.info("rejected malformed button data (%d bytes)", len(data.encode("utf-8", "replace")))
            if reporting:
                return self._report.prompt(content, state, note=content.render("report_button_old"))
            return [with_menu(content, "button_expired")]
        if action.kind == actions.REPORT:
            return self._report.on_press(content, state, action.arg)
        if reporting:
            if data in actions.MENU_ACTIONS or action.kind in actions.BROWSING_KINDS:
                return self._report.interrupted(content, state)
            return self._report.prompt(content, state, note=content.render("report_button_old"))
        if action.kind == actions.FAQ_TOPIC and action.arg in content.topics:
            return faq.answer(content, state, action.arg)
        if action.kind == actions.AGENCY and action.arg and action.arg.isdigit():
            record = self._registry.get(int(action.arg))
            if record is not None:
                return agency.verdict(content, state, self._registry, record)
        if action.kind == actions.COUNTRY:
            if action.arg is None:
                return countries.country_list(content, state)
            if action.arg in content.countries:
                return countries.country_info(content, state, action.arg)
        if action.kind == actions.TOPIC_GROUP:
            replies = faq.topic_group(content, state, action.arg or "")
            if replies is not None:
                return replies
        if data in actions.MENU_ACTIONS:
            return self._menu_entry(content, state, data)
        return [with_menu(content, "button_expired")]

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
        return [with_menu(content, "menu")]

    def _on_text(self, content: Content, state: ConversationState, text: str, turn: Turn) -> list[Reply]:
        text = text.strip()
        if text.startswith("/"):
            return self._on_command(content, state, text)
        if self._report.in_progress(state):
            return self._report.on_text(content, state, text)
        if not text:
            return [with_menu(content, "empty_message")]
        picked = faq.picked_option(state, text)
        if picked is not None:
            return self._on_press(content, state, picked)
        lookup = self._registry.lookup(text) if agency.waiting_for_name(state) else None
        if lookup is not None and lookup.kind in ("clear", "several"):
            return agency.answer_lookup(content, state, self._registry, text, lookup)
        understanding = self._nlu.understand(text)
        turn.intent, turn.confidence = understanding.intent, round(understanding.confidence, 4)
        if lookup is not None and not self._acts_on(understanding, outside_agency=True):
            # The user was asked for a company name and did not ask something else: this was the name.
            return agency.answer_lookup(content, state, self._registry, text, lookup)
        return self._route(content, state, understanding, text)

    def _on_command(self, content: Content, state: ConversationState, text: str) -> list[Reply]:
        command, _, argument = text.partition(" ")
        command = command.split("@")[0].lower()
        target = COMMANDS.get(command)
        if target == "status":
            return status.answer(content, self._reports, state.chat_id, argument.strip())
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
            return [Reply(content.render("unknown_command", command=command[:32]))] + self._report.prompt(content, state)
        return self._report.interrupted(content, state)

    @staticmethod
    def _acts_on(understanding: Understanding, outside_agency: bool = False) -> bool:
        """Whether NLU is sure enough to act; `outside_agency` ignores answers that do not lead elsewhere."""
        act_at, _suggest_at = THRESHOLDS.get(understanding.source, THRESHOLDS["rasa"])
        if understanding.intent in (None, UNSURE) or understanding.confidence < act_at:
            return False
        return not outside_agency or understanding.intent not in ("check_agency", "out_of_scope", "affirm", "deny")

    def _route(self, content: Content, state: ConversationState, understanding: Understanding,
               text: str) -> list[Reply]:
        if understanding is NOTHING:
            return [with_menu(content, "no_words")]
        _act_at, suggest_at = THRESHOLDS.get(understanding.source, THRESHOLDS["rasa"])
        hedged = understanding.source == "fallback"
        intent = understanding.intent
        if mentions_danger(text) and (intent in (UNSURE, "out_of_scope") or not self._acts_on(understanding)):
            # Safety net: someone who may be in danger never gets "not understood" or "out of scope".
            return self._menu_entry(content, state, actions.MENU_EMERGENCY)
        if intent == "check_agency" and self._acts_on(understanding):
            return self._check_agency(content, state, understanding, text)
        if self._acts_on(understanding):
            topic = understanding.faq_topic
            if topic in content.topics:
                return faq.answer(content, state, topic, hedged=hedged)
            if intent == "country_info":
                return self._country(content, state, understanding, text)
            if intent == "report_status":
                return status.answer(content, self._reports, state.chat_id, status.code_or_nothing(text))
            if intent in MENU_INTENTS:
                return self._menu_entry(content, state, MENU_INTENTS[intent])
            if intent in SIMPLE_INTENTS:
                self._reset(state)
                return [with_menu(content, SIMPLE_INTENTS[intent])]
        options = self._options(content, understanding, suggest_at)
        if options:
            return faq.clarify(content, state, options)
        self._reset(state)
        return [with_menu(content, "not_understood")]

    def _check_agency(self, content: Content, state: ConversationState, understanding: Understanding,
                      text: str) -> list[Reply]:
        """'PT sinar jaya resmi gk?': look the name (or licence number) up at once; without one, ask for it."""
        named = [str(e.get("value") or "") for e in understanding.entities
                 if e["entity"] in ("agency_name", "licence_number")]
        query = named[0] if named else text
        lookup = self._registry.lookup(query)
        if named or lookup.kind in ("clear", "several"):
            return agency.answer_lookup(content, state, self._registry, query, lookup)
        return agency.start(content, state)

    def _country(self, content: Content, state: ConversationState, understanding: Understanding,
                 text: str) -> list[Reply]:
        """The country NLU found, else one named in the text, else the list of countries."""
        named = [str(e.get("value") or "") for e in understanding.entities if e["entity"] == "country"]
        for name in named or [text]:
            code = countries.country_in_text(content, name)
            if code is not None:
                return countries.country_info(content, state, code)
        return countries.country_list(content, state)

    def _options(self, content: Content, understanding: Understanding, suggest_at: float) -> list[Button]:
        """Buttons for the plausible meanings: FAQ topics and menu entries, best first."""
        options: list[Button] = []
        menu_labels = {b.data: b.label for b in main_menu_buttons(content)}
        menu_labels[actions.country()] = content.label("country_list")
        targets = {**MENU_INTENTS, "country_info": actions.country()}
        for label, confidence in understanding.candidates:
            if confidence < suggest_at or len(options) == MAX_CLARIFY_OPTIONS:
                break
            topic = faq_topic_of(label)
            if topic in content.topics:
                options.append(Button(content.topics[topic].title, actions.faq_topic(topic)))
            elif label in targets:
                options.append(Button(menu_labels[targets[label]], targets[label]))
        return options

    @staticmethod
    def _reset(state: ConversationState) -> None:
        state.flow, state.step, state.data = None, None, {}
