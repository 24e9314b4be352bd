"""Small helpers for driving the engine like a user would."""
from __future__ import annotations

from bot.dialogue.messages import Incoming, Turn
from bot.textformat import html_to_text

CHAT = 4242


def say(app, text: str, chat: int = CHAT) -> Turn:
    return app.engine.handle(Incoming(chat, chat, text=text))


def press(app, data: str, chat: int = CHAT) -> Turn:
    return app.engine.handle(Incoming(chat, chat, press=data))


def send(app, attachment: str, chat: int = CHAT) -> Turn:
    return app.engine.handle(Incoming(chat, chat, attachment=attachment))


def text_of(turn: Turn) -> str:
    """Everything the user reads in this turn, as plain text."""
    return "\n".join(html_to_text(reply.text) for reply in turn.replies)


def buttons_of(turn: Turn) -> list[tuple[str, str]]:
    return [(b.label, b.data) for reply in turn.replies for b in reply.buttons]
