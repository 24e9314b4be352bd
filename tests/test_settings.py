import subprocess
import sys

import pytest

from bot.settings import PROJECT_ROOT, SettingsError, load_settings
from tests.conftest import NO_ENV_FILE, settings_for


def test_defaults_use_sqlite_under_var_and_a_managed_rasa():
    settings = settings_for()
    assert settings.database_url.startswith("sqlite:///") and "/var/" in settings.database_url
    assert settings.managed_rasa and settings.telegram_bot_token is None
    assert settings.staff_user_ids == frozenset() and settings.taskforce_chat_id is None


@pytest.mark.parametrize("name, value", [
    ("TELEGRAM_BOT_TOKEN", "not-a-token"),
    ("TELEGRAM_API_BASE_URL", "localhost:8081"),
    ("DATABASE_URL", "mysql://x"),
    ("RASA_URL", "127.0.0.1:5005"),
    ("TASKFORCE_CHAT_ID", "gugus-tugas"),
    ("STAFF_USER_IDS", "123, abc"),
    ("LOG_LEVEL", "LOUD"),
    ("RASA_TIMEOUT", "-1"),
    ("TELEGRAM_WEBHOOK_SECRET", "short"),
])
def test_a_malformed_value_names_its_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value}, env_file=NO_ENV_FILE)


def test_lists_and_ids_are_parsed():
    settings = settings_for(staff_user_ids="11, 22 33", taskforce_chat_id="-1001234567890")
    assert settings.staff_user_ids == frozenset({11, 22, 33})
    assert settings.taskforce_chat_id == -1001234567890


def test_env_file_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("LOG_LEVEL=debug\nTASKFORCE_CHAT_ID=-100\n")
    settings = load_settings({"TASKFORCE_CHAT_ID": "-200"}, env_file=env_file)
    assert settings.log_level == "DEBUG" and settings.taskforce_chat_id == -200


def test_cli_reports_a_bad_setting_in_one_line_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--fallback-only", "halo"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "TASKFORCE_CHAT_ID": "gugus", "BOT_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Configuration error: TASKFORCE_CHAT_ID is malformed: 'gugus' is not a whole number"
    )
