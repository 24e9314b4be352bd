"""The engine's input and output, shared by every channel."""
from __future__ import annotations

from dataclasses import dataclass, field

ATTACHMENT_KINDS = ("photo", "sticker", "document", "voice", "audio", "video", "contact", "location", "other")


@dataclass(frozen=True)
class Incoming:
    """One user action: text typed, a button pressed (its data), or an attachment sent."""

    chat_id: int
    user_id: int
    text: str | None = None
    press: str | None = None
    attachment: str | None = None


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Reply:
    """Telegram-HTML text with optional buttons (one per row)."""

    text: str
    buttons: tuple[Button, ...] = ()


@dataclass
class Turn:
    """What the engine did with one message: the replies, and what NLU understood (if it was asked)."""

    replies: list[Reply] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
