"""Can this bot serve users? One check per part, for `python -m bot healthz` and any health endpoint that wants the
same answer: the database (reachable, schema at the code's migration head), content (loads), each NLU server (ready),
the report key (opens what the database holds) and the Telegram settings.

A FAILED part means users cannot be served (exit 1 / HTTP 503); a WARNING means they are served with less: a Rasa
server down (another replica or the local classifier answers), reports switched off. No line ever holds a secret:
every detail passes through the log redaction with the configured secrets.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from bot.app import settings_secrets
from bot.content import Content, ContentStore
from bot.content_models import ContentError
from bot.logsafety import redact
from bot.nlu.rasa_client import RasaClient
from bot.nlu.rasa_server import MANAGED_TOKEN_FILE
from bot.reports.crypto import ReportCipher
from bot.reports.service import KEY_CHECK
from bot.settings import Settings
from db.migrate import SchemaState, schema_state
from db.reports import ReportRepository
from db.session import make_engine, make_session_factory

DATABASE_CONNECT_TIMEOUT = 5  # seconds; PostgreSQL's default is to wait as long as the network does


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"  # users are served, with less
    FAILED = "failed"  # users cannot be served


@dataclass(frozen=True)
class PartHealth:
    part: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status.upper():<7} {self.part}: {self.detail}"


@dataclass(frozen=True)
class HealthReport:
    parts: tuple[PartHealth, ...]

    @property
    def ok(self) -> bool:
        """True when the bot can serve users (warnings allowed)."""
        return all(part.status is not Status.FAILED for part in self.parts)

    def summary(self) -> str:
        warnings = sum(part.status is Status.WARNING for part in self.parts)
        if not self.ok:
            return "UNHEALTHY: the bot cannot serve users (see the FAILED lines)"
        return "healthy: the bot can serve users" + (f" ({warnings} warning(s))" if warnings else "")

    def lines(self) -> list[str]:
        return [part.line() for part in self.parts] + [self.summary()]

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "summary": self.summary(), "parts": [asdict(part) for part in self.parts]}


def health(settings: Settings, content: ContentStore | None = None) -> HealthReport:
    """Check every part. `content`: a running bot's content store (what it serves now); without it the content
    folder is loaded afresh, as a restarted process would load it. Blocks for at most about RASA_TIMEOUT plus the
    database's connect timeout: call it from a thread in an event loop."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        nlu = pool.submit(_nlu_parts, settings)  # the NLU servers meanwhile: the slowest check when one hangs
        database, report_key = _database_and_report_key(settings)
        parts = (database, _content_part(settings, content), *nlu.result(), report_key, _telegram_part(settings))
    secrets = settings_secrets(settings)
    return HealthReport(tuple(PartHealth(redact(p.part, secrets), p.status, redact(p.detail, secrets))
                              for p in parts))


# ---- database and report key ---------------------------------------------------------------------------------


def _database_and_report_key(settings: Settings) -> tuple[PartHealth, PartHealth]:
    url = settings.database_url
    missing = _missing_sqlite_file(url)
    if missing is not None:
        database = PartHealth("database", Status.FAILED, f"SQLite file {missing} does not exist: "
                                                         "run `python -m bot db upgrade`")
        return database, _report_key_part(settings, None)
    engine = make_engine(_with_connect_timeout(url))
    try:
        try:
            with engine.connect() as connection:
                schema = schema_state(connection, url)
        except Exception as exc:  # whatever the driver raises: the database cannot be used
            return (PartHealth("database", Status.FAILED, f"{_where(url)}: cannot connect: {_first_line(exc)}"),
                    _report_key_part(settings, None))
        database = _schema_part(url, schema)
        reports = ReportRepository(make_session_factory(engine)) if database.status is not Status.FAILED else None
        return database, _report_key_part(settings, reports)
    finally:
        engine.dispose()


def _schema_part(url: str, schema: SchemaState) -> PartHealth:
    where, expected = _where(url), ", ".join(sorted(schema.heads))
    if schema.current == schema.heads:
        return PartHealth("database", Status.OK, f"{where}, schema at {expected} (head)")
    if not schema.current:
        return PartHealth("database", Status.FAILED, f"{where}: no schema yet: run `python -m bot db upgrade`")
    shown = ", ".join(sorted(schema.current))
    if schema.newer_than_code:
        return PartHealth("database", Status.WARNING, f"{where}: schema at {shown}, newer than this code "
                                                      f"({expected}): restart this process with the new release")
    return PartHealth("database", Status.FAILED, f"{where}: schema at {shown}, this code needs {expected}: "
                                                 "run `python -m bot db upgrade`")


