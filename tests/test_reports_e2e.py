"""End to end: trafficking reports through the real bot process, the fake Bot API and the real Rasa server."""
from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

import pytest

from bot.reports.crypto import new_key
from bot.settings import PROJECT_ROOT
from bot.textformat import html_to_text

from tests.conftest import RASA_TEST_TOKEN, wait_until
from tests.fake_telegram import FakeTelegram
from tests.test_telegram_e2e import TOKEN, bot_process, buttons, exchange

TASKFORCE = -1001234567890
STAFF_ID = 777  # in STAFF_USER_IDS
MEMBER_ID = 888  # not listed, a plain member of the task-force group (TASKFORCE_ADMINS_ONLY: may not change)
ADMIN_ID = 889  # not listed, an administrator of the task-force group
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
    fake.admins[TASKFORCE] = {ADMIN_ID}
    try:
        with bot_process(fake, tmp, **report_env(tmp, rasa_server, new_key())) as process:
            fake.process, fake.tmp = process, tmp
            yield fake
    finally:
        fake.stop()


def text(messages: list[dict]) -> str:
    return "\n".join(html_to_text(m.get("text") or m.get("caption") or "") for m in messages)


def staff_messages(fake: FakeTelegram, code: str) -> list[dict]:
    """The report messages (not reminders, not /laporan lists) for the code in the task-force group."""
    return [p for method, p in fake.sent_to(TASKFORCE) if method == "sendMessage"
            and f"<b>Laporan {code}</b>" in p["text"] and "PENGINGAT" not in p["text"]]


def step(fake: FakeTelegram, chat: int, action, arg, expect: str) -> list[dict]:
    """Do one user action and wait until the bot's reply containing `expect` arrived; return the new messages."""
    before = len(fake.sent_messages(chat))
    action(chat, arg)
    return fake.wait_for(lambda: (lambda new: new if expect in text(new) else None)(fake.sent_messages(chat)[before:]))


def file_report(fake: FakeTelegram, chat: int, story: str, contact: str = "bot", urgent: bool = False) -> str:
    """Go through the report with a story and the given contact choice; return the code."""
    step(fake, chat, fake.send_text, "/lapor", "dalam bahaya")
    step(fake, chat, fake.press, "report:danger_yes" if urgent else "report:danger_no", "Apa yang terjadi")
    step(fake, chat, fake.send_text, story, "Kejadiannya termasuk")
    for expect in ("Di mana korban", "Siapa yang merekrut", "Kapan", "Ada bukti"):
        step(fake, chat, fake.press, "report:skip", expect)
    step(fake, chat, fake.press, "report:evidence_done", "Bolehkah petugas")
    labels = {"bot": "💬 Cukup kabari lewat bot ini", "anonymous": "🙈 Anonim, jangan hubungi saya"}
    step(fake, chat, fake.send_text, labels.get(contact, contact), "Periksa laporan")
    sent = step(fake, chat, fake.press, "report:send", "Kode laporan Anda")
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


def test_anonymous_urgent_report_gives_emergency_numbers_first(desk):
    chat = 9102
    exchange(desk, chat, desk.send_text, "/lapor")
    urgent = exchange(desk, chat, desk.press, "report:danger_yes")
    assert "Polisi 110" in text(urgent[:1]) and "0800-1000" in text(urgent[:1]) and "KBRI/KJRI" in text(urgent[:1])
    assert "Apa yang terjadi" in text(urgent[1:])
    exchange(desk, chat, desk.send_text, "Kakak saya dikurung majikan di Johor, tidak dikasih makan")
    exchange(desk, chat, desk.press, "report:cat_dikurung")
    exchange(desk, chat, desk.press, "report:where_abroad")
    country = exchange(desk, chat, desk.press, "report:ctry_my")
    assert "+60105288040" in text(country) and "+62 21 29244800" in text(country)  # KJRI Johor Bahru, KP2MI
    for _step in ("who", "when"):
        exchange(desk, chat, desk.press, "report:skip")
    exchange(desk, chat, desk.press, "report:evidence_done")
    summary = exchange(desk, chat, desk.send_text, "🙈 Anonim, jangan hubungi saya")
    assert "Kontak: anonim" in text(summary) and "MENDESAK" in text(summary)
    sent = exchange(desk, chat, desk.press, "report:send")
    code = CODE_RE.search(text(sent)).group(0)
    assert "mengabari" not in text(sent)  # anonymous: no promise of news
    staff = html_to_text(desk.wait_for(lambda: staff_messages(desk, code))[0]["text"])
    assert staff.startswith("🚨🚨 MENDESAK") and "anonim" in staff and "Malaysia (luar negeri)" in staff

    # A status change is not sent to an anonymous reporter; /status with the code still works.
    before = len(desk.sent_messages(chat))
    report_id = _report_id(desk, code)
    desk.press(TASKFORCE, f"staff:{report_id}_diterima", user_id=STAFF_ID, chat_type="supergroup")
    desk.wait_for(lambda: [p for p in desk.calls_to("editMessageText") if code in p["text"]])
    status = exchange(desk, chat, desk.send_text, f"/status {code}")
    assert len(desk.sent_messages(chat)) == before + 1 and "Diterima petugas" in text(status)


