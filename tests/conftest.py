"""Shared fixtures: real databases (SQLite, a throwaway PostgreSQL cluster), the real Rasa server, the app."""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from bot.app import build_app
from bot.content import Content
from bot.nlu import training
from bot.nlu.rasa_server import ManagedRasa
from bot.settings import PROJECT_ROOT, VAR_DIR, load_settings

NO_ENV_FILE = Path("/nonexistent/.env")
RASA_TEST_TOKEN = "test-rasa-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings_for(**env: str):
    """Settings from exactly these variables (the developer's .env is ignored)."""
    return load_settings({k.upper(): v for k, v in env.items()}, env_file=NO_ENV_FILE)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.sqlite3'}"


@pytest.fixture
def fallback_app(sqlite_url: str):
    """The whole app with a fresh SQLite database and the fallback matcher only (Rasa not involved)."""
    with build_app(settings_for(database_url=sqlite_url), fallback_only=True) as app:
        yield app


@pytest.fixture(scope="session")
def nlu_model() -> Path:
    model = training.model_path(VAR_DIR, Content(PROJECT_ROOT / "content"))
    if not model.exists():
        pytest.fail(f"no NLU model for the current training data ({model.name}): run `python -m bot train` first")
    return model


@pytest.fixture(scope="session")
def rasa_server(nlu_model: Path, tmp_path_factory):
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
def rasa_app(sqlite_url: str, rasa_server: ManagedRasa):
    """The whole app understanding messages with the real Rasa server."""
    settings = settings_for(database_url=sqlite_url, rasa_url=rasa_server.url, rasa_auth_token=RASA_TEST_TOKEN)
    with build_app(settings) as app:
        yield app


def _postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


@contextlib.contextmanager
def throwaway_postgres():
    """A PostgreSQL cluster in a temp dir (run as the `postgres` user when we are root).

    Yields (url, stop): `stop()` shuts the server down at once, for tests of a database that goes away."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="bot-pg-"))
    base.chmod(0o777)
    data = base / "data"
    port = free_port()
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "bot", "--auth=trust", "-E", "UTF8")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o",
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start")

    def stop():
        with contextlib.suppress(subprocess.CalledProcessError):
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")

    try:
        yield f"postgresql+psycopg://bot@127.0.0.1:{port}/postgres", stop
    finally:
        stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url():
    with throwaway_postgres() as (url, _stop):
        yield url


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")
