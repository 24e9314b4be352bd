"""End to end: trafficking reports through the real bot process, the fake Bot API and the real Rasa server."""
from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.nlu.rasa_server import ManagedRasa
from bot.reports.crypto import new_key
from bot.settings import PROJECT_ROOT
from bot.textformat import html_to_text
from tests.conftest import RASA_TEST_TOKEN, wait_until
from tests.fake_telegram import FakeTelegram, Json, describe
from tests.test_telegram_e2e import BotProcess, bot_process, buttons, exchange

TASKFORCE = -1001234567890
STAFF_ID = 777  # in STAFF_USER_IDS
MEMBER_ID = 888  # not listed, a plain member of the task-force group (TASKFORCE_ADMINS_ONLY: may not change)
ADMIN_ID = 889  # not listed, an administrator of the task-force group
OUTSIDER_ID = 555
CODE_RE = re.compile(r"TPPO-\d{4}-[2-9A-HJKMNP-Z]{6}")
StartBot = Callable[[], contextlib.AbstractContextManager[BotProcess]]


def report_env(rasa_server: ManagedRasa, key: str) -> dict[str, str]:
    return {"TASKFORCE_CHAT_ID": str(TASKFORCE), "STAFF_USER_IDS": str(STAFF_ID), "REPORT_ENCRYPTION_KEY": key,
            "RASA_URL": rasa_server.url, "RASA_AUTH_TOKEN": RASA_TEST_TOKEN}