def _report_id(fake: FakeTelegram, code: str) -> int:
    staff = fake.wait_for(lambda: staff_messages(fake, code))[0]
    return int(staff["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1].split("_")[0])


def test_a_report_started_by_words(desk):
    replies = exchange(desk, 9103, desk.send_text, "adik sy dibawa calo, mau lapor")
    assert "rahasia" in text(replies) and "dalam bahaya sekarang" in text(replies)


def test_cancel_asks_first_and_discards_the_draft(desk):
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
    assert not [p for m, p in desk.sent_to(TASKFORCE) if "Tetangga saya" in p.get("text", "")]


def test_start_or_menu_mid_report_asks_to_continue_or_cancel(desk):
    chat = 9105
    exchange(desk, chat, desk.send_text, "/lapor")
    exchange(desk, chat, desk.press, "report:danger_no")
    exchange(desk, chat, desk.send_text, "Sepupu saya dijanjikan kerja di Malaysia oleh calo")
    for interruption in (lambda: desk.send_text(chat, "/start"), lambda: desk.press(chat, "menu:faq")):
        before = len(desk.sent_messages(chat))
        interruption()
        asked = desk.wait_for_turn(chat, before)
        assert "belum terkirim" in text(asked) and buttons(asked[-1]) == ["report:resume", "report:cancel_yes"]
    assert "Kejadiannya termasuk" in text(exchange(desk, chat, desk.press, "report:resume"))


def test_bad_input_mid_report_changes_nothing(desk):
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
    exchange(desk, chat, desk.press, "report:cat_gaji")
    assert desk.process.poll() is None


def test_status_by_code_shows_only_the_status_and_guessing_is_limited(desk):
    chat = 9107
    code = file_report(desk, chat, "Bapak saya gajinya tidak dibayar 8 bulan di kebun sawit")
    own = text(exchange(desk, chat, desk.send_text, f"/status {code.lower()}"))
    assert code in own and "Baru, belum diterima petugas" in own and "sawit" not in own
    other = text(exchange(desk, 9108, desk.send_text, f"cek status laporan {code}"))  # words: NLU report_status
    assert code in other and "sawit" not in other
    mine = text(exchange(desk, chat, desk.send_text, "/status"))
    assert code in mine
    assert code not in text(exchange(desk, 9109, desk.send_text, "/status"))
    near = code[:-1] + ("A" if code[-1] != "A" else "B")
    wrong = text(exchange(desk, 9109, desk.send_text, f"/status {near}"))
    assert "tidak kami temukan" in wrong and "Baru" not in wrong
    for _ in range(4):
        exchange(desk, 9109, desk.send_text, "/status TPPO-2026-ZZZZZZ")
    limited = text(exchange(desk, 9109, desk.send_text, f"/status {code}"))
    assert "terlalu banyak" in limited and "Baru" not in limited


def test_staff_buttons_audit_and_reporter_notification(desk):
    chat = 9110
    code = file_report(desk, chat, "Anak tetangga umur 15 dibawa ke Surabaya oleh calo")
    report_id = _report_id(desk, code)
    staff_message_id = _staff_message_id(desk, code)

    before = len(desk.sent_messages(chat))
    desk.press(TASKFORCE, f"staff:{report_id}_diterima", user_id=OUTSIDER_ID, chat_type="supergroup")
    alert = desk.wait_for(lambda: [p for p in desk.calls_to("answerCallbackQuery") if p.get("show_alert")])
    assert "hanya petugas" in alert[-1]["text"]
    assert "Baru" in text(exchange(desk, chat, desk.send_text, f"/status {code}"))

    # A plain member may not change statuses (TASKFORCE_ADMINS_ONLY); nor may anyone from another group.
    desk.press(TASKFORCE, f"staff:{report_id}_diterima", user_id=MEMBER_ID, chat_type="supergroup")
    desk.wait_for(lambda: [p for p in desk.calls_to("answerCallbackQuery") if "hanya admin" in p.get("text", "")])
    desk.press(-4242, f"staff:{report_id}_diterima", user_id=STAFF_ID, chat_type="supergroup")
    desk.wait_for(lambda: [p for p in desk.calls_to("answerCallbackQuery") if "tidak berlaku" in p.get("text", "")])
    assert "Baru" in text(exchange(desk, chat, desk.send_text, f"/status {code}"))
    assert not [p for p in desk.sent_messages(-4242)]  # nothing posted into the other group

    # Pressed on another message (say a forwarded copy): the report's own message is the one redrawn.
    desk.press(TASKFORCE, f"staff:{report_id}_diterima", user_id=ADMIN_ID, chat_type="supergroup",
               message_id=staff_message_id + 1000)
    edited = desk.wait_for(lambda: [p for p in desk.calls_to("editMessageText") if code in p["text"]])
    assert [int(p["message_id"]) for p in edited] == [staff_message_id]
    assert "Diterima petugas (oleh Petugas 889" in html_to_text(edited[-1]["text"])
    notice = desk.wait_for_messages(chat, before + 3)[-1]  # after the two /status replies above
    assert code in notice["text"] and "Diterima petugas" in html_to_text(notice["text"])
    assert "Surabaya" not in notice["text"]

    desk.press(TASKFORCE, f"staff:{report_id}_selesai", user_id=STAFF_ID, chat_type="supergroup",
               message_id=staff_message_id)
    closed = desk.wait_for_messages(chat, before + 4)[-1]
    assert "Selesai" in html_to_text(closed["text"])
    # Pressing the same status again changes nothing and tells no one.
    desk.press(TASKFORCE, f"staff:{report_id}_selesai", user_id=STAFF_ID, chat_type="supergroup")
    desk.wait_for(lambda: [p for p in desk.calls_to("answerCallbackQuery") if "sudah" in p.get("text", "")])
    shown = _cli(desk, "show", code)
    assert "baru -> diterima by Petugas 889 (889)" in shown and "diterima -> selesai by Petugas 777 (777)" in shown
    assert len(desk.sent_messages(chat)) == before + 4

    listing = exchange(desk, TASKFORCE, lambda c: desk.send_text(c, "/laporan", user_id=STAFF_ID,
                                                                  chat_type="supergroup"))
    assert "Laporan terbuka" in text(listing) and code not in text(listing)


def _staff_message_id(fake: FakeTelegram, code: str) -> int:
    return fake.wait_for(lambda: staff_messages(fake, code))[0]["_message_id"]


def _cli(fake: FakeTelegram, *args: str) -> str:
    env = {**fake.process.env, "LOG_LEVEL": "WARNING"}
    result = subprocess.run([sys.executable, "-m", "bot", "reports", *args], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_redelivered_updates_never_file_twice(desk):
    chat = 9111
    exchange(desk, chat, desk.send_text, "/lapor")
    exchange(desk, chat, desk.press, "report:danger_no")
    before = len(desk.sent_messages(chat))
    story_update = desk.send_text(chat, "Keponakan saya diberangkatkan calo lewat Nunukan")
    desk.wait_for_turn(chat, before)
    for _step in ("category", "where", "who", "when"):
        exchange(desk, chat, desk.press, "report:skip")
    exchange(desk, chat, desk.press, "report:evidence_done")
    exchange(desk, chat, desk.send_text, "💬 Cukup kabari lewat bot ini")
    before = len(desk.sent_messages(chat))
    send_update = desk.press(chat, "report:send")
    code = CODE_RE.search(text(desk.wait_for_turn(chat, before))).group(0)
    count = len(desk.sent_messages(chat))
    desk.redeliver(send_update)
    desk.redeliver(story_update)
    desk.send_text(chat, "/status")  # a fresh update after them: once it is answered, they were seen
    replies = desk.wait_for_turn(chat, count)
    assert len(replies) == 1 and code in text(replies)  # the redelivered ones got no reply at all
    assert len(staff_messages(desk, code)) == 1


@pytest.fixture
def fresh_desk(rasa_server, tmp_path):
    """A fake Bot API and the settings of a bot that tests start, kill and restart themselves."""
    fake = FakeTelegram(TOKEN).start()
    fake.tmp, fake.env = tmp_path, report_env(tmp_path, rasa_server, new_key())
    try:
        yield fake
    finally:
        fake.stop()


def test_the_bot_killed_at_every_step_loses_nothing(fresh_desk):
    """SIGKILL after each step; the restarted process continues the same report, which is filed exactly once."""
    fake, chat = fresh_desk, 9201
    steps = [
        (fake.send_text, "/lapor"), (fake.press, "report:danger_no"),
        (fake.send_text, "Saudara saya ditahan di penampungan calo di Kupang"), (fake.press, "report:cat_dikurung"),
        (fake.press, "report:where_ntt"), (fake.press, "report:reg_5371"), (fake.send_text, "Ibu Rina, 0812 9999 0000"),
        (fake.press, "report:when_baru"), (fake.send_photo, "AgAC-shelter"), (fake.press, "report:evidence_done"),
        (fake.send_text, "💬 Cukup kabari lewat bot ini"), (fake.press, "report:send"),
    ]
    replies = []
    for action, arg in steps:
        with bot_process(fake, fake.tmp, **fake.env) as process:
            replies = exchange(fake, chat, action, arg)
            assert "gangguan" not in text(replies)
            if arg == "report:send":
                code = CODE_RE.search(text(replies)).group(0)
                fake.wait_for(lambda: [m for m, p in fake.sent_to(TASKFORCE) if m == "sendPhoto"])
            process.kill()
            process.wait()
    staff = staff_messages(fake, code)
    assert len(staff) == 1
    body = html_to_text(staff[0]["text"])
    assert "ditahan di penampungan" in body and "Kota Kupang" in body and "Ibu Rina" in body


def test_delivery_survives_errors_and_flood_control(fresh_desk):
    fake = fresh_desk
    fake.fail(TASKFORCE, 3, status=500)
    fake.fail(TASKFORCE, 4, status=429, retry_after=1)
    with bot_process(fake, fake.tmp, **fake.env) as process:
        code = file_report(fake, 9202, "Istri saya dijual ke agen di Medan, tidak boleh pulang")
        staff = fake.wait_for(lambda: staff_messages(fake, code), timeout=90)
        assert len([p for m, p in fake.failed_calls if int(p["chat_id"]) == TASKFORCE]) == 7
        fake.send_text(TASKFORCE, "/laporan", user_id=STAFF_ID, chat_type="supergroup")  # let the worker run on
        fake.wait_for(lambda: [p for p in fake.sent_messages(TASKFORCE) if "Laporan terbuka" in p["text"]])
        assert len(staff_messages(fake, code)) == 1 == len(staff)
        assert "Too Many Requests" in process.log_path.read_text() or "429" in process.log_path.read_text()


def test_undeliverable_reports_stay_queued_and_are_listed(fresh_desk):
    fake = fresh_desk
    fake.fail(TASKFORCE, 1000, status=403)  # e.g. the bot was removed from the group: Telegram refuses for good
    with bot_process(fake, fake.tmp, **fake.env) as process:
        code = file_report(fake, 9203, "Teman saya dipaksa kerja tanpa gaji di kapal ikan")
        wait_until(lambda: "refused for good" in process.log_path.read_text(), timeout=60)
        assert "ERROR" in process.log_path.read_text()
        time.sleep(3)  # not retried: one attempt only
        assert len([p for m, p in fake.failed_calls if int(p["chat_id"]) == TASKFORCE]) == 1
        fake.process = process
        listing = _cli(fake, "list", "--undelivered")
        assert code in listing and "NOT DELIVERED" in listing and "GAVE UP" in listing and "Forbidden" in listing
        assert "kapal ikan" not in process.log_path.read_text()
    assert not staff_messages(fake, code)


def test_two_reporters_at_the_same_time(desk):
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
        staff = desk.wait_for(lambda: staff_messages(desk, code))
        assert len(staff) == 1 and stories[chat] in html_to_text(staff[0]["text"])
