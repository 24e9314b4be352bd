"""`python -m bot healthz`: one line per part, exit 0 when users can be served (a Rasa server down is only a
warning), 1 when they cannot, and never a secret in what it prints."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.app import build_app
from bot.health import Status, health
from bot.nlu.rasa_server import ManagedRasa
from bot.reports.crypto import new_key
from bot.settings import PROJECT_ROOT
from db.migrate import upgrade
from tests.conftest import RASA_TEST_TOKEN, free_port, settings_for

BOT_TOKEN = "123456789:AAHealthzTokenThatMustNeverBePrinted"
WEBHOOK_SECRET = "webhook-secret-never-printed"
RASA_TOKEN = "rasa-token-never-printed"
DB_PASSWORD = "db-password-never-printed"
RASA_URL_PASSWORD = "rasa-url-password-never-printed"
GROUP = "-1001234567890"


def healthz(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it, with exactly these settings (and a managed Rasa port nobody uses)."""
    environment = {"PATH": "/usr/bin:/bin", "BOT_VAR_DIR": str(tmp_path), "LOG_LEVEL": "WARNING",
                   "RASA_PORT": str(free_port()), **{k.upper(): v for k, v in env.items()}}
    return subprocess.run([sys.executable, "-m", "bot", "healthz", *args], cwd=PROJECT_ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def line_of(output: str, part: str) -> str:
    [line] = [line for line in output.splitlines() if line.split(" ", 1)[-1].lstrip().startswith(f"{part}:")]
    return line


def test_a_healthy_sqlite_bot_passes_and_prints_no_secret(sqlite_url, tmp_path):
    key, old_key = new_key(), new_key()
    settings = dict(database_url=sqlite_url, report_encryption_keys=f"{key},{old_key}", taskforce_chat_id=GROUP,
                    telegram_bot_token=BOT_TOKEN, telegram_webhook_url="https://bot.example.org",
                    telegram_webhook_secret=WEBHOOK_SECRET, rasa_auth_token=RASA_TOKEN)
    with build_app(settings_for(**settings), fallback_only=True):
        pass  # stores the key check, as the first start does

    result = healthz(tmp_path, **settings)

    assert result.returncode == 0, result.stdout + result.stderr
    assert line_of(result.stdout, "database").startswith("OK") and "(head)" in result.stdout
    assert line_of(result.stdout, "content").startswith("OK")
    assert line_of(result.stdout, "report key").startswith("OK") and "opens the reports" in result.stdout
    assert "webhook https://bot.example.org/telegram, shared secret set" in line_of(result.stdout, "telegram")
    assert result.stdout.rstrip().endswith("healthy: the bot can serve users (1 warning(s))")  # no Rasa running
    for secret in (BOT_TOKEN, BOT_TOKEN.split(":")[1], key, old_key, WEBHOOK_SECRET, RASA_TOKEN):
        assert secret not in result.stdout + result.stderr


def test_a_database_that_is_not_there_fails_with_a_clear_line(tmp_path):
    port = free_port()  # nothing listens there
    result = healthz(tmp_path, database_url=f"postgresql+psycopg://bot:{DB_PASSWORD}@127.0.0.1:{port}/migrasi")

    assert result.returncode == 1
    line = line_of(result.stdout, "database")
    assert line.startswith("FAILED") and f"PostgreSQL 127.0.0.1:{port}/migrasi: cannot connect" in line
    assert "Connection refused" in line and DB_PASSWORD not in result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("UNHEALTHY: the bot cannot serve users (see the FAILED lines)")

    missing = tmp_path / "nowhere" / "bot.sqlite3"
    result = healthz(tmp_path, database_url=f"sqlite:///{missing}")
    assert result.returncode == 1
    assert f"SQLite file {missing} does not exist: run `python -m bot db upgrade`" in line_of(result.stdout, "database")
    assert not missing.parent.exists()  # checking did not create an empty database


def test_a_dead_rasa_server_is_a_warning_not_a_failure(sqlite_url, tmp_path):
    port = free_port()
    result = healthz(tmp_path, "--json", database_url=sqlite_url,
                     rasa_url=f"http://rasa:{RASA_URL_PASSWORD}@127.0.0.1:{port}")

    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    [nlu] = [part for part in report["parts"] if part["part"].startswith("nlu ")]
    assert nlu["part"] == f"nlu http://rasa:<redacted>@127.0.0.1:{port}"
    assert nlu["status"] == "warning" and "the local classifier answers" in nlu["detail"]
    assert RASA_URL_PASSWORD not in result.stdout + result.stderr


def test_a_real_rasa_server_is_ready_and_a_dead_replica_beside_it_is_a_warning(sqlite_url, rasa_server: ManagedRasa):
    dead = f"http://127.0.0.1:{free_port()}"
    report = health(settings_for(database_url=sqlite_url, rasa_url=f"{rasa_server.url},{dead}",
                                 rasa_auth_token=RASA_TEST_TOKEN))

    lines = {part.part: part for part in report.parts}
    assert lines[f"nlu {rasa_server.url}"].status is Status.OK
    assert lines[f"nlu {rasa_server.url}"].line() == f"OK      nlu {rasa_server.url}: ready, model loaded"
    assert lines[f"nlu {dead}"].status is Status.WARNING
    assert "messages go to the other replicas" in lines[f"nlu {dead}"].detail
    assert report.ok


def test_a_wrong_report_key_fails(sqlite_url):
    with build_app(settings_for(database_url=sqlite_url, report_encryption_keys=new_key(), taskforce_chat_id=GROUP),
                   fallback_only=True):
        pass  # the database now holds a key check sealed with that key

    report = health(settings_for(database_url=sqlite_url, report_encryption_keys=new_key(), taskforce_chat_id=GROUP))

    [key] = [part for part in report.parts if part.part == "report key"]
    assert key.status is Status.FAILED and "wrong or lost key" in key.detail
    assert not report.ok


def test_a_schema_behind_the_code_fails_and_says_how_to_fix_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, "0005")

    report = health(settings_for(database_url=url))

    [database] = [part for part in report.parts if part.part == "database"]
    assert database.status is Status.FAILED
    assert "schema at 0005, this code needs" in database.detail and "python -m bot db upgrade" in database.detail


def test_postgresql_at_head_is_healthy(postgres_url):
    build_app_settings = settings_for(database_url=postgres_url)
    with build_app(build_app_settings, fallback_only=True):
        pass  # migrated, as the first worker's start does

    report = health(build_app_settings)

    [database] = [part for part in report.parts if part.part == "database"]
    assert database.status is Status.OK and database.detail.startswith("PostgreSQL 127.0.0.1:")
    assert "(head)" in database.detail and report.ok
