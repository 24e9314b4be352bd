"""End to end: the real `python -m bot run` process against a local fake Telegram Bot API and the real Rasa server."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.nlu.rasa_server import ManagedRasa
from bot.settings import PROJECT_ROOT
from bot.textformat import html_to_text
from tests.conftest import RASA_TEST_TOKEN, free_port, wait_until
from tests.fake_telegram import TOKEN, FakeTelegram, Json

MENU = ["menu:faq", "menu:agency", "menu:offer", "menu:report", "menu:emergency"]


@dataclass(frozen=True)
class BotProcess:
    """A running `python -m bot run`: the process, its log file and the environment it was started with."""

    popen: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]

    def log(self) -> str:
        return self.log_path.read_text()

    def running(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        self.popen.kill()
        self.popen.wait()


@contextlib.contextmanager
def bot_process(fake: FakeTelegram, tmp: Path, **env_extra: str) -> Iterator[BotProcess]:
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
        popen = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env=env,
                                 stdout=log, stderr=subprocess.STDOUT)
    process = BotProcess(popen, log_path, env)
    try:
        wait_until(lambda: fake.calls_to("setMyCommands") or not process.running(), timeout=60)
        assert process.running(), process.log()
        yield process
    finally:
        popen.terminate()
        popen.wait(timeout=30)


@pytest.fixture(scope="module")
def telegram_bot(module_fake_bot_api: FakeTelegram, rasa_server: ManagedRasa,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """The bot process polling the module's fake Bot API (NLU by the real Rasa server)."""
    with bot_process(module_fake_bot_api, tmp_path_factory.mktemp("e2e"), RASA_URL=rasa_server.url,
                     RASA_AUTH_TOKEN=RASA_TEST_TOKEN) as process:
        yield process


@pytest.fixture
def telegram(module_fake_bot_api: FakeTelegram, telegram_bot: BotProcess) -> FakeTelegram:
    """The fake Bot API, with the bot serving it."""
    return module_fake_bot_api


def buttons(message: Json) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [row[0]["callback_data"] for row in markup.get("inline_keyboard", [])]


def exchange(fake: FakeTelegram, chat: int, action: Callable[..., Any], *args: Any, count: int = 1) -> list[Json]:
    """Do one user action and return the bot's reply to it: the `count` messages it sends to that chat."""
    before = len(fake.sent_messages(chat))
    action(chat, *args)
    return fake.wait_for_turn(chat, before, count)


def test_start_menu_and_an_informal_question(telegram: FakeTelegram) -> None:
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


def test_the_command_menu_is_registered(telegram: FakeTelegram) -> None:
    commands = telegram.calls_to("setMyCommands")[0]["commands"]
    assert {"command": "start", "description": "Mulai dan lihat menu utama"} in commands


BAD_INPUTS: list[tuple[str, tuple[str, ...], str]] = [
    ("send_text", ("   ",), "kosong"),
    ("send_text", ("😀🙏😂",), "kata-kata"),
    ("send_text", ("tolong " * 715,), "Kontak darurat"),  # 5,000 characters, and a cry for help
    ("send_text", ("/perintah_aneh",), "tidak saya kenal"),
    ("send_sticker", (), "stiker"),
    ("send_photo", (), "foto"),
    ("press", ("faq:'; DROP TABLE chat_state; --",), "tidak berlaku"),
    ("press", ("<i>forged</i>",), "tidak berlaku"),
]


@pytest.mark.parametrize("action, args, expected", BAD_INPUTS)
def test_bad_input_gets_a_friendly_reply_and_the_bot_keeps_running(
        telegram: FakeTelegram, telegram_bot: BotProcess, action: str, args: tuple[str, ...], expected: str) -> None:
    chat = 6000 + BAD_INPUTS.index((action, args, expected))  # a fresh chat for each input
    replies = exchange(telegram, chat, getattr(telegram, action), *args)
    assert expected in html_to_text(replies[-1]["text"])
    assert "Traceback" not in replies[-1]["text"]
    assert telegram_bot.running()


def test_webhook_mode(fake_bot_api: FakeTelegram, tmp_path: Path) -> None:
    fake, port = fake_bot_api, free_port()
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


def test_when_the_database_fails_the_user_is_told_what_to_do(
        fake_bot_api: FakeTelegram, postgres_cluster: tuple[str, Callable[[], None]], tmp_path: Path) -> None:
    fake, (url, stop_database) = fake_bot_api, postgres_cluster
    with bot_process(fake, tmp_path, DATABASE_URL=url, RASA_URL=f"http://127.0.0.1:{free_port()}") as process:
        assert "selamat datang" in exchange(fake, 8001, fake.send_text, "/start")[0]["text"].lower()
        stop_database()
        replies = exchange(fake, 8001, fake.send_text, "halo")
        assert "terjadi gangguan" in replies[-1]["text"] and "110" in replies[-1]["text"]
        assert process.running()
        log = process.log()
        assert "error while handling update" in log  # the failure is logged ...
        assert "halo" not in log  # ... without the user's words


def test_an_agency_question_gets_a_verdict(telegram: FakeTelegram) -> None:
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
