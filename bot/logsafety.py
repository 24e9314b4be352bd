"""Logs that cannot leak: third-party loggers capped at WARNING, secrets and query strings redacted from every line.

python-telegram-bot logs every update and API call at DEBUG (decrypted report text, phone numbers, the bot token in
URLs); httpx logs request URLs at INFO. Whatever LOG_LEVEL says, only the bot's own loggers (`bot`, `db`) go below
WARNING, and every formatted line (tracebacks included) passes through `redact`.
"""
from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable
from typing import TextIO

OWN_LOGGERS = ("bot", "db", "__main__")
THIRD_PARTY_FLOOR = logging.WARNING
# A Telegram bot token (123456:ABC...), as it appears alone or in /bot<token>/ URLs.
_BOT_TOKEN_RE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
# The query string of any URL (Rasa's ?token=..., webhook secrets, ...): dropped entirely.
_QUERY_RE = re.compile(r"(https?://[^\s'\"<>?]*)\?[^\s'\"<>]*")
_TOKEN_PARAM_RE = re.compile(r"((?:token|secret|key|password)=)[^\s&'\"<>]+", re.IGNORECASE)
# user:password@ in database URLs.
_URL_PASSWORD_RE = re.compile(r"(\w+://[^\s:/@]+:)[^\s@/]+@")
REDACTED = "<redacted>"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, REDACTED)
    text = _BOT_TOKEN_RE.sub(REDACTED, text)
    text = _QUERY_RE.sub(rf"\1?{REDACTED}", text)
    text = _TOKEN_PARAM_RE.sub(rf"\1{REDACTED}", text)
    return _URL_PASSWORD_RE.sub(rf"\1{REDACTED}@", text)


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then redacts the whole line, exception text included."""

    def __init__(self, fmt: str, secrets: Iterable[str] = ()):
        super().__init__(fmt)
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


def setup_logging(level: str, secrets: Iterable[str] = (), stream: TextIO | None = None) -> logging.Handler:
    """Install one redacting handler on the root logger (replacing earlier ones) and set the levels."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    wanted = logging.getLevelName(level) if isinstance(level, str) else level
    root.setLevel(max(wanted, THIRD_PARTY_FLOOR))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(wanted)
    # Loggers that set their own level (httpx sets none, but PTB's and others may) are capped explicitly.
    for name in ("telegram", "telegram.ext", "httpx", "httpcore", "apscheduler", "sqlalchemy", "alembic", "asyncio",
                 "urllib3", "hpack", "markdown_it"):
        logging.getLogger(name).setLevel(max(wanted, THIRD_PARTY_FLOOR))
    return handler


def minimal_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a helper process (Rasa) needs: PATH, locale, HOME, TMP; none of the bot's secrets."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TEMP", "TMP", "TZ", "SYSTEMROOT",
            "VIRTUAL_ENV", "PYTHONHASHSEED", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
            "TF_NUM_INTEROP_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LD_LIBRARY_PATH")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(extra or {})
    return env
