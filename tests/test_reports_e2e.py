"""End to end: trafficking reports through the real bot process, the fake Bot API and the real Rasa server."""
from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading

import pytest

from bot.reports.crypto import new_key
from bot.settings import PROJECT_ROOT
from bot.textformat import html_to_text

from tests.conftest import RASA_TEST_TOKEN, wait_until
from tests.fake_telegram import FakeTelegram
from tests.test_telegram_e2e import TOKEN, bot_process, buttons, exchange

TASKFORCE = -1001234567890
STAFF_ID = 777  # in STAFF_USER_IDS
MEMBER_ID = 888  # not listed, but a member of the task-force group
OUTSIDER_ID = 555
CODE_RE = re.compile(r"TPPO-\d{4}-[2-9A-HJKMNP-Z]{6}")


def report_env(tmp, rasa_server, key: str) -> dict:
    return {"TASKFORCE_CHAT_ID": str(TASKFORCE), "STAFF_USER_IDS": str(STAFF_ID), "REPORT_ENCRYPTION_KEY": key,
            "RASA_URL": rasa_server.url, "RASA_AUTH_TOKEN": RASA_TEST_TOKEN}


@pytest.fixture(scope="module")
def desk(rasa_server, tmp_path_factory):
    """The fake Bot API with the bot serving it, reports switched on."""
    tmp = tmp_path_factory.mktemp("reports")
    fake = FakeTelegram(TOKEN).start()
    fake.members[TASKFORCE] = {MEMBER_ID}
    try:
        with bot_process(fake, tmp, **report_env(tmp, rasa_server, new_key())) as process:
            fake.process, fake.tmp = process, tmp
            yield fake
    finally:
        fake.stop()


def text(messages: list[dict]) -> str:
    return "\n".join(html_to_text(m.get("text") or m.get("caption") or "") for m in messages)


def staff_messages(fake: FakeTelegram, code: str) -> list[dict]:
    return [p for method, p in fake.sent_to(TASKFORCE) if method == "sendMessage" and code in p["text"]
            and "PENGINGAT" not in p["text"]]


def file_report(fake: FakeTelegram, chat: int, story: str, contact: str = "bot", urgent: bool = False) -> str:
    """Go through the report with a story and the given contact choice; return the code."""
    exchange(fake, chat, fake.send_text, "/lapor")
    exchange(fake, chat, fake.press, "report:danger_yes" if urgent else "report:danger_no")
    exchange(fake, chat, fake.send_text, story)
    for _step in ("category", "where", "who", "when"):
        exchange(fake, chat, fake.press, "report:skip")
    exchange(fake, chat, fake.press, "report:evidence_done")
    labels = {"bot": "💬 Cukup kabari lewat bot ini", "anonymous": "🙈 Anonim, jangan hubungi saya"}
    exchange(fake, chat, fake.send_text, labels.get(contact, contact))
    sent = exchange(fake, chat, fake.press, "report:send")
    return CODE_RE.search(text(sent)).group(0)


def test_full_report_with_evidence_and_contact(desk):
    chat = 9101
    opening = exchange(desk, chat, desk.send_text, "/lapor")
    assert "rahasia" in text(opening) and "dalam bahaya sekarang" in text(opening)
    assert buttons(opening[-1])[:2] == ["report:danger_yes", "report:danger_no"]
    asked = exchange(desk, chat, desk.press, "report:danger_no")
    assert "Apa yang terjadi" in text(asked)
    story = "Adik saya Maria (17 th) dibawa calo ke Batam tanpa dokumen, sekarang hp-nya mati"
    assert "Kejadiannya termasuk" in text(exchange(desk, chat, desk.send_text, story))
    where = exchange(desk, chat, desk.press, "report:cat_anak")
    assert "Di mana korban" in text(where)
    regencies = exchange(desk, chat, desk.press, "report:where_ntt")
    assert "report:reg_5304" in [b["callback_data"] for row in regencies[-1]["reply_markup"]["inline_keyboard"]
                                 for b in row]
    assert "Siapa yang merekrut" in text(exchange(desk, chat, desk.press, "report:reg_5304"))
    who = exchange(desk, chat, desk.send_text, "Om Beni, katanya dari PT Sinar Jaya, hp 0813 1111 2222")
    assert "PT Sinar Jaya" in text(who) and "Kapan" in text(who)
    assert "bukti" in text(exchange(desk, chat, desk.press, "report:when_minggu")).lower()
    assert "Bukti ke-1" in text(exchange(desk, chat, desk.send_photo, "AgAC-passport-photo"))
    assert "Bukti ke-2" in text(exchange(desk, chat, desk.send_document, "BQAC-contract"))
    assert "Bukti ke-3" in text(exchange(desk, chat, desk.send_voice, "AwAC-voice-note"))
    contact_step = exchange(desk, chat, desk.press, "report:evidence_done")
    keyboard = contact_step[-1]["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_contact"] is True
    summary = exchange(desk, chat, desk.send_contact, "+6281234567890")
    assert summary[0]["reply_markup"] == {"remove_keyboard": True}
    assert "Periksa laporan" in text(summary) and "+6281234567890" in text(summary) and "Kab. Belu" in text(summary)

    sent = exchange(desk, chat, desk.press, "report:send")
    code = CODE_RE.search(text(sent)).group(0)
    assert f"/status {code}" in text(sent)

    staff = desk.wait_for(lambda: staff_messages(desk, code))
    assert len(staff) == 1
    body = html_to_text(staff[0]["text"])
    assert story in body and "+6281234567890" in body and "Korban anak" in body and "Kab. Belu" in body
    assert "PT Sinar Jaya" in body and "MENDESAK" not in body
    assert [b["text"] for row in staff[0]["reply_markup"]["inline_keyboard"] for b in row] == \
        ["👀 Terima", "🛠️ Proses", "✅ Selesai", "🚫 Bukan TPPO"]
    evidence = desk.wait_for(lambda: [(m, p) for m, p in desk.sent_to(TASKFORCE)
                                      if m != "sendMessage" and code in p.get("caption", "")] if len(
        [m for m, p in desk.sent_to(TASKFORCE) if m != "sendMessage" and code in p.get("caption", "")]) == 3 else None)
    assert [(m, p.get("photo") or p.get("document") or p.get("voice")) for m, p in evidence] == [
        ("sendPhoto", "AgAC-passport-photo"), ("sendDocument", "BQAC-contract"), ("sendVoice", "AwAC-voice-note")]

    # Encrypted at rest: neither the story nor the phone number is readable in the database file.
    raw = b"".join(path.read_bytes() for path in desk.tmp.glob("bot.sqlite3*"))
    assert b"Maria" not in raw and b"6281234567890" not in raw and b"Om Beni" not in raw
    assert "Maria" not in desk.process.log_path.read_text() and "81234567890" not in desk.process.log_path.read_text()
