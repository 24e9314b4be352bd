"""Turn the Telegram-HTML replies into plain text for the console and `ask`."""
from __future__ import annotations

import html
import re

_LINK_RE = re.compile(r'<a\s+href="([^"]*)"\s*>(.*?)</a>', re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r"</?[a-zA-Z][^>]*>")


def html_to_text(text: str) -> str:
    """Drop tags, keep link targets after their label, and unescape entities."""

    def link(match: re.Match[str]) -> str:
        href, label = html.unescape(match.group(1)), match.group(2)
        return label if href in label or href.startswith("tel:") else f"{label} ({href})"

    text = _LINK_RE.sub(link, text)
    return html.unescape(_TAG_RE.sub("", text))


# ---- Telegram's limits count UTF-16 code units (an emoji outside the BMP counts 2) -----------------------------

TELEGRAM_TEXT_LIMIT = 4096  # sendMessage / editMessageText, after entity parsing
TELEGRAM_CAPTION_LIMIT = 1024
TELEGRAM_CALLBACK_DATA_LIMIT = 64  # bytes


def utf16_len(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def utf16_cut(text: str, limit: int) -> str:
    """The longest prefix of `text` of at most `limit` UTF-16 units (never half a character)."""
    if len(text) * 2 <= limit:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def split_utf16(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` UTF-16 units, cut at a line break or space when there is one nearby."""
    pieces = []
    while utf16_len(text) > limit:
        head = utf16_cut(text, limit)
        cut = max(head.rfind("\n"), head.rfind(" "))
        if cut < len(head) // 2:  # no good break in the second half: cut mid-word
            cut = len(head)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text or not pieces:
        pieces.append(text)
    return pieces


# ---- input cleaning at the channel boundary ---------------------------------------------------------------------

# C0/C1 control characters except tab and newline, and lone UTF-16 surrogates (invalid in UTF-8: they crash
# encryption, JSON and the database), and the Unicode non-characters U+FFFE/U+FFFF.
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_input(text: str | None) -> str | None:
    """Text from outside as the rest of the bot may assume it: valid Unicode, no NUL or control characters.

    \\r\\n and \\r become \\n; other control characters and lone surrogates are dropped."""
    if text is None:
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE_CHARS.sub("", text)


def telegram_len(html_text: str) -> int:
    """Length of a Telegram-HTML message as Telegram limits it: UTF-16 units of the text after entity parsing
    (tags dropped, &amp; counted as one); a link counts with its address, so this never underestimates."""
    return utf16_len(html_to_text(html_text))
