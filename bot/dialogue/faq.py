"""FAQ answers, the topic list, and "did you mean ...?" when NLU is unsure."""
from __future__ import annotations

from bot.content import Content
from bot.dialogue import actions
from bot.dialogue.menu import back_to_menu_button, main_menu_buttons
from bot.dialogue.messages import Button, Reply
from db.chat_state import ConversationState

FLOW = "faq"
STEP_CLARIFY = "clarify"


def answer(content: Content, state: ConversationState, topic_id: str, hedged: bool = False) -> list[Reply]:
    """The topic's answer with its related topics and the main menu as buttons."""
    topic = content.topics[topic_id]
    state.enter(FLOW, "answered", {"topic": topic_id})
    buttons = related_buttons(content, topic.related) + (back_to_menu_button(content),)
    replies = []
    if hedged:
        replies.append(Reply(content.render("faq_hedged", topic=topic)))
    replies.append(Reply(content.render_answer(topic_id), buttons))
    return replies


def related_buttons(content: Content, related: tuple[str, ...]) -> tuple[Button, ...]:
    """Buttons for a topic's related entries: other topics by id, or main-menu entries such as `menu:agency`."""
    menu = {button.data: button for button in main_menu_buttons(content)}
    buttons = []
    for entry in related:
        if entry in content.topics:
            buttons.append(Button(content.topics[entry].title, actions.faq_topic(entry)))
        elif entry in menu:
            buttons.append(menu[entry])
    return tuple(buttons)


def topic_groups(content: Content, state: ConversationState) -> list[Reply]:
    """Ask for a question in the user's own words, with the topic groups as buttons."""
    buttons = [Button(group["title"], actions.topic_group(group["id"])) for group in content.topic_menu]
    state.enter(FLOW, "groups")
    return [Reply(content.render("faq_prompt"), (*buttons, back_to_menu_button(content)))]


def topic_group(content: Content, state: ConversationState, group_id: str) -> list[Reply] | None:
    """The topics of one group as buttons, or None when there is no such group."""
    group = next((g for g in content.topic_menu if g["id"] == group_id), None)
    if group is None:
        return None
    buttons = [Button(content.topics[t].title, actions.faq_topic(t)) for t in group["topics"] if t in content.topics]
    if group.get("country_list"):
        buttons.append(Button(content.label("country_list"), actions.country()))
    buttons.append(Button(content.label("other_topics"), actions.MENU_FAQ))
    state.enter(FLOW, "group", {"group": group_id})
    return [Reply(content.render("faq_group", group=group), (*buttons, back_to_menu_button(content)))]


def clarify(content: Content, state: ConversationState, options: list[Button]) -> list[Reply]:
    """Offer the likely meanings as buttons; a typed number picks one too (saved in the chat state)."""
    state.enter(FLOW, STEP_CLARIFY, {"options": [b.data for b in options]})
    return [Reply(content.render("clarify", options=options), tuple(options) + (back_to_menu_button(content),))]


def picked_option(state: ConversationState, text: str) -> str | None:
    """The button data of option N when the user answered a clarification by typing its number."""
    if state.step != STEP_CLARIFY or not text.strip().isdigit():
        return None
    options = state.data.get("options") or []
    index = int(text.strip()) - 1
    return options[index] if 0 <= index < len(options) else None
