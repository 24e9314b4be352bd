"""The dialogue engine: one message in, replies out; the chat's state is loaded and saved around every step."""
from __future__ import annotations

import logging

from db.chat_state import ChatStateRepository, ConversationState

from bot.content import Content, ContentStore
from bot.dialogue import actions, countries, faq
from bot.dialogue.menu import main_menu_buttons, with_menu, with_menu_link
from bot.dialogue.messages import Button, Incoming, Reply, Turn
from bot.nlu.service import Nlu
from bot.nlu.understanding import NOTHING, UNSURE, Understanding, faq_topic_of

log = logging.getLogger(__name__)

# Confidence needed to act on what NLU understood, and to offer it as a "did you mean" option.
# The fuzzy fallback matcher scores differently from Rasa, so it has its own, stricter pair.
THRESHOLDS = {"rasa": (0.60, 0.25), "fallback": (0.85, 0.60)}
MAX_CLARIFY_OPTIONS = 3

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
    "report_status": "status_not_ready",
}
# Intents that lead to a menu entry, and so can also be offered as a "did you mean" button.
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
}


class Engine:
    def __init__(self, content: ContentStore, nlu: Nlu, states: ChatStateRepository):
        self._content = content
        self._nlu = nlu
        self._states = states

    def handle(self, message: Incoming) -> Turn:
        state = self._states.load(message.chat_id)
        content = self._content.current()
        turn = Turn()
        if message.press is not None:
            turn.replies = self._on_press(content, state, message.press)
        elif message.attachment is not None:
            turn.replies = [with_menu(content, "attachment_outside_flow", kind=message.attachment)]
        else:
            turn.replies = self._on_text(content, state, message.text or "", turn)
        self._states.save(state)
        return turn

    def forget(self, chat_id: int) -> None:
        """Start the chat's conversation afresh."""
        self._states.clear(chat_id)

    def _on_press(self, content: Content, state: ConversationState, data: str) -> list[Reply]:
        action = actions.parse(data)
        if action is None:
            log.info("rejected malformed button data (%d bytes)", len(data.encode("utf-8", "replace")))
            return [with_menu(content, "button_expired")]
        if action.kind == actions.FAQ_TOPIC and action.arg in content.topics:
            return faq.answer(content, state, action.arg)
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
        self._reset(state)
        if data == actions.MENU_EMERGENCY:
            return [with_menu_link(content, "emergency")]
        if data == actions.MENU_AGENCY:
            return [with_menu_link(content, "agency_not_ready")]
        if data == actions.MENU_REPORT:
            return [with_menu_link(content, "report_not_ready")]
        return [with_menu(content, "menu")]

    def _on_text(self, content: Content, state: ConversationState, text: str, turn: Turn) -> list[Reply]:
        text = text.strip()
        if not text:
            return [with_menu(content, "empty_message")]
        if text.startswith("/"):
            return self._on_command(content, state, text)
        picked = faq.picked_option(state, text)
        if picked is not None:
            return self._on_press(content, state, picked)
        understanding = self._nlu.understand(text)
        turn.intent, turn.confidence = understanding.intent, round(understanding.confidence, 4)
        return self._route(content, state, understanding)

    def _on_command(self, content: Content, state: ConversationState, text: str) -> list[Reply]:
        command = text.split()[0].split("@")[0].lower()
        target = COMMANDS.get(command)
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

    def _route(self, content: Content, state: ConversationState, understanding: Understanding) -> list[Reply]:
        if understanding is NOTHING:
            return [with_menu(content, "no_words")]
        act_at, suggest_at = THRESHOLDS.get(understanding.source, THRESHOLDS["rasa"])
        hedged = understanding.source == "fallback"
        intent = understanding.intent
        if intent != UNSURE and understanding.confidence >= act_at:
            topic = understanding.faq_topic
            if topic in content.topics:
                return faq.answer(content, state, topic, hedged=hedged)
            if intent == "country_info":
                return self._country(content, state, understanding)
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

    def _country(self, content: Content, state: ConversationState, understanding: Understanding) -> list[Reply]:
        for entity in understanding.entities:
            code = countries.find_country(content, str(entity.get("value") or "")) if entity["entity"] == "country" else None
            if code is not None:
                return countries.country_info(content, state, code)
        return countries.country_list(content, state)

    def _options(self, content: Content, understanding: Understanding, suggest_at: float) -> list[Button]:
        """Buttons for the plausible meanings: FAQ topics and menu entries, best first."""
        options: list[Button] = []
        menu_labels = {b.data: b.label for b in main_menu_buttons(content)}
        for label, confidence in understanding.candidates:
            if confidence < suggest_at or len(options) == MAX_CLARIFY_OPTIONS:
                break
            topic = faq_topic_of(label)
            if topic in content.topics:
                options.append(Button(content.topics[topic].title, actions.faq_topic(topic)))
            elif label in MENU_INTENTS:
                options.append(Button(menu_labels[MENU_INTENTS[label]], MENU_INTENTS[label]))
        return options

    @staticmethod
    def _reset(state: ConversationState) -> None:
        state.flow, state.step, state.data = None, None, {}
