"""FAQ answers, the topic list, and "did you mean ...?" when NLU is unsure."""
from __future__ import annotations

from db.chat_state import ConversationState

from bot.content import Content
from bot.dialogue import actions
from bot.dialogue.menu import back_to_menu_button
from bot.dialogue.messages import Button, Reply

TOPICS_PER_PAGE = 8
FLOW = "faq"
STEP_CLARIFY = "clarify"


def answer(content: Content, state: ConversationState, topic_id: str, hedged: bool = False) -> list[Reply]:
    """The topic's answer with its related topics and the main menu as buttons."""
    topic = content.topics[topic_id]
    state.flow, state.step, state.data = FLOW, "answered", {"topic": topic_id}
    buttons = tuple(
        Button(content.topics[related].title, actions.faq_topic(related))
        for related in topic.related
        if related in content.topics
    ) + (back_to_menu_button(content),)
    replies = []
    if hedged:
        replies.append(Reply(content.render("faq_hedged", topic=topic)))
    replies.append(Reply(content.render_answer(topic_id), buttons))
    return replies


def topic_list(content: Content, state: ConversationState, page: int = 0) -> list[Reply]:
    """Ask for a question in the user's own words, with the topics as buttons, a page at a time."""
    topics = list(content.topics.values())
    pages = max(1, -(-len(topics) // TOPICS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = topics[page * TOPICS_PER_PAGE:(page + 1) * TOPICS_PER_PAGE]
    buttons = [Button(topic.title, actions.faq_topic(topic.id)) for topic in shown]
    if page + 1 < pages:
        buttons.append(Button(content.label("more_topics"), actions.topic_page(page + 1)))
    buttons.append(back_to_menu_button(content))
    state.flow, state.step, state.data = FLOW, "topics", {"page": page}
    return [Reply(content.render("faq_prompt", first_page=page == 0), tuple(buttons))]


def clarify(content: Content, state: ConversationState, options: list[Button]) -> list[Reply]:
    """Offer the likely meanings as buttons; a typed number picks one too (saved in the chat state)."""
    state.flow, state.step, state.data = FLOW, STEP_CLARIFY, {"options": [b.data for b in options]}
    return [Reply(content.render("clarify", options=options), tuple(options) + (back_to_menu_button(content),))]


def picked_option(state: ConversationState, text: str) -> str | None:
    """The button data of option N when the user answered a clarification by typing its number."""
    if state.step != STEP_CLARIFY or not text.strip().isdigit():
        return None
    options = state.data.get("options") or []
    index = int(text.strip()) - 1
    return options[index] if 0 <= index < len(options) else None
