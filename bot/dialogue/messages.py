"""The engine's input and output, shared by every channel."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ATTACHMENT_KINDS = ("photo", "sticker", "document", "voice", "audio", "video", "contact", "location", "other")


@dataclass(frozen=True)
class Incoming:
    """One user action: text typed, a button pressed (its data), or an attachment sent.

    `file_id` names the attachment on the channel's servers (photos, documents, voice notes kept as evidence);
    `phone` is the number of a shared contact; `update_id` lets the engine ignore a redelivered update.
    `forwarded`: the user forwarded the message from elsewhere (a job offer, often); a photo's caption comes as
    `text` together with `attachment="photo"`."""

    chat_id: int
    user_id: int
    text: str | None = None
    press: str | None = None
    attachment: str | None = None
    file_id: str | None = None
    phone: str | None = None
    update_id: int | None = None
    forwarded: bool = False


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Reply:
    """Telegram-HTML text with optional buttons (`columns` per row).

    `keyboard` replaces the phone keyboard with answer keys (the first asks for the user's phone number);
    `remove_keyboard` puts the normal keyboard back. A reply has inline buttons or one of these, not both."""

    text: str
    buttons: tuple[Button, ...] = ()
    columns: int = 1
    keyboard: tuple[str, ...] = ()
    remove_keyboard: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "buttons": [[b.label, b.data] for b in self.buttons], "columns": self.columns,
                "keyboard": list(self.keyboard), "remove_keyboard": self.remove_keyboard}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        return cls(str(data["text"]), tuple(Button(str(label), str(press)) for label, press in data["buttons"]),
                   int(data["columns"]), tuple(str(key) for key in data["keyboard"]), bool(data["remove_keyboard"]))


EMERGENCY_THEN = "emergency+"  # a meaning's prefix: the emergency contacts were sent first, then what follows


def emergency_then(label: str) -> str:
    """The meaning of the emergency contacts followed by the answer for `label` (`faq/<topic>`)."""
    return EMERGENCY_THEN + label


def after_emergency(meaning: str | None) -> str | None:
    """The label answered after the emergency contacts (`faq/<topic>`), or None for any other meaning."""
    return meaning[len(EMERGENCY_THEN):] if meaning and meaning.startswith(EMERGENCY_THEN) else None


@dataclass
class Turn:
    """What the engine did with one message: the replies, what NLU understood (if it was asked), and the meaning
    the engine acted on (`faq/<topic>`, `agency:<id>|?|choose`, `emergency`, `emergency+faq/<topic>`,
    `country:<code>`, `clarify`, ...)."""

    replies: list[Reply] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
    meaning: str | None = None
    sure: bool = True  # False when the answer is a best guess (offered with "Bukan ini?" or the hedged note)

    @property
    def after_emergency(self) -> str | None:
        """The label answered after the emergency contacts (`faq/<topic>`), if the turn did that."""
        return after_emergency(self.meaning)