@pytest.fixture(scope="module")
def desk_bot(module_fake_bot_api: FakeTelegram, rasa_server: ManagedRasa,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """The bot serving the module's fake Bot API, reports switched on."""
    module_fake_bot_api.members[TASKFORCE] = {MEMBER_ID}
    module_fake_bot_api.admins[TASKFORCE] = {ADMIN_ID}
    with bot_process(module_fake_bot_api, tmp_path_factory.mktemp("reports"),
                     **report_env(rasa_server, new_key())) as process:
        yield process


@pytest.fixture
def desk(module_fake_bot_api: FakeTelegram, desk_bot: BotProcess) -> FakeTelegram:
    """The fake Bot API, with the reporting bot serving it."""
    return module_fake_bot_api


@pytest.fixture
def start_desk(fake_bot_api: FakeTelegram, rasa_server: ManagedRasa, tmp_path: Path) -> StartBot:
    """Starts the reporting bot on this test's own fake Bot API and database (again after a kill: same settings)."""
    env = report_env(rasa_server, new_key())
    return lambda: bot_process(fake_bot_api, tmp_path, **env)


def pending_updates(process: BotProcess) -> int:
    """Updates stored in the bot's inbox and not handled yet (its SQLite database, read directly)."""
    with sqlite3.connect(process.env["DATABASE_URL"].removeprefix("sqlite:///")) as db:
        return int(db.execute("select count(*) from inbox where status = 'pending'").fetchone()[0])


def text(messages: list[Json]) -> str:
    return "\n".join(html_to_text(m.get("text") or m.get("caption") or "") for m in messages)


def staff_messages(fake: FakeTelegram, code: str) -> list[Json]:
    """The report messages (not reminders, not /laporan lists) for the code in the task-force group."""
    return [p for method, p in fake.sent_to(TASKFORCE) if method == "sendMessage"
            and f"<b>Laporan {code}</b>" in p["text"] and "PENGINGAT" not in p["text"]]


def evidence_of(fake: FakeTelegram, code: str) -> list[tuple[str, Json]]:
    """The evidence files (method, params) sent to the task-force group for the code."""
    return [(m, p) for m, p in fake.sent_to(TASKFORCE) if m != "sendMessage" and code in p.get("caption", "")]


def step(fake: FakeTelegram, chat: int, action: Callable[..., Any], *args: Any, expect: str,
         count: int = 1) -> list[Json]:
    """Do one user action; its reply (`count` messages) must contain `expect`. Returns the reply."""
    replies = exchange(fake, chat, action, *args, count=count)
    assert expect in text(replies), describe(replies)
    return replies


CONTACT_LABELS = {"bot": "💬 Cukup kabari lewat bot ini", "anonymous": "🙈 Anonim, jangan hubungi saya"}


def file_report(fake: FakeTelegram, chat: int, story: str, contact: str = "bot") -> str:
    """Go through the report with a story and the given contact choice; return the code."""
    step(fake, chat, fake.send_text, "/lapor", expect="dalam bahaya")
    step(fake, chat, fake.press, "report:danger_no", expect="Apa yang terjadi")
    step(fake, chat, fake.send_text, story, expect="Kejadiannya termasuk")
    for expect in ("Di mana korban", "Siapa yang merekrut", "Kapan", "Ada bukti"):
        step(fake, chat, fake.press, "report:skip", expect=expect)
    step(fake, chat, fake.press, "report:evidence_done", expect="Bolehkah petugas")
    # The contact choice is acknowledged, then the summary follows.
    step(fake, chat, fake.send_text, CONTACT_LABELS.get(contact, contact), expect="Periksa laporan", count=2)
    sent = step(fake, chat, fake.press, "report:send", expect="Kode laporan Anda")
    return code_in(sent)


def code_in(messages: list[Json]) -> str:
    found = CODE_RE.search(text(messages))
    assert found, describe(messages)
    return found.group(0)


def report_id(fake: FakeTelegram, code: str) -> int:
    """The report's id, read from the status buttons of its message in the task-force group."""
    staff = fake.wait_for(lambda: staff_messages(fake, code))[0]
    return int(staff["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1].split("_")[0])


def press_status(fake: FakeTelegram, code: str, status: str, user_id: int = STAFF_ID, **press: Any) -> None:
    """A staff member presses a status button of the report in the task-force group."""
    fake.press(TASKFORCE, f"staff:{report_id(fake, code)}_{status}", user_id=user_id, chat_type="supergroup",
               **press)


def open_reports_listing(fake: FakeTelegram) -> str:
    """Ask `/laporan` in the task-force group as staff; the whole listing (every page) as text."""
    before = len(fake.sent_messages(TASKFORCE))
    fake.send_text(TASKFORCE, "/laporan", user_id=STAFF_ID, chat_type="supergroup")

    def listing() -> list[Json] | None:
        pages = [m for m in fake.sent_messages(TASKFORCE)[before:] if "laporan terbuka" in m["text"].lower()]
        last = re.search(r"halaman (\d+)/(\d+)", pages[-1]["text"]) if pages else None
        return pages if pages and (last is None or last.group(1) == last.group(2)) else None

    return text(fake.wait_for(listing))


def test_full_report_with_evidence_and_contact(desk: FakeTelegram, desk_bot: BotProcess) -> None:
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
    summary = exchange(desk, chat, desk.send_contact, "+6281234567890", count=2)
    assert summary[0]["reply_markup"] == {"remove_keyboard": True}
    assert "Periksa laporan" in text(summary) and "+6281234567890" in text(summary) and "Kab. Belu" in text(summary)

    sent = exchange(desk, chat, desk.press, "report:send")
    code = code_in(sent)
    assert f"/status {code}" in text(sent) and "Kami akan mengabari Anda" in text(sent)

    staff = desk.wait_for(lambda: staff_messages(desk, code))
    assert len(staff) == 1
    body = html_to_text(staff[0]["text"])
    assert story in body and "+6281234567890" in body and "Korban anak" in body and "Kab. Belu" in body
    assert "PT Sinar Jaya" in body and "MENDESAK" not in body
    assert [b["text"] for row in staff[0]["reply_markup"]["inline_keyboard"] for b in row] == \
        ["👀 Terima", "🛠️ Proses", "✅ Selesai", "🚫 Bukan TPPO"]
    desk.wait_for(lambda: len(evidence_of(desk, code)) == 3)
    assert [(m, p.get("photo") or p.get("document") or p.get("voice")) for m, p in evidence_of(desk, code)] == [
        ("sendPhoto", "AgAC-passport-photo"), ("sendDocument", "BQAC-contract"), ("sendVoice", "AwAC-voice-note")]

    # Encrypted at rest: neither the story nor the phone number is readable in the database file (which is the
    # one holding the report: its code is there in plain).
    raw = b"".join(path.read_bytes() for path in Path(desk_bot.env["BOT_VAR_DIR"]).glob("bot.sqlite3*"))
    assert code.encode() in raw
    assert b"Maria" not in raw and b"6281234567890" not in raw and b"Om Beni" not in raw
    log = desk_bot.log()
    assert code in log  # the bot logs the report, by its code only
    assert "Maria" not in log and "81234567890" not in log


def test_anonymous_urgent_report_gives_emergency_numbers_first(desk: FakeTelegram) -> None:
    chat = 9102
    exchange(desk, chat, desk.send_text, "/lapor")
    urgent = exchange(desk, chat, desk.press, "report:danger_yes", count=2)
    assert "Polisi 110" in text(urgent[:1]) and "0800-1000" in text(urgent[:1]) and "KBRI/KJRI" in text(urgent[:1])
    assert "Apa yang terjadi" in text(urgent[1:])
    exchange(desk, chat, desk.send_text, "Kakak saya dikurung majikan di Johor, tidak dikasih makan")
    exchange(desk, chat, desk.press, "report:cat_dikurung")
    exchange(desk, chat, desk.press, "report:where_abroad")
    country = exchange(desk, chat, desk.press, "report:ctry_my", count=2)
    assert "+60105288040" in text(country) and "+62 21 29244800" in text(country)  # KJRI Johor Bahru, KP2MI
    for _step in ("who", "when"):
        exchange(desk, chat, desk.press, "report:skip")
    exchange(desk, chat, desk.press, "report:evidence_done")
    summary = exchange(desk, chat, desk.send_text, CONTACT_LABELS["anonymous"], count=2)
    assert "Kontak: anonim" in text(summary) and "MENDESAK" in text(summary)
    sent = exchange(desk, chat, desk.press, "report:send")
    code = code_in(sent)
    assert "Anda memilih anonim" in text(sent) and "mengabari" not in text(sent)  # anonymous: no promise of news
    staff = html_to_text(desk.wait_for(lambda: staff_messages(desk, code))[0]["text"])
    assert staff.startswith("🚨🚨 MENDESAK") and "anonim" in staff and "Malaysia (luar negeri)" in staff

    # A status change is not sent to an anonymous reporter. A witness who gave a contact and whose report changes
    # status after it is told: notices go out in order (this urgent report's first), so once the witness has the
    # news, a notice for this report would have been sent too.
    witness = 9112
    witness_code = file_report(desk, witness, "Tetangga saya dibawa calo ke Kalimantan, katanya kerja sawit")
    before = len(desk.sent_messages(chat))
    press_status(desk, code, "diterima")
    desk.wait_for(lambda: [p for p in desk.calls_to("editMessageText") if code in p["text"]])
    press_status(desk, witness_code, "diterima")
    desk.wait_for(lambda: [m for m in desk.sent_messages(witness) if witness_code in m["text"]
                           and "Diterima petugas" in html_to_text(m["text"])])
    assert len(desk.sent_messages(chat)) == before
    status = exchange(desk, chat, desk.send_text, f"/status {code}")  # the code still works
    assert "Diterima petugas" in text(status)


def test_a_report_started_by_words(desk: FakeTelegram) -> None:
    replies = exchange(desk, 9103, desk.send_text, "adik sy dibawa calo, mau lapor")
    assert "rahasia" in text(replies) and "dalam bahaya sekarang" in text(replies)


def test_cancel_asks_first_and_discards_the_draft(desk: FakeTelegram) -> None:
    chat = 9104
    exchange(desk, chat, desk.send_text, "/lapor")
    exchange(desk, chat, desk.press, "report:danger_no")
    exchange(desk, chat, desk.send_text, "Tetangga saya ditawari kerja oleh calo tanpa PT")
    asked = exchange(desk, chat, desk.send_text, "/batal")
    assert "Yakin membatalkan" in text(asked) and buttons(asked[-1]) == ["report:cancel_yes", "report:resume"]
    resumed = exchange(desk, chat, desk.press, "report:resume")
    assert "Kejadiannya termasuk" in text(resumed)  # the draft was kept
    exchange(desk, chat, desk.send_text, "/batal")
    assert "dibatalkan" in text(exchange(desk, chat, desk.press, "report:cancel_yes"))
    assert "Tidak ada laporan" in text(exchange(desk, chat, desk.press, "report:send"))
    assert not [p for m, p in desk.sent_to(TASKFORCE) if "Tetangga saya ditawari" in p.get("text", "")]


def test_start_or_menu_mid_report_asks_to_continue_or_cancel(desk: FakeTelegram) -> None:
    chat = 9105
    exchange(desk, chat, desk.send_text, "/lapor")
    exchange(desk, chat, desk.press, "report:danger_no")
    exchange(desk, chat, desk.send_text, "Sepupu saya dijanjikan kerja di Malaysia oleh calo")
    for interruption, arg in ((desk.send_text, "/start"), (desk.press, "menu:faq")):
        asked = exchange(desk, chat, interruption, arg)
        assert "belum terkirim" in text(asked) and buttons(asked[-1]) == ["report:resume", "report:cancel_yes"]
    assert "Kejadiannya termasuk" in text(exchange(desk, chat, desk.press, "report:resume"))


def test_bad_input_mid_report_changes_nothing(desk: FakeTelegram, desk_bot: BotProcess) -> None:
    chat = 9106
    exchange(desk, chat, desk.send_text, "/lapor")
    exchange(desk, chat, desk.press, "report:danger_no")
    sticker = exchange(desk, chat, desk.send_sticker)
    assert "stiker" in text(sticker) and "Apa yang terjadi" in text(sticker)
    photo = exchange(desk, chat, desk.send_photo)
    assert "langkah bukti" in text(photo) and "Apa yang terjadi" in text(photo)
    assert "kata-kata" in text(exchange(desk, chat, desk.send_text, "😭😭😭"))
    long_story = exchange(desk, chat, desk.send_text, "Ipar saya disekap. " * 270)  # about 5,000 characters
    assert "2000 huruf pertama" in text(long_story) and "Kejadiannya termasuk" in text(long_story)
    for forged in ("report:cat_<script>", "report:cat_bogus", "staff:1_selesai", "'; DROP TABLE report; --"):
        replies = exchange(desk, chat, desk.press, forged)
        assert "tidak berlaku" in text(replies) and "Kejadiannya termasuk" in text(replies)
    typed = exchange(desk, chat, desk.send_text, "<b>calo</b> '; DROP TABLE report; --")
    assert "pilih salah satu tombol" in text(typed)
    assert "Di mana korban" in text(exchange(desk, chat, desk.press, "report:cat_gaji"))  # the draft goes on
    assert desk_bot.running()


def test_status_by_code_shows_only_the_status_and_guessing_is_limited(desk: FakeTelegram) -> None:
    chat = 9107
    code = file_report(desk, chat, "Bapak saya gajinya tidak dibayar 8 bulan di kebun sawit")
    own = text(exchange(desk, chat, desk.send_text, f"/status {code.lower()}"))
    assert code in own and "Baru, belum diterima petugas" in own and "sawit" not in own
    other = text(exchange(desk, 9108, desk.send_text, f"cek status laporan {code}"))  # words: NLU report_status
    assert code in other and "Baru, belum diterima petugas" in other and "sawit" not in other
    mine = text(exchange(desk, chat, desk.send_text, "/status"))
    assert code in mine
    not_mine = text(exchange(desk, 9109, desk.send_text, "/status"))  # a chat that filed nothing
    assert "Ketik /status diikuti kode laporan" in not_mine and code not in not_mine
    near = code[:-1] + ("A" if code[-1] != "A" else "B")
    wrong = text(exchange(desk, 9109, desk.send_text, f"/status {near}"))
    assert "tidak kami temukan" in wrong and "Baru" not in wrong
    for _ in range(4):
        exchange(desk, 9109, desk.send_text, "/status TPPO-2026-ZZZZZZ")
    limited = text(exchange(desk, 9109, desk.send_text, f"/status {code}"))
    assert "terlalu banyak" in limited and "Baru" not in limited


def test_staff_buttons_audit_and_reporter_notification(desk: FakeTelegram, desk_bot: BotProcess) -> None:
    chat = 9110
    code = file_report(desk, chat, "Anak tetangga umur 15 dibawa ke Surabaya oleh calo")
    staff_message_id = desk.wait_for(lambda: staff_messages(desk, code))[0]["_message_id"]

    before = len(desk.sent_messages(chat))
    press_status(desk, code, "diterima", user_id=OUTSIDER_ID)
    alert = desk.wait_for(lambda: [p for p in desk.calls_to("answerCallbackQuery") if p.get("show_alert")])
    assert "hanya petugas" in alert[-1]["text"]
    assert "Baru" in text(exchange(desk, chat, desk.send_text, f"/status {code}"))

    # A plain member may not change statuses (TASKFORCE_ADMINS_ONLY); nor may anyone from another group.
    press_status(desk, code, "diterima", user_id=MEMBER_ID)
    desk.wait_for(lambda: [p for p in desk.calls_to("answerCallbackQuery") if "hanya admin" in p.get("text", "")])
    desk.press(-4242, f"staff:{report_id(desk, code)}_diterima", user_id=STAFF_ID, chat_type="supergroup")
    desk.wait_for(lambda: [p for p in desk.calls_to("answerCallbackQuery") if "tidak berlaku" in p.get("text", "")])
    assert "Baru" in text(exchange(desk, chat, desk.send_text, f"/status {code}"))
    assert not desk.sent_messages(-4242)  # nothing posted into the other group

    # Pressed on another message (say a forwarded copy): the report's own message is the one redrawn.
    press_status(desk, code, "diterima", user_id=ADMIN_ID, message_id=staff_message_id + 1000)
    edited = desk.wait_for(lambda: [p for p in desk.calls_to("editMessageText") if code in p["text"]])
    assert [int(p["message_id"]) for p in edited] == [staff_message_id]
    assert "Diterima petugas (oleh Petugas 889" in html_to_text(edited[-1]["text"])
    notice = desk.wait_for_messages(chat, before + 3)[-1]  # after the two /status replies above
    assert code in notice["text"] and "Diterima petugas" in html_to_text(notice["text"])
    assert "Surabaya" not in notice["text"]
    assert code in open_reports_listing(desk)  # still open

    press_status(desk, code, "selesai", message_id=staff_message_id)
    closed = desk.wait_for_messages(chat, before + 4)[-1]
    assert "Selesai" in html_to_text(closed["text"])
    # Pressing the same status again changes nothing and tells no one.
    press_status(desk, code, "selesai")
    desk.wait_for(lambda: [p for p in desk.calls_to("answerCallbackQuery") if "sudah" in p.get("text", "")])
    shown = _cli(desk_bot, "show", code)
    assert "baru -> diterima by Petugas 889 (889)" in shown and "diterima -> selesai by Petugas 777 (777)" in shown
    assert len(desk.sent_messages(chat)) == before + 4
    assert code not in open_reports_listing(desk)  # closed: no longer listed


def _cli(process: BotProcess, *args: str) -> str:
    env = {**process.env, "LOG_LEVEL": "WARNING"}
    result = subprocess.run([sys.executable, "-m", "bot", "reports", *args], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_redelivered_updates_never_file_twice(desk: FakeTelegram) -> None:
    chat = 9111
    story = "Keponakan saya diberangkatkan calo lewat Nunukan"
    exchange(desk, chat, desk.send_text, "/lapor")
    exchange(desk, chat, desk.press, "report:danger_no")
    before = len(desk.sent_messages(chat))
    story_update = desk.send_text(chat, story)
    desk.wait_for_turn(chat, before)
    for _step in ("category", "where", "who", "when"):
        exchange(desk, chat, desk.press, "report:skip")
    exchange(desk, chat, desk.press, "report:evidence_done")
    exchange(desk, chat, desk.send_text, CONTACT_LABELS["bot"], count=2)
    before = len(desk.sent_messages(chat))
    send_update = desk.press(chat, "report:send")
    code = code_in(desk.wait_for_turn(chat, before))
    count = len(desk.sent_messages(chat))
    desk.redeliver(send_update)
    desk.redeliver(story_update)
    desk.send_text(chat, "/status")  # a fresh update after them: the chat's updates are answered in order, so
    # once its reply is there, any reply to the redelivered ones would be there before it
    desk.wait_for(lambda: [m for m in desk.sent_messages(chat)[count:] if "Laporan dari chat ini" in m["text"]])
    replies = desk.sent_messages(chat)[count:]
    assert len(replies) == 1 and code in text(replies), describe(replies)  # the redelivered ones got no reply
    desk.wait_for(lambda: staff_messages(desk, code))
    assert len([m for m in desk.sent_messages(TASKFORCE) if story in html_to_text(m["text"])]) == 1


def test_the_bot_killed_at_every_step_loses_nothing(fake_bot_api: FakeTelegram, start_desk: StartBot) -> None:
    """SIGKILL after each step; the restarted process continues the same report, which is filed exactly once."""
    fake, chat = fake_bot_api, 9201
    steps: list[tuple[Callable[[int, str], int], str, int]] = [  # (action, argument, messages in the reply)
        (fake.send_text, "/lapor", 1), (fake.press, "report:danger_no", 1),
        (fake.send_text, "Saudara saya ditahan di penampungan calo di Kupang", 1),
        (fake.press, "report:cat_dikurung", 1),
        (fake.press, "report:where_ntt", 1), (fake.press, "report:reg_5371", 1),
        (fake.send_text, "Ibu Rina, 0812 9999 0000", 1), (fake.press, "report:when_baru", 1),
        (fake.send_photo, "AgAC-shelter", 1), (fake.press, "report:evidence_done", 1),
        (fake.send_text, CONTACT_LABELS["bot"], 2), (fake.press, "report:send", 1),
    ]
    code = ""
    for action, arg, count in steps:
        with start_desk() as process:
            # The previous process may have been killed after sending its reply but before recording the update as
            # done: the new one sends that reply again (at least once, never lost). Let it, before the next step.
            wait_until(lambda: not pending_updates(process), timeout=60)
            replies = exchange(fake, chat, action, arg, count=count)
            assert "gangguan" not in text(replies)
            if arg == "report:send":
                code = code_in(replies)
                fake.wait_for(lambda: [m for m, p in fake.sent_to(TASKFORCE) if m == "sendPhoto"])
            process.kill()
    staff = staff_messages(fake, code)
    assert len(staff) == 1
    body = html_to_text(staff[0]["text"])
    assert "ditahan di penampungan" in body and "Kota Kupang" in body and "Ibu Rina" in body


def test_delivery_survives_errors_and_flood_control(fake_bot_api: FakeTelegram, start_desk: StartBot) -> None:
    fake = fake_bot_api
    fake.fail(TASKFORCE, 3, status=500)
    fake.fail(TASKFORCE, 4, status=429, retry_after=1)
    with start_desk() as process:
        code = file_report(fake, 9202, "Istri saya dijual ke agen di Medan, tidak boleh pulang")
        staff = fake.wait_for(lambda: staff_messages(fake, code), timeout=90)
        assert len([p for m, p in fake.failed_calls if int(p["chat_id"]) == TASKFORCE]) == 7
        assert code in open_reports_listing(fake)  # let the worker run on
        assert len(staff_messages(fake, code)) == 1 == len(staff)
        assert "Too Many Requests" in process.log() or "429" in process.log()


def test_undeliverable_reports_stay_queued_and_are_listed(fake_bot_api: FakeTelegram, start_desk: StartBot) -> None:
    fake = fake_bot_api
    fake.fail(TASKFORCE, 1000, status=403)  # e.g. the bot was removed from the group: Telegram refuses for good
    with start_desk() as process:
        code = file_report(fake, 9203, "Teman saya dipaksa kerja tanpa gaji di kapal ikan")
        wait_until(lambda: "refused for good" in process.log(), timeout=60)
        assert "ERROR" in process.log() and code in process.log()
        time.sleep(3)  # not retried: one attempt only (a retry would come after 2 s)
        assert len([p for m, p in fake.failed_calls if int(p["chat_id"]) == TASKFORCE]) == 1
        listing = _cli(process, "list", "--undelivered")
        assert code in listing and "NOT DELIVERED" in listing and "GAVE UP" in listing and "Forbidden" in listing
        assert "kapal ikan" not in process.log()
    assert not staff_messages(fake, code)


def test_two_reporters_at_the_same_time(desk: FakeTelegram) -> None:
    stories = {9301: "Kakak saya dijanjikan kerja restoran di Malaysia tapi dijual", 9302: "Anak saya umur 16 "
               "direkrut jadi PRT ke Jakarta pakai KTP palsu"}
    codes: dict[int, str] = {}

    def reporter(chat: int) -> None:
        codes[chat] = file_report(desk, chat, stories[chat])

    threads = [threading.Thread(target=reporter, args=(chat,)) for chat in stories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(set(codes.values())) == 2
    for chat, code in codes.items():
        staff = desk.wait_for(functools.partial(staff_messages, desk, code))
        assert len(staff) == 1 and stories[chat] in html_to_text(staff[0]["text"])
