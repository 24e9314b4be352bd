"""Small helpers for driving the engine like a user would."""
from __future__ import annotations

from bot.app import App
from bot.dialogue.messages import Incoming, Turn
from bot.textformat import html_to_text

CHAT = 4242


def say(app: App, text: str, chat: int = CHAT) -> Turn:
    return app.engine.handle(Incoming(chat, chat, text=text))


def press(app: App, data: str, chat: int = CHAT) -> Turn:
    return app.engine.handle(Incoming(chat, chat, press=data))


def send(app: App, attachment: str, chat: int = CHAT) -> Turn:
    return app.engine.handle(Incoming(chat, chat, attachment=attachment))


def text_of(turn: Turn) -> str:
    """Everything the user reads in this turn, as plain text."""
    return "\n".join(html_to_text(reply.text) for reply in turn.replies)


def buttons_of(turn: Turn) -> list[tuple[str, str]]:
    return [(b.label, b.data) for reply in turn.replies for b in reply.buttons]


# One-word messages that the local classifier finds ambiguous between topics (which one depends on the training data).
VAGUE_WORDS = ("kontrak", "kerja", "gaji", "kapal", "izin", "biaya", "daftar", "bayar", "pulang", "surat", "agen")


def vague_message(app: App, chat: int = CHAT) -> tuple[str, Turn]:
    """A word that the bot answers with a question between at least two topics, and that turn."""
    for word in VAGUE_WORDS:
        turn = say(app, word, chat)
        if turn.meaning == "clarify":
            return word, turn
    raise AssertionError("none of the vague words gets a clarifying question any more")
