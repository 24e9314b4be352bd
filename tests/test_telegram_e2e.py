"""End to end: the real `python -m bot run` process against a local fake Telegram Bot API and the real Rasa server."""
import os
import subprocess
import sys

import pytest

from bot.settings import PROJECT_ROOT
from bot.textformat import html_to_text
from tests.conftest import RASA_TEST_TOKEN, wait_until
from tests.fake_telegram import FakeTelegram

TOKEN = "123456:TEST-token-for-the-fake-bot-api-0000"
MENU = ["menu:faq", "menu:agency", "menu:report", "menu:emergency"]


@pytest.fixture(scope="module")
def telegram(rasa_server, tmp_path_factory):
    """The fake Bot API with the bot process polling it."""
    fake = FakeTelegram(TOKEN).start()
    tmp = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.url,
        "DATABASE_URL": f"sqlite:///{tmp / 'bot.sqlite3'}",
        "RASA_URL": rasa_server.url,
        "RASA_AUTH_TOKEN": RASA_TEST_TOKEN,
        "BOT_VAR_DIR": str(tmp),
    }
    log = (tmp / "bot.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: fake.calls_to("setMyCommands") or process.poll() is not None, timeout=60)
        assert process.poll() is None, (tmp / "bot.log").read_text()
        fake.process, fake.log_path = process, tmp / "bot.log"
        yield fake
    finally:
        process.terminate()
        process.wait(timeout=30)
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

    topics = exchange(telegram, chat, telegram.press, "menu:faq")
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