def _report_key_part(settings: Settings, reports: ReportRepository | None) -> PartHealth:
    part = "report key"
    missing = [name for name, value in (("REPORT_ENCRYPTION_KEYS", settings.report_encryption_keys),
                                        ("TASKFORCE_CHAT_ID", settings.taskforce_chat_id)) if not value]
    if missing:
        return PartHealth(part, Status.WARNING, f"reports are off: {' and '.join(missing)} not set "
                                                "(the menu gives the hotlines instead)")
    keys = f"{len(settings.report_encryption_keys)} key(s) configured"
    if reports is None:
        return PartHealth(part, Status.WARNING, f"{keys}; not checked: the database is not available")
    try:
        stored = reports.get_meta(KEY_CHECK)
    except Exception as exc:  # the schema is at head, so this is the database failing under us
        return PartHealth(part, Status.FAILED, f"{keys}; cannot read the key check: {_first_line(exc)}")
    if stored is None:
        return PartHealth(part, Status.OK, f"{keys}; no key check stored yet (the bot stores one when it starts)")
    cipher = ReportCipher(settings.report_encryption_keys)
    if not cipher.opens_key_check(stored):
        return PartHealth(part, Status.FAILED, "REPORT_ENCRYPTION_KEYS cannot open the reports in this database "
                                               "(wrong or lost key): the bot will not start; put the backed-up key "
                                               "back")
    if not cipher.sealed_with_newest(stored):
        return PartHealth(part, Status.WARNING, f"{keys}; reports are still sealed with an older key: run "
                                                "`python -m bot reports rotate-key`")
    return PartHealth(part, Status.OK, f"{keys}; opens the reports in the database")


def _missing_sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL when it does not exist (connecting would create an empty one), else None."""
    if not url.startswith("sqlite") or ":///" not in url:
        return None
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return None if Path(path).exists() else path


def _with_connect_timeout(url: str) -> str:
    if not url.startswith("postgresql") or "connect_timeout=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}connect_timeout={DATABASE_CONNECT_TIMEOUT}"


def _where(url: str) -> str:
    """Which database, without user or password."""
    if url.startswith("sqlite"):
        return f"SQLite {url.split(':///', 1)[-1]}"
    parts = urlsplit(url)
    host = parts.hostname or "local socket"
    port = f":{parts.port}" if parts.port else ""
    return f"PostgreSQL {host}{port}{parts.path}"


def _first_line(exc: BaseException) -> str:
    """The error's first line, named by its class unless it names it itself (SQLAlchemy's "(psycopg.Error) ...")."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return text if text.startswith("(") else f"{exc.__class__.__name__}: {text}".rstrip(": ")


# ---- content -------------------------------------------------------------------------------------------------


def _content_part(settings: Settings, store: ContentStore | None) -> PartHealth:
    try:
        content = store.current() if store is not None else Content(settings.content_dir)
    except (ContentError, jinja2.TemplateError, OSError) as exc:
        return PartHealth("content", Status.FAILED, f"does not load: {_first_line(exc)} "
                                                    "(`python -m bot content check` lists every problem)")
    return PartHealth("content", Status.OK, f"{len(content.topics)} FAQ topics, {len(content.countries)} countries")


# ---- NLU -----------------------------------------------------------------------------------------------------


def _nlu_parts(settings: Settings) -> list[PartHealth]:
    urls = settings.rasa_urls
    if not urls:
        return [_managed_nlu_part(settings)]
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        ready = list(pool.map(lambda url: _is_ready(url, settings.rasa_auth_token, settings.rasa_timeout), urls))
    others = "messages go to the other replicas" if any(ready) else \
        "the local classifier answers until a Rasa server is back"
    return [PartHealth(f"nlu {url}", Status.OK, "ready, model loaded") if up else
            PartHealth(f"nlu {url}", Status.WARNING, f"not answering or no model loaded: {others}")
            for url, up in zip(urls, ready, strict=True)]


def _managed_nlu_part(settings: Settings) -> PartHealth:
    url = f"http://127.0.0.1:{settings.rasa_port}"
    token_file = settings.var_dir / MANAGED_TOKEN_FILE
    token = settings.rasa_auth_token or (token_file.read_text().strip() if token_file.is_file() else "")
    if _is_ready(url, token, settings.rasa_timeout):
        return PartHealth(f"nlu {url}", Status.OK, "ready, model loaded (managed by the bot)")
    return PartHealth(f"nlu {url}", Status.WARNING, "managed server not running or not ready: `python -m bot run` "
                                                    "starts it; the local classifier answers meanwhile")


def _is_ready(url: str, token: str, timeout: float) -> bool:
    client = RasaClient(url, token, timeout)
    try:
        return client.is_ready()
    finally:
        client.close()


# ---- Telegram ------------------------------------------------------------------------------------------------


def _telegram_part(settings: Settings) -> PartHealth:
    if settings.telegram_bot_token is None:
        return PartHealth("telegram", Status.WARNING, "TELEGRAM_BOT_TOKEN is not set: `run` opens the console chat "
                                                      "instead of serving Telegram")
    if settings.telegram_webhook_url is None:
        return PartHealth("telegram", Status.OK, "long polling (one process; several workers need webhook mode)")
    webhook = f"webhook {settings.telegram_webhook_url}/telegram"
    if settings.telegram_webhook_secret is None:
        return PartHealth("telegram", Status.WARNING, f"{webhook}; TELEGRAM_WEBHOOK_SECRET is not set, so each "
                                                      "process invents its own and only one worker can serve: set it")
    return PartHealth("telegram", Status.OK, f"{webhook}, shared secret set")
