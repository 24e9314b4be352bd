"""Logs cannot leak: secrets, tokens and query strings redacted; third-party loggers capped at WARNING."""
import io
import logging

from bot.logsafety import minimal_environment, redact, setup_logging

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"


def test_tokens_query_strings_and_passwords_are_redacted():
    line = (f"httpx.ConnectError for url https://api.telegram.org/bot{TOKEN}/getUpdates and "
            "http://127.0.0.1:5005/model/parse?token=rasa-secret-1234 db postgresql+psycopg://bot:hunter2@db/x "
            "key=abcdefgh")
    cleaned = redact(line, secrets=["my-fernet-key-0000"])
    for secret in (TOKEN, "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq", "rasa-secret-1234", "hunter2", "abcdefgh"):
        assert secret not in cleaned
    assert "/model/parse?<redacted>" in cleaned and "api.telegram.org" in cleaned
    assert redact("the key is my-fernet-key-0000", ["my-fernet-key-0000"]) == "the key is <redacted>"


def test_debug_level_is_for_the_bot_only_and_every_line_is_redacted():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup_logging("DEBUG", secrets=["s3cret-value"], stream=stream)
        logging.getLogger("telegram.ext.Application").debug("update {'text': 'Adik saya dibawa calo'}")
        logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
        logging.getLogger("bot.reports.service").debug("report TPPO-2026-AAAAAA filed")
        try:
            raise RuntimeError(f"failed at https://api.telegram.org/bot{TOKEN}/x with s3cret-value")
        except RuntimeError:
            logging.getLogger("bot.channels").exception("delivery failed")
        logging.getLogger("telegram.ext.Updater").warning("network error")
        out = stream.getvalue()
        assert "Adik saya" not in out and TOKEN not in out and "s3cret-value" not in out
        assert "report TPPO-2026-AAAAAA filed" in out and "network error" in out and "delivery failed" in out
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name in ("bot", "db", "__main__"):
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_a_helper_process_gets_no_secrets(monkeypatch):
    monkeypatch.setenv("REPORT_ENCRYPTION_KEYS", "k")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:pw@db/x")
    env = minimal_environment({"RASA_TELEMETRY_ENABLED": "false"})
    assert "PATH" in env and env["RASA_TELEMETRY_ENABLED"] == "false"
    assert not {"REPORT_ENCRYPTION_KEYS", "TELEGRAM_BOT_TOKEN", "DATABASE_URL"} & set(env)
