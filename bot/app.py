"""Composition root: build the engine and its services from settings, and tear them down."""
from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from db.agencies import AgencyRepository
from db.chat_state import ChatStateRepository
from db.migrate import upgrade
from db.reports import ReportRepository
from db.session import make_engine, make_session_factory

from bot.content import ContentStore
from bot.dialogue.engine import Engine
from bot.nlu import training
from bot.nlu.rasa_client import RasaClient
from bot.nlu.rasa_server import ManagedRasa, managed_auth_token
from bot.nlu.service import Nlu
from bot.registry.service import AgencyRegistry, seed_registry
from bot.reports.crypto import ReportCipher
from bot.reports.service import ReportService
from bot.settings import Settings

log = logging.getLogger(__name__)
RASA_READY_TIMEOUT = 180.0


@dataclass
class App:
    settings: Settings
    content: ContentStore
    engine: Engine
    nlu: Nlu
    registry: AgencyRegistry
    reports: ReportService | None  # None when REPORT_ENCRYPTION_KEY or TASKFORCE_CHAT_ID is not set
    nlu_mode: str  # "rasa", "managed-rasa" or "fallback-only"


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL at INFO, which would include the Rasa token and the Telegram bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def prepare_database(database_url: str):
    """Apply migrations and load the seed data; return the engine and its session factory."""
    upgrade(database_url)
    db_engine = make_engine(database_url)
    sessions = make_session_factory(db_engine)
    seed_registry(AgencyRepository(sessions))
    return db_engine, sessions


@contextlib.contextmanager
def build_app(settings: Settings, fallback_only: bool = False, wait_for_nlu: bool = False) -> Iterator[App]:
    """Migrate and seed the database, load content, connect NLU (starting a managed Rasa server if needed)."""
    db_engine, sessions = prepare_database(settings.database_url)
    registry = AgencyRegistry(AgencyRepository(sessions))
    content = ContentStore(settings.content_dir)
    with contextlib.ExitStack() as stack:
        stack.callback(db_engine.dispose)
        rasa, mode = (None, "fallback-only") if fallback_only else _connect_rasa(settings, content, stack, wait_for_nlu)
        nlu = Nlu(content, training.NLU_DATA_DIR, rasa)
        reports = report_service(settings, sessions, content, registry)
        engine = Engine(content, nlu, ChatStateRepository(sessions), registry, reports)
        yield App(settings=settings, content=content, engine=engine, nlu=nlu, registry=registry, reports=reports,
                  nlu_mode=mode)


def report_service(settings: Settings, sessions, content: ContentStore,
                   registry: AgencyRegistry) -> ReportService | None:
    if not settings.reports_enabled:
        log.warning("reports are switched off: set REPORT_ENCRYPTION_KEY and TASKFORCE_CHAT_ID to take them")
        return None
    return ReportService(ReportRepository(sessions), ReportCipher(settings.report_encryption_key), content, registry,
                         settings.taskforce_chat_id, settings.staff_user_ids,
                         timedelta(minutes=settings.taskforce_reminder_minutes))


def _connect_rasa(settings: Settings, content: ContentStore, stack: contextlib.ExitStack, wait: bool):
    if settings.rasa_url is not None:
        client = RasaClient(settings.rasa_url, settings.rasa_auth_token, settings.rasa_timeout)
        stack.callback(client.close)
        return client, "rasa"
    token = managed_auth_token(settings.var_dir, settings.rasa_auth_token)
    client = RasaClient(f"http://127.0.0.1:{settings.rasa_port}", token, settings.rasa_timeout)
    stack.callback(client.close)
    if client.is_ready():
        log.info("using the Rasa NLU server already running on port %s", settings.rasa_port)
        return client, "rasa"
    model = training.model_path(settings.var_dir, content.current())
    if not model.exists():
        model = training.latest_model(settings.var_dir)
        if model is not None:
            log.warning("the NLU training data changed since %s was trained; run `python -m bot train`", model.name)
    if model is None or not training.rasa_executable().exists():
        log.warning("no NLU model or no Rasa install (run `make setup` and `python -m bot train`); "
                    "understanding messages with the fallback matcher only")
        return None, "fallback-only"
    server = ManagedRasa(model, settings.rasa_port, token, settings.var_dir)
    server.start()
    stack.callback(server.stop)
    if wait:
        print("Starting the NLU server (about 30 seconds)...", file=sys.stderr, flush=True)
        if not server.wait_ready(RASA_READY_TIMEOUT):
            log.warning("the NLU server is not ready yet; answering with the fallback matcher meanwhile")
    return client, "managed-rasa"
