"""Engine replies as python-telegram-bot reply markup."""
from __future__ import annotations

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.dialogue.messages import Button, Reply


def inline_keyboard(buttons: tuple[Button, ...] | tuple[tuple[str, str], ...],
                    columns: int = 1) -> InlineKeyboardMarkup | None:
    """Inline buttons from the engine's Buttons or the report service's (label, data) pairs."""
    if not buttons:
        return None
    pairs = [(b.label, b.data) if isinstance(b, Button) else b for b in buttons]
    keys = [InlineKeyboardButton(label, callback_data=data) for label, data in pairs]
    return InlineKeyboardMarkup([keys[i:i + columns] for i in range(0, len(keys), columns)])


def reply_markup(reply: Reply) -> ReplyKeyboardMarkup | ReplyKeyboardRemove | InlineKeyboardMarkup | None:
    if reply.keyboard:
        first, *others = reply.keyboard
        rows = [[KeyboardButton(first, request_contact=True)], *[[KeyboardButton(label)] for label in others]]
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
    if reply.remove_keyboard:
        return ReplyKeyboardRemove()
    return inline_keyboard(reply.buttons, reply.columns)
