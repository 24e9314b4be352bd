"""Shared fixtures: real databases (SQLite, a throwaway PostgreSQL cluster), the real Rasa server, the app, the fake
Telegram Bot API; and the markers (`rasa`, `e2e`, `postgres`) derived from the fixtures a test uses."""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn, TypeVar

import pytest

from bot.app import App, build_app, prepare_database
from bot.content import Content
from bot.nlu import training
from bot.nlu.rasa_server import ManagedRasa
from bot.settings import PROJECT_ROOT, VAR_DIR, Settings, load_settings
from tests.fake_telegram import TOKEN, FakeTelegram

NO_ENV_FILE = Path("/nonexistent/.env")
RASA_TEST_TOKEN = "test-rasa-token"
T = TypeVar("T")

# A test is marked when it uses one of these fixtures, directly or through another fixture, so a marker cannot
# drift from what the test really starts. `make test-fast` deselects `rasa` and `e2e`.
MARKER_FIXTURES: dict[str, frozenset[str]] = {
    "rasa": frozenset({"nlu_model", "rasa_server", "rasa_app"}),
    "e2e": frozenset({"fake_bot_api", "module_fake_bot_api"}),
    "postgres": frozenset({"postgres_url", "postgres_cluster"}),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in MARKER_FIXTURES.items():
            if used & fixtures:
                item.add_marker(marker)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def settings_for(**env: str) -> Settings:
    """Settings from exactly these variables (the developer's .env is ignored)."""
    return load_settings({k.upper(): v for k, v in env.items()}, env_file=NO_ENV_FILE)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated and seeded per session; each test gets a copy (the bot still checks it is at head)."""
    path = tmp_path_factory.mktemp("template") / "bot.sqlite3"
    prepare_database(f"sqlite:///{path}")[0].dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    shutil.copyfile(migrated_sqlite, tmp_path / "bot.sqlite3")
    return f"sqlite:///{tmp_path / 'bot.sqlite3'}"


@pytest.fixture
def fallback_app(sqlite_url: str) -> Iterator[App]:
    """The whole app with a fresh SQLite database and the local classifier only (Rasa not involved)."""
    with build_app(settings_for(database_url=sqlite_url), fallback_only=True) as app:
        yield app


@pytest.fixture(scope="session")
def nlu_model() -> Path:
    model = training.model_path(VAR_DIR, Content(PROJECT_ROOT / "content"))
    if not model.exists():
        pytest.fail(f"no NLU model for the current training data ({model.name}): run `python -m bot train` first")
    return model


@pytest.fixture(scope="session")
def rasa_server(nlu_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedRasa]:
    """A real Rasa NLU server on a free port, started through the bot's own managed-server code."""
    server = ManagedRasa(nlu_model, free_port(), RASA_TEST_TOKEN, tmp_path_factory.mktemp("rasa"))
    server.start()
    try:
        if not server.wait_ready(240):
            pytest.fail("the Rasa server did not become ready in 240 s")
        yield server
    finally:
        server.stop()


@pytest.fixture
def rasa_app(sqlite_url: str, rasa_server: ManagedRasa) -> Iterator[App]:
    """The whole app understanding messages with the real Rasa server."""
    settings = settings_for(database_url=sqlite_url, rasa_url=rasa_server.url, rasa_auth_token=RASA_TEST_TOKEN)
    with build_app(settings) as app:
        yield app


@contextlib.contextmanager
def _running_fake_bot_api() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(TOKEN).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_bot_api() -> Iterator[FakeTelegram]:
    """A fake Telegram Bot API of this test's own, for a bot process the test starts (tests.bot_process)."""
    with _running_fake_bot_api() as fake:
        yield fake


@pytest.fixture(scope="module")
def module_fake_bot_api() -> Iterator[FakeTelegram]:
    """A fake Telegram Bot API shared by a module's tests, for a bot process that serves them all."""
    with _running_fake_bot_api() as fake:
        yield fake


def _postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _no_postgres() -> NoReturn:
    """Where the server binaries are missing: a skip on a developer's machine, a failure in CI (CI set)."""
    missing = "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if _in_ci():
        pytest.fail(f"{missing}, and CI is set: the PostgreSQL tests must run in CI. Install the server "
                    "(Debian/Ubuntu: `apt-get install postgresql`, which puts initdb and pg_ctl in "
                    "/usr/lib/postgresql/<version>/bin, where the tests find them) or put their directory on PATH.",
                    pytrace=False)
    pytest.skip(f"{missing} (install the `postgresql` package to run these tests; in CI they fail instead)")


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[tuple[str, Callable[[], None]]]:
    """A PostgreSQL cluster in a temp dir (run as the `postgres` user when we are root).

    Yields (url, stop): `stop()` shuts the server down at once, for tests of a database that goes away. Tests that
    call this directly carry `pytest.mark.postgres`; the fixtures postgres_url and postgres_cluster mark by use."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        _no_postgres()
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="bot-pg-"))
    base.chmod(0o777)
    data = base / "data"
    port = free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True)

    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "bot", "--auth=trust", "-E", "UTF8")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o",
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start")

    def stop() -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")

    try:
        yield f"postgresql+psycopg://bot@127.0.0.1:{port}/postgres", stop
    finally:
        stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database shared by the session's tests."""
    with throwaway_postgres() as (url, _stop):
        yield url


@pytest.fixture
def postgres_cluster() -> Iterator[tuple[str, Callable[[], None]]]:
    """A PostgreSQL cluster of this test's own, as (url, stop): for a test that stops the database."""
    with throwaway_postgres() as cluster:
        yield cluster


def wait_until(predicate: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")
