"""End to end: the real `python -m bot run` process against a local fake Telegram Bot API and the real Rasa server."""
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from bot.textformat import html_to_text
import httpx

from tests.conftest import RASA_TEST_TOKEN, free_port, throwaway_postgres, wait_until
from tests.fake_telegram import FakeTelegram

TOKEN = "123456:TEST-token-for-the-fake-bot-api-0000"
MENU = ["menu:faq", "menu:agency", "menu:offer", "menu:report", "menu:emergency"]


@contextlib.contextmanager
def bot_process(fake: FakeTelegram, tmp: Path, **env_extra: str):
    """`python -m bot run` serving the fake Bot API; yields the process once it is up."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.url,
        "DATABASE_URL": f"sqlite:///{tmp / 'bot.sqlite3'}",
        "BOT_VAR_DIR": str(tmp),
        **env_extra,
    }
    log_path = tmp / "bot.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: fake.calls_to("setMyCommands") or process.poll() is not None, timeout=60)
        assert process.poll() is None, log_path.read_text()
        process.log_path, process.env = log_path, env
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def telegram(rasa_server, tmp_path_factory):
    """The fake Bot API with the bot process polling it (NLU by the real Rasa server)."""
    fake = FakeTelegram(TOKEN).start()
    try:
        with bot_process(fake, tmp_path_factory.mktemp("e2e"), RASA_URL=rasa_server.url,
                         RASA_AUTH_TOKEN=RASA_TEST_TOKEN) as process:
            fake.process = process
            yield fake
    finally:
        fake.stop()


def buttons(message: dict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [row[0]["callback_data"] for row in markup.get("inline_keyboard", [])]


def exchange(telegram: FakeTelegram, chat: int, action, *args) -> list[dict]:
    """Do one user action and return the bot's new messages to that chat."""
    before = len(telegram.sent_messages(chat))
    action(chat, *args)
    return telegram.wait_for_turn(chat, before)


def test_start_menu_and_an_informal_question(telegram):
    chat = 5001
    greeting = exchange(telegram, chat, telegram.send_text, "/start")
    assert "selamat datang" in greeting[0]["text"].lower()
    assert greeting[0]["parse_mode"] == "HTML"
    assert buttons(greeting[-1]) == MENU

    groups = exchange(telegram, chat, telegram.press, "menu:faq")
    assert "group:persiapan" in buttons(groups[-1])
    topics = exchange(telegram, chat, telegram.press, "group:persiapan")
    assert "faq:syarat" in buttons(topics[-1])
    assert telegram.calls_to("answerCallbackQuery")

    answer = exchange(telegram, chat, telegram.send_text, "syarat jd tkw ke malaysia apa sj kk")
    text = html_to_text(answer[-1]["text"])
    assert "minimal 18 tahun" in text and "Dasar hukum: UU 18/2017 Pasal 5" in text
    assert "<b>minimal 18 tahun</b>" in answer[-1]["text"]  # sent as Telegram HTML
    assert buttons(answer[-1])[-1] == "menu"


def test_the_command_menu_is_registered(telegram):
    commands = telegram.calls_to("setMyCommands")[0]["commands"]
    assert {"command": "start", "description": "Mulai dan lihat menu utama"} in commands


@pytest.mark.parametrize("action, args, expected", [
    ("send_text", ("   ",), "kosong"),
    ("send_text", ("😀🙏😂",), "kata-kata"),
    ("send_text", ("tolong " * 715,), None),
    ("send_text", ("/perintah_aneh",), "tidak saya kenal"),
    ("send_sticker", (), "stiker"),
    ("send_photo", (), "foto"),
    ("press", ("faq:'; DROP TABLE chat_state; --",), "tidak berlaku"),
    ("press", ("<i>forged</i>",), "tidak berlaku"),
])
def test_bad_input_gets_a_friendly_reply_and_the_bot_keeps_running(telegram, action, args, expected):
    chat = 6000 + len(telegram.calls)
    replies = exchange(telegram, chat, getattr(telegram, action), *args)
    assert replies and all(r["text"].strip() for r in replies)
    if expected:
        assert expected in html_to_text(replies[-1]["text"])
    assert "Traceback" not in "".join(r["text"] for r in replies)
    assert telegram.process.poll() is None


def test_webhook_mode(tmp_path):
    fake = FakeTelegram(TOKEN).start()
    port = free_port()
    try:
        with bot_process(fake, tmp_path, TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}",
                         TELEGRAM_WEBHOOK_PORT=str(port), TELEGRAM_WEBHOOK_SECRET="shared-secret-of-the-workers",
                         RASA_URL=f"http://127.0.0.1:{free_port()}"):
            hook = wait_until(lambda: fake.calls_to("setWebhook"), timeout=30)[0]
            assert hook["url"] == f"http://127.0.0.1:{port}/telegram"
            assert hook["secret_token"] == "shared-secret-of-the-workers"
            update = {"update_id": 1, "message": {
                "message_id": 1, "date": 1700000000, "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                "chat": {"id": 7001, "type": "private", "first_name": "Ina"},
                "from": {"id": 7001, "is_bot": False, "first_name": "Ina"}}}
            forged = httpx.post(hook["url"], json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            assert forged.status_code == 403
            response = httpx.post(hook["url"], json=update,
                                  headers={"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]})
            assert response.status_code == 200
            assert "selamat datang" in fake.wait_for_messages(7001, 1)[0]["text"].lower()
    finally:
        fake.stop()


def test_when_the_database_fails_the_user_is_told_what_to_do(tmp_path):
    fake = FakeTelegram(TOKEN).start()
    try:
        with throwaway_postgres() as (url, stop_database), bot_process(
            fake, tmp_path, DATABASE_URL=url, RASA_URL=f"http://127.0.0.1:{free_port()}"
        ) as process:
            assert "selamat datang" in exchange(fake, 8001, fake.send_text, "/start")[0]["text"].lower()
            stop_database()
            replies = exchange(fake, 8001, fake.send_text, "halo")
            assert "terjadi gangguan" in replies[-1]["text"] and "110" in replies[-1]["text"]
            assert process.poll() is None
            assert "halo" not in process.log_path.read_text()  # the user's words stay out of the logs
    finally:
        fake.stop()


def test_an_agency_question_gets_a_verdict(telegram):
    chat = 5101
    replies = exchange(telegram, chat, telegram.send_text, "PT sinar jaya resmi gk??")
    text = html_to_text(replies[-1]["text"])
    assert "PT Sinar Jaya terdaftar" in text and "data contoh, bukan data resmi" in text
    assert buttons(replies[-1])[0] == "menu:report"

    exchange(telegram, chat, telegram.press, "menu:agency")
    revoked = html_to_text(exchange(telegram, chat, telegram.send_text, "multi intan amanah internasional")[-1]["text"])
    assert "IZINNYA DICABUT" in revoked and "lebih dari 30 hari" in revoked

    exchange(telegram, chat, telegram.press, "menu:agency")
    unknown = exchange(telegram, chat, telegram.send_text, "PT <i>Palsu</i> Sekali")[-1]["text"]
    assert "TIDAK DITEMUKAN" in unknown and "&lt;i&gt;Palsu&lt;/i&gt;" in unknown
