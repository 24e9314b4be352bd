"""Composition root: build the engine and its services from settings, and tear them down."""
from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine as DatabaseEngine
from sqlalchemy.orm import Session, sessionmaker

from bot.content import ContentStore
from bot.dialogue.engine import Engine
from bot.insights.recorder import InsightRecorder
from bot.limits import ChatRateLimiter
from bot.logsafety import setup_logging
from bot.nlu import training
from bot.nlu.rasa_pool import remote_nlu
from bot.nlu.rasa_server import ManagedRasa, managed_auth_token
from bot.nlu.service import Nlu
from bot.nlu.understanding import NluMode, NluServer
from bot.registry.service import AgencyRegistry, seed_registry
from bot.reports.crypto import ReportCipher
from bot.reports.service import KeyCheckFailed, ReportService
from bot.settings import Settings
from db.agencies import AgencyRepository
from db.chat_state import ChatStateRepository
from db.inbox import InboxRepository
from db.insights import InsightRepository
from db.leases import Leadership
from db.migrate import upgrade
from db.reports import ReportRepository
from db.session import make_engine, make_session_factory

log = logging.getLogger(__name__)
RASA_READY_TIMEOUT = 180.0
# The console demo takes reports before a task-force group is configured; nothing is sent from the console, and the
# queued reports go to TASKFORCE_CHAT_ID once the bot serves Telegram. No Telegram chat has id 0.
NO_GROUP_YET = 0


@dataclass
class App:
    settings: Settings
    content: ContentStore
    engine: Engine
    nlu: Nlu
    registry: AgencyRegistry
    reports: ReportService | None  # None when REPORT_ENCRYPTION_KEYS or TASKFORCE_CHAT_ID is not set
    nlu_mode: NluMode
    insights: InsightRepository  # the counters' store (read by /statistik and the CLI)
    chat_states: ChatStateRepository  # for the expiry chore (CHAT_STATE_RETENTION_DAYS)
    inbox: InboxRepository  # Telegram updates stored before they are acknowledged (bot/channels/telegram_inbox.py)
    delivery_lead: Leadership  # the one process of a deployment that sends the outbox and runs the reminders
    recorder: InsightRecorder | None = None  # counts turns when build_app(count_insights=True)


def configure_logging(settings: Settings) -> None:
    """Third-party loggers at WARNING at most (PTB logs whole updates at DEBUG), secrets redacted from every line."""
    setup_logging(settings.log_level, secrets=settings_secrets(settings))


def settings_secrets(settings: Settings) -> list[str]:
    """Every configured secret, to be redacted wherever it would appear in a log line."""
    from sqlalchemy.engine import make_url

    secrets = [settings.telegram_bot_token, settings.rasa_auth_token, settings.telegram_webhook_secret,
               *settings.report_encryption_keys]
    with contextlib.suppress(Exception):  # a URL SQLAlchemy cannot parse has no password to hide
        secrets.append(make_url(settings.database_url).password)
    return [s for s in secrets if s]


def prepare_database(database_url: str) -> tuple[DatabaseEngine, sessionmaker[Session]]:
    """Apply migrations and load the seed data; return the engine and its session factory."""
    upgrade(database_url)
    db_engine = make_engine(database_url)
    sessions = make_session_factory(db_engine)
    seed_registry(AgencyRepository(sessions))
    return db_engine, sessions


