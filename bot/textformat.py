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
