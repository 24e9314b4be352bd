"""Settings from the environment (and an optional `.env` file), validated once at start.

Every variable is documented in `.env.example`. A missing or malformed value raises
`SettingsError` naming the variable, so the CLI can print one clear line instead of a traceback.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"

_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    telegram_bot_token: str | None
    telegram_api_base_url: str | None
    telegram_webhook_url: str | None
    telegram_webhook_listen: str
    telegram_webhook_port: int
    telegram_webhook_secret: str | None
    database_url: str
    rasa_urls: tuple[str, ...]  # RASA_URL: one Rasa server or several (failover); empty = managed mode
    rasa_auth_token: str
    rasa_timeout: float
    rasa_port: int
    taskforce_chat_id: int | None
    staff_user_ids: frozenset[int]
    report_encryption_keys: tuple[str, ...]  # newest first: the first encrypts, every one decrypts
    taskforce_reminder_minutes: int
    taskforce_admins_only: bool
    messages_per_minute: int  # per chat; over it one polite notice, then messages are dropped for the minute
    reports_per_day: int  # per chat
    chat_state_retention_days: int  # the state of a chat inactive this long is deleted
    log_level: str
    content_dir: Path
    var_dir: Path

    @property
    def managed_rasa(self) -> bool:
        """True when the bot starts and supervises its own Rasa server."""
        return not self.rasa_urls

    @property
    def rasa_url(self) -> str | None:
        """The first server of RASA_URL, for tools that talk to one server (bench/nlu_latency.py)."""
        return self.rasa_urls[0] if self.rasa_urls else None

    @property
    def report_encryption_key(self) -> str | None:
        """The newest key, the one new data is encrypted with."""
        return self.report_encryption_keys[0] if self.report_encryption_keys else None

    @property
    def reports_enabled(self) -> bool:
        """Reports are taken only when they can be encrypted and have somewhere to go."""
        return self.report_encryption_key is not None and self.taskforce_chat_id is not None


def load_settings(environ: dict[str, str] | None = None, env_file: Path | None = None) -> Settings:
    """Read settings from `environ` (default: the process environment) over the `.env` file."""
    env_file = env_file if env_file is not None else PROJECT_ROOT / ".env"
    values: dict[str, str] = {}
    if env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    var_dir = Path(get("BOT_VAR_DIR") or VAR_DIR)
    token = get("TELEGRAM_BOT_TOKEN")
    if token is not None and not _TOKEN_RE.match(token):
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN is malformed: expected the token BotFather gives, like 123456:ABC-DEF..."
        )
    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in logging.getLevelNamesMapping():
        raise SettingsError(f"LOG_LEVEL is malformed: {log_level!r} is not DEBUG, INFO, WARNING or ERROR")
    return Settings(
        telegram_bot_token=token,
        telegram_api_base_url=_url("TELEGRAM_API_BASE_URL", get("TELEGRAM_API_BASE_URL")),
        telegram_webhook_url=_url("TELEGRAM_WEBHOOK_URL", get("TELEGRAM_WEBHOOK_URL")),
        telegram_webhook_listen=get("TELEGRAM_WEBHOOK_LISTEN") or "127.0.0.1",
        telegram_webhook_port=_int("TELEGRAM_WEBHOOK_PORT", get("TELEGRAM_WEBHOOK_PORT"), 8443),
        telegram_webhook_secret=_webhook_secret(get("TELEGRAM_WEBHOOK_SECRET")),
        database_url=_database_url(get("DATABASE_URL"), var_dir),
        rasa_urls=_url_list("RASA_URL", get("RASA_URL")),
        rasa_auth_token=get("RASA_AUTH_TOKEN") or "",
        rasa_timeout=_float("RASA_TIMEOUT", get("RASA_TIMEOUT"), 2.0),
        rasa_port=_int("RASA_PORT", get("RASA_PORT"), 5005),
        taskforce_chat_id=_optional_int("TASKFORCE_CHAT_ID", get("TASKFORCE_CHAT_ID")),
        staff_user_ids=_id_list("STAFF_USER_IDS", get("STAFF_USER_IDS")),
        report_encryption_keys=_report_keys(get("REPORT_ENCRYPTION_KEYS"), get("REPORT_ENCRYPTION_KEY")),
        taskforce_reminder_minutes=_int("TASKFORCE_REMINDER_MINUTES", get("TASKFORCE_REMINDER_MINUTES"), 120),
        taskforce_admins_only=_bool("TASKFORCE_ADMINS_ONLY", get("TASKFORCE_ADMINS_ONLY"), True),
        messages_per_minute=_int("MESSAGES_PER_MINUTE", get("MESSAGES_PER_MINUTE"), 20),
        reports_per_day=_int("REPORTS_PER_DAY", get("REPORTS_PER_DAY"), 3),
        chat_state_retention_days=_int("CHAT_STATE_RETENTION_DAYS", get("CHAT_STATE_RETENTION_DAYS"), 90),
        log_level=log_level,
        content_dir=Path(get("CONTENT_DIR") or PROJECT_ROOT / "content"),
        var_dir=var_dir,
    )


def _report_keys(keys: str | None, single: str | None) -> tuple[str, ...]:
    """REPORT_ENCRYPTION_KEYS (comma-separated, newest first), then the older single REPORT_ENCRYPTION_KEY."""
    from bot.reports.crypto import is_valid_key

    found: list[str] = []
    for name, value in (("REPORT_ENCRYPTION_KEYS", keys), ("REPORT_ENCRYPTION_KEY", single)):
        for key in re.split(r"[,\s]+", value or ""):
            if not key:
                continue
            if not is_valid_key(key):
                raise SettingsError(f"{name} is malformed: expected Fernet keys (44 characters of URL-safe base64 "
                                    "each, newest first, comma-separated); `python -m bot reports init-key` writes "
                                    "a new one into .env")
            if key not in found:
                found.append(key)
    return tuple(found)


def _bool(name: str, value: str | None, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} is malformed: {value!r} is not true or false")


def _webhook_secret(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", value):
        raise SettingsError("TELEGRAM_WEBHOOK_SECRET is malformed: use 16-256 letters, digits, _ or -")
    return value


def _database_url(value: str | None, var_dir: Path) -> str:
    if value is None:
        return f"sqlite:///{var_dir / 'bot.sqlite3'}"
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
        raise SettingsError(
            "DATABASE_URL is malformed: expected sqlite:///path/to/file.sqlite3 or postgresql+psycopg://user:pass@host/db"
        )
    return value


def _url(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(f"{name} is malformed: expected an http(s) URL such as http://127.0.0.1:5005")
    return value.rstrip("/")


def _url_list(name: str, value: str | None) -> tuple[str, ...]:
    """Comma-separated http(s) URLs, each checked, none twice; () when unset."""
    urls: list[str] = []
    for part in value.split(",") if value is not None else []:
        url = part.strip()
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SettingsError(f"{name} is malformed: {url!r} is not an http(s) URL such as http://127.0.0.1:5005 "
                                "(several servers: comma-separated)")
        if url.rstrip("/") in urls:
            raise SettingsError(f"{name} is malformed: {url!r} is listed twice")
        urls.append(url.rstrip("/"))
    return tuple(urls)


def _int(name: str, value: str | None, default: int) -> int:
    if value is None:
        return default
    parsed = _optional_int(name, value)
    assert parsed is not None
    return parsed


def _optional_int(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"{name} is malformed: {value!r} is not a whole number") from None


def _float(name: str, value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        parsed = float(value)
    except ValueError:
        raise SettingsError(f"{name} is malformed: {value!r} is not a number") from None
    if parsed <= 0:
        raise SettingsError(f"{name} is malformed: it must be greater than 0")
    return parsed


def _id_list(name: str, value: str | None) -> frozenset[int]:
    if value is None:
        return frozenset()
    ids = set()
    for part in re.split(r"[,\s]+", value):
        if part:
            ids.add(_optional_int(name, part))
    return frozenset(i for i in ids if i is not None)