@contextlib.contextmanager
def build_app(settings: Settings, fallback_only: bool = False, wait_for_nlu: bool = False,
              count_insights: bool = False, console: bool = False, limit_chats: bool = False) -> Iterator[App]:
    """Migrate and seed the database, load content, connect NLU (starting a managed Rasa server if needed).

    `count_insights`: count the turns for insights (serving real users; not the console, `ask` or evaluations).
    `limit_chats`: apply MESSAGES_PER_MINUTE per chat (serving Telegram; not the console, `ask` or evaluations,
    which send many messages from one chat id on purpose)."""
    db_engine, sessions = prepare_database(settings.database_url)
    registry = AgencyRegistry(AgencyRepository(sessions))
    content = ContentStore(settings.content_dir)
    with contextlib.ExitStack() as stack:
        stack.callback(db_engine.dispose)
        remote, mode = (None, NluMode.FALLBACK_ONLY) if fallback_only else _connect_rasa(settings, content, stack,
                                                                                          wait_for_nlu)
        nlu = Nlu(content, training.NLU_DATA_DIR, remote, training.models_dir(settings.var_dir))
        reports = report_service(settings, sessions, content, registry, console=console)
        insight_store = InsightRepository(sessions)
        recorder = InsightRecorder(insight_store, training.NLU_DATA_DIR) if count_insights else None
        if recorder is not None:
            stack.callback(recorder.close)
        sealer = reports.cipher if reports else None
        states = ChatStateRepository(sessions, sealer)
        engine = Engine(content, nlu, states, registry, reports, insights=recorder,
                        limiter=ChatRateLimiter(settings.messages_per_minute) if limit_chats else None,
                        retention_days=settings.chat_state_retention_days)
        yield App(settings=settings, content=content, engine=engine, nlu=nlu, registry=registry, reports=reports,
                  nlu_mode=mode, insights=insight_store, recorder=recorder, chat_states=states,
                  inbox=InboxRepository(sessions, sealer), delivery_lead=Leadership(sessions, "delivery"))


def report_service(settings: Settings, sessions: sessionmaker[Session], content: ContentStore,
                   registry: AgencyRegistry, check: bool = True, console: bool = False) -> ReportService | None:
    """The report service, or None when reports are off; `check`: stop when the keys cannot read the database.

    `console`: the local demo takes reports with a key alone (no group yet): they are stored and queued for the
    task force, and staff act on them with `python -m bot reports set-status`."""
    if console and settings.report_encryption_key is not None and settings.taskforce_chat_id is None:
        pass  # the console demo: stored and queued until a TASKFORCE_CHAT_ID is configured
    elif not settings.reports_enabled:
        log.warning("reports are switched off: set REPORT_ENCRYPTION_KEYS and TASKFORCE_CHAT_ID to take them")
        return None
    service = ReportService(ReportRepository(sessions), ReportCipher(settings.report_encryption_keys), content,
                            registry, settings.taskforce_chat_id or NO_GROUP_YET, settings.staff_user_ids,
                            timedelta(minutes=settings.taskforce_reminder_minutes), settings.reports_per_day)
    try:
        if check:
            service.check_key()
    except KeyCheckFailed as exc:
        raise SystemExit(f"Error: {exc}") from None
    return service


def _connect_rasa(settings: Settings, content: ContentStore, stack: contextlib.ExitStack,
                  wait: bool) -> tuple[NluServer | None, NluMode]:
    """The Rasa server(s) of RASA_URL, else the managed one (started here when none runs on RASA_PORT).

    A frozen or failing server is not waited for: one server is behind a circuit breaker, several are a failover pool
    (bot/nlu/rasa_pool.py)."""
    if settings.rasa_urls:
        remote = remote_nlu(settings.rasa_urls, settings.rasa_auth_token, settings.rasa_timeout)
        stack.callback(remote.close)
        return remote, NluMode.RASA
    token = managed_auth_token(settings.var_dir, settings.rasa_auth_token)
    client = remote_nlu([f"http://127.0.0.1:{settings.rasa_port}"], token, settings.rasa_timeout)
    stack.callback(client.close)
    if client.is_ready():
        log.info("using the Rasa NLU server already running on port %s", settings.rasa_port)
        return client, NluMode.RASA
    model: Path | None = training.model_path(settings.var_dir, content.current())
    if model is None or not model.exists():
        model = training.latest_model(settings.var_dir)
        if model is not None:
            log.warning("the NLU training data changed since %s was trained; run `python -m bot train`", model.name)
    if model is None or not training.rasa_executable().exists():
        log.warning("no NLU model or no Rasa install (run `make setup` and `python -m bot train`); "
                    "understanding messages with the local classifier only")
        return None, NluMode.FALLBACK_ONLY
    server = ManagedRasa(model, settings.rasa_port, token, settings.var_dir)
    server.start()
    stack.callback(server.stop)
    if wait:
        print("Starting the NLU server (about 30 seconds)...", file=sys.stderr, flush=True)
        if not server.wait_ready(RASA_READY_TIMEOUT):
            log.warning("the NLU server is not ready yet; answering with the local classifier meanwhile")
    return client, NluMode.MANAGED_RASA
