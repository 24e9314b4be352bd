"""The console (`make run` without a token) takes reports like Telegram does: stored, queued, acted on by staff."""
import subprocess
import sys

from bot.app import build_app
from bot.channels import console
from bot.reports import codes
from bot.reports.crypto import new_key
from bot.settings import PROJECT_ROOT
from tests.conftest import settings_for
from tests.helpers import text_of
from tests.test_reports_safety import file


def test_the_console_demo_takes_reports_and_staff_act_on_them_from_the_command_line(sqlite_url, tmp_path):
    key = new_key()
    settings = settings_for(database_url=sqlite_url, report_encryption_keys=key)  # no TASKFORCE_CHAT_ID
    with build_app(settings, fallback_only=True) as served:
        assert served.reports is None  # serving Telegram without a group: reports stay off
    with build_app(settings, fallback_only=True, console=True) as app:
        note = console.demo_note(app)
        assert "LOCAL DEMO" in note and "No TASKFORCE_CHAT_ID" in note and "set-status" in note
        code = file(app, chat=console.CONSOLE_CHAT_ID)
        assert codes.find_code(code)
        assert app.reports.repository.pending_deliveries(app.reports.repository.by_code(code).id)  # queued
        env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": sqlite_url, "REPORT_ENCRYPTION_KEYS": key,
               "BOT_VAR_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
        result = subprocess.run([sys.executable, "-m", "bot", "reports", "set-status", code, "diproses",
                                 "--by", "Petugas Demo"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "baru -> diproses" in result.stdout
        status = text_of(app.engine.handle(console.Incoming(0, 0, text=f"/status {code}")))
        assert "Sedang ditangani" in status or "diproses" in status.lower()
