"""Reports stay whole, fair and unreadable to others when things go wrong (issue 13).

Engine-level with the local classifier and a real SQLite database; the delivery worker and the staff desk are driven
with a stand-in for python-telegram-bot's Bot that raises its real error classes.
"""
from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from telegram.error import BadRequest, ChatMigrated, Forbidden

from bot.app import build_app
from bot.channels.telegram_delivery import DeliveryWorker
from bot.channels.telegram_staff import StaffDesk
from bot.dialogue import report as report_flow
from bot.dialogue.messages import Incoming
from bot.reports import codes
from bot.reports.cli import ReportsCli, init_key, spreadsheet_safe
from bot.reports.crypto import new_key
from bot.textformat import TELEGRAM_TEXT_LIMIT, clean_input, html_to_text, telegram_len
from db.leases import Leadership
from tests.conftest import settings_for
from tests.helpers import press, say, text_of

TASKFORCE = -1009
EMOJI_STORY = "Tolong " + "😢" * 2000


def report_settings(database_url: str, keys: str | None = None, **extra):
    return settings_for(database_url=database_url, report_encryption_keys=keys or new_key(),
                        taskforce_chat_id=str(TASKFORCE), **extra)


@pytest.fixture
def app(sqlite_url):
    with build_app(report_settings(sqlite_url, reports_per_day="100", messages_per_minute="0"),
                   fallback_only=True) as app:
        yield app


def file(app, chat: int = 4242, story: str = "Adik saya dibawa calo ke Kalimantan", urgent: bool = False,
         contact: str = "💬 Cukup kabari lewat bot ini", evidence: int = 0) -> str:
    say(app, "/lapor", chat)
    press(app, "report:danger_yes" if urgent else "report:danger_no", chat)
    say(app, story, chat)
    for _ in range(4):
        press(app, "report:skip", chat)
    for number in range(evidence):
        app.engine.handle(Incoming(chat, chat, attachment="photo", file_id=f"AgAC-{chat}-{number}"))
    press(app, "report:evidence_done", chat)
    say(app, contact, chat)
    return codes.find_code(text_of(press(app, "report:send", chat)))


# ---- 4. Telegram's limits in UTF-16 units ---------------------------------------------------------------------

def test_a_long_emoji_story_reaches_the_group_whole_in_numbered_parts(app, monkeypatch):
    # Stories are capped at 2,000 UTF-16 units now; before, 2,000 characters (4,000 units of emoji) were kept and
    # such reports are still in databases: the staff message must arrive whole however long the story is.
    monkeypatch.setattr(report_flow, "MAX_STORY", 10_000)
    code = file(app, story=EMOJI_STORY)
    report = app.reports.repository.by_code(code)
    parts = app.reports.staff_parts(report)
    assert len(parts) >= 2 and all(telegram_len(part) <= TELEGRAM_TEXT_LIMIT for part in parts)
    assert f"bagian 2/{len(parts)}" in parts[0] and f"bagian {len(parts)}/{len(parts)}" in parts[-1]
    told = "".join(html_to_text(part) for part in parts)
    assert told.count("😢") == 2000  # the whole story (capped at 2,000 UTF-16 units when typed), nothing lost
    # The outbox sends the report, then its parts (replies to it), before the evidence.
    sent = []
    for _ in range(3):
        for number, due in enumerate(app.reports.claim_due(), start=100 + len(sent)):
            sent.append((due.kind, app.reports.outgoing(due)))
            app.reports.delivered(due, number)
    assert [kind for kind, _ in sent] == ["report"] + ["part"] * (len(parts) - 1)
    assert [outgoing.text for _, outgoing in sent] == parts


def test_a_redraw_after_a_status_change_keeps_the_way_the_report_was_cut(app, monkeypatch):
    monkeypatch.setattr(report_flow, "MAX_STORY", 10_000)
    long_code, short_code = file(app, chat=11, story=EMOJI_STORY), file(app, chat=12)
    drain(app, FakeBot(), rounds=4)
    for code in (long_code, short_code):
        report = app.reports.repository.by_code(code)
        app.reports.change_status(report.id, "diproses", 1, "Petugas dengan nama yang sangat panjang " * 4)
        report = app.reports.repository.by_code(code)
        redrawn = app.reports.staff_text(report)
        assert telegram_len(redrawn) <= TELEGRAM_TEXT_LIMIT and "Sedang ditangani" in html_to_text(redrawn)
        assert ("bersambung di bagian 2/2" in redrawn) == (code == long_code)


def test_the_summary_of_a_long_story_is_shortened_with_a_note(app, monkeypatch):
    monkeypatch.setattr(report_flow, "MAX_STORY", 10_000)
    say(app, "/lapor")
    press(app, "report:danger_no")
    say(app, "Tolong " + "😢" * 3000)  # 6,000 UTF-16 units typed: kept to 2,000
    for _ in range(4):
        press(app, "report:skip")
    press(app, "report:evidence_done")
    turn = say(app, "🙈 Anonim, jangan hubungi saya")
    summary = turn.replies[-1].text
    assert telegram_len(summary) <= TELEGRAM_TEXT_LIMIT and "hanya awalnya" in summary and "Periksa laporan" in summary


def test_laporan_is_paged_within_telegram_limits(app):
    for chat in range(100, 180):
        file(app, chat=chat)
    pages = app.reports.open_reports_pages()
    assert len(pages) >= 2 and all(telegram_len(page) <= TELEGRAM_TEXT_LIMIT for page in pages)
    assert f"halaman 1/{len(pages)}" in pages[0]
    listed = "".join(pages)
    assert all(report.code in listed for report in app.reports.repository.listing(open_only=True))


def test_input_is_cleaned_at_the_channel_boundary(app):
    assert clean_input("a\udb8cb\x00c\r\nd\x07") == "abc\nd"
    say(app, "/lapor")
    press(app, "report:danger_no")
    turn = say(app, clean_input("Saya ditipu \udb8c calo\x00 di Kupang"))  # a lone surrogate crashed sealing
    assert turn.replies


# ---- 4. permanent errors, a migrated group -------------------------------------------------------------------

@dataclass
class Sent:
    message_id: int


class FakeBot:
    """Stands in for telegram.Bot: records sends; `refuse(chat_id, exc)` makes sends to that chat raise."""

    def __init__(self):
        self.sent: list[tuple[int, str]] = []
        self.refusals: dict[int, Exception] = {}

    def refuse(self, chat_id: int, exc: Exception) -> None:
        self.refusals[chat_id] = exc

    async def send_message(self, chat_id, text, **_kwargs):
        if chat_id in self.refusals:
            raise self.refusals[chat_id]
        self.sent.append((chat_id, text))
        return Sent(len(self.sent))

    async def send_photo(self, chat_id, file_id, caption=None, **_kwargs):
        return await self.send_message(chat_id, f"[photo {file_id}] {caption}")


def drain(app, bot: FakeBot, rounds: int = 3) -> None:
    """Run the outbox worker of the delivery leader for a few rounds (chores aside)."""
    leadership = Leadership(app.reports.repository._sessions, "delivery")
    assert leadership.try_acquire()
    worker = DeliveryWorker(bot, app.engine, app.reports, app.chat_states, 30, leadership)
    worker._next_chores = float("inf")
    for _ in range(rounds):
        asyncio.run(worker._tick())
    leadership.release()


def test_a_permanent_refusal_is_not_retried_and_shows_in_the_list(app, capsys):
    code = file(app)
    bot = FakeBot()
    bot.refuse(TASKFORCE, Forbidden("Forbidden: bot was kicked from the supergroup chat"))
    drain(app, bot)
    assert app.reports.claim_due() == []  # given up: never claimed again, however long we wait
    [pending] = app.reports.repository.pending_deliveries(app.reports.repository.by_code(code).id)
    assert pending.gave_up_at is not None and pending.attempts == 1
    ReportsCli(app.settings, app.reports.repository._sessions).list(undelivered=True, open_only=False)
    assert "GAVE UP" in capsys.readouterr().out
    ReportsCli(app.settings, app.reports.repository._sessions).retry()
    bot.refusals.clear()
    drain(app, bot)
    assert any(code in text for _chat, text in bot.sent)


def test_a_passing_error_is_retried(app):
    file(app)
    bot = FakeBot()
    bot.refuse(TASKFORCE, BadRequest("Too Many Requests: retry after 5"))
    drain(app, bot, rounds=1)
    [pending] = app.reports.repository.pending_deliveries(1)
    assert pending.gave_up_at is None and pending.attempts == 1


def test_a_group_upgraded_to_a_supergroup_is_followed(app, sqlite_url):
    code = file(app)
    bot = FakeBot()
    bot.refuse(TASKFORCE, ChatMigrated(-100777))
    drain(app, bot)
    # The failed attempt is retried after a second: let it be due now.
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:
        db.execute("update delivery set due_at = '2000-01-01 00:00:00'")
    drain(app, bot)
    assert [(chat, code in text) for chat, text in bot.sent] == [(-100777, True)]
    assert app.reports.taskforce_chat_id == -100777
    with build_app(app.settings, fallback_only=True) as restarted:  # remembered across restarts
        assert restarted.reports.taskforce_chat_id == -100777


# ---- 5. anonymous is unlinkable; drafts encrypted whole ------------------------------------------------------

def test_an_anonymous_report_leaves_nothing_linking_the_chat(app, sqlite_url):
    code = file(app, chat=31, contact="🙈 Anonim, jangan hubungi saya", evidence=1)
    path = sqlite_url.removeprefix("sqlite:///")
    db = sqlite3.connect(path)
    state = db.execute("select data from chat_state where chat_id = 31").fetchone()
    assert state is None or code not in state[0]
    drain(app, FakeBot(), rounds=4)
    assert db.execute("select reporter_key, reporter_secret, sender_key from report").fetchone() == (None, None, None)
    assert "AgAC-31-0" not in "\n".join(db.iterdump())  # evidence file ids are encrypted


def test_a_draft_is_stored_encrypted_as_a_whole(app, sqlite_url):
    say(app, "/lapor", 32)
    press(app, "report:danger_yes", 32)
    say(app, "Ada yang dikurung di Oesao", 32)
    press(app, "report:cat_dikurung", 32)
    for _ in range(3):
        press(app, "report:skip", 32)
    app.engine.handle(Incoming(32, 32, attachment="photo", file_id="AgAC-draft-photo"))
    data = sqlite3.connect(sqlite_url.removeprefix("sqlite:///")).execute(
        "select data from chat_state where chat_id = 32").fetchone()[0]
    assert "sealed" in data
    for clear in ("urgent", "dikurung", "AgAC-draft-photo", "Oesao", "evidence"):
        assert clear not in data
    press(app, "report:evidence_done", 32)  # the draft, opened again, goes on where it was
    summary = text_of(say(app, "🙈 Anonim, jangan hubungi saya", 32))
    assert "Oesao" in summary and "Ditahan atau dikurung" in summary and "Bukti: 1 berkas" in summary


# ---- 7. keys ----------------------------------------------------------------------------------------------------

def test_rotate_key_re_encrypts_everything_and_the_old_key_can_go(sqlite_url, capsys):
    old, new = new_key(), new_key()
    with build_app(report_settings(sqlite_url, old), fallback_only=True) as app:
        code = file(app, chat=41, evidence=2)
    with build_app(report_settings(sqlite_url, f"{new},{old}"), fallback_only=True) as app:
        assert ReportsCli(app.settings, app.reports.repository._sessions).rotate_key() == 0
        assert "Re-encrypted 1 report(s)" in capsys.readouterr().out
    with build_app(report_settings(sqlite_url, new), fallback_only=True) as app:  # the old key is gone
        report = app.reports.repository.by_code(code)
        assert "Kalimantan" in app.reports.details(report)["what"]
        assert app.reports.file_id(report.evidence[0]) == "AgAC-41-0"
        assert "Laporan" in text_of(say(app, "/status", 41))  # the chat still finds its report
        assert code in text_of(say(app, "/status", 41))


def test_init_key_refuses_while_reports_exist(sqlite_url, tmp_path, capsys):
    with build_app(report_settings(sqlite_url), fallback_only=True) as app:
        file(app)
    env_file = tmp_path / ".env"
    assert init_key(settings_for(database_url=sqlite_url), env_file) == 1
    assert not env_file.exists() and "Not creating a new one" in capsys.readouterr().err
    assert init_key(settings_for(database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}"), env_file) == 0
    assert "REPORT_ENCRYPTION_KEYS=" in env_file.read_text()


def test_csv_export_escapes_formulas_and_is_private(app, tmp_path):
    file(app, story="=HYPERLINK(\"http://evil.example\",\"klik\") saya ditipu", contact="+62 812 3456 7890")
    output = tmp_path / "reports.csv"
    ReportsCli(app.settings, app.reports.repository._sessions).export_csv(output)
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    [row] = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert row["what"].startswith("'=HYPERLINK") and row["phone"].startswith("'+62")
    assert spreadsheet_safe("@SUM(1)") == "'@SUM(1)" and spreadsheet_safe("biasa") == "biasa"


# ---- 2. per-chat limits and fair delivery ----------------------------------------------------------------------

def test_one_reporter_flooding_the_queue_does_not_delay_another_first_report(app):
    for _ in range(8):
        file(app, chat=51, urgent=True, evidence=10)
    other = file(app, chat=52, urgent=True)
    first = [due.report.code for due in app.reports.claim_due()]
    assert other in first[:2]
    prioritized = [r.prioritized for r in app.reports.repository.listing()]
    assert prioritized == [True] + [False] * 7 + [True]  # urgent jumps the queue once a day per reporter


def test_reports_per_day_are_limited_per_chat(sqlite_url):
    with build_app(report_settings(sqlite_url, reports_per_day="2", messages_per_minute="0"),
                   fallback_only=True) as app:
        file(app, chat=61)
        file(app, chat=61)
        answer = text_of(say(app, "/lapor", 61))
        assert "sudah ada 2 laporan hari ini" in answer
        assert "Kejadian" not in answer and "bahaya" in answer
        assert "dalam bahaya sekarang" in text_of(say(app, "/lapor", 62))  # another chat may still report


def test_messages_per_minute_get_one_polite_notice_then_silence(sqlite_url):
    with build_app(report_settings(sqlite_url, messages_per_minute="5"), fallback_only=True,
                   limit_chats=True) as app:
        turns = [say(app, "halo", 71) for _ in range(8)]
        assert all(t.replies for t in turns[:5])
        assert "Pelan-pelan" in text_of(turns[5]) and not turns[6].replies and not turns[7].replies
        assert say(app, "halo", 72).replies  # another chat is not affected


def test_failed_status_guesses_are_limited_globally(app):
    from bot.reports import service as service_module

    service_module.MAX_FAILED_LOOKUPS_GLOBAL, before = 6, service_module.MAX_FAILED_LOOKUPS_GLOBAL
    try:
        for chat in range(6):  # six chats, one wrong guess each: under every chat's own limit
            assert "tidak" in text_of(say(app, "/status TPPO-2026-AAAAAA", 300 + chat)).lower()
        assert app.reports.status_lookup("TPPO-2026-BBBBBB", 399).kind == "rate_limited"
    finally:
        service_module.MAX_FAILED_LOOKUPS_GLOBAL = before


# ---- 8. staff -------------------------------------------------------------------------------------------------

class StaffBot:
    def __init__(self, statuses: dict[int, str]):
        self.statuses = statuses
        self.member_calls = 0
        self.edited: list[int] = []

    async def get_chat_member(self, chat_id, user_id):
        self.member_calls += 1
        return SimpleNamespace(status=self.statuses.get(user_id, "left"))

    async def edit_message_text(self, text, chat_id, message_id, reply_markup=None):
        self.edited.append(message_id)


def press_as(desk: StaffDesk, bot: StaffBot, chat_id: int, user_id: int, data: str) -> list:
    answers = []

    async def answer(text=None, show_alert=None):
        answers.append((text, show_alert))

    update = SimpleNamespace(
        callback_query=SimpleNamespace(data=data, answer=answer, message=SimpleNamespace(message_id=999)),
        effective_user=SimpleNamespace(id=user_id, full_name=f"User {user_id}"),
        effective_chat=SimpleNamespace(id=chat_id, type="supergroup"))
    asyncio.run(desk.on_button(update, SimpleNamespace(bot=bot)))
    return answers


def test_only_admins_of_the_task_force_chat_change_statuses(app):
    code = file(app)
    drain(app, FakeBot())
    report = app.reports.repository.by_code(code)
    bot = StaffBot({1: "administrator", 2: "member"})
    desk = StaffDesk(app.reports, app.content, app.insights, admins_only=True)
    data = f"staff:{report.id}_diterima"
    assert press_as(desk, bot, -5555, 1, data)[0][1] is True  # another group: refused, even for an admin
    assert app.reports.repository.by_code(code).status == "baru"
    assert "admin" in press_as(desk, bot, TASKFORCE, 2, data)[0][0]  # a plain member
    assert app.reports.repository.by_code(code).status == "baru"
    press_as(desk, bot, TASKFORCE, 1, data)
    assert app.reports.repository.by_code(code).status == "diterima"
    assert bot.edited == [report.staff_message_id]  # the report's own message, not the pressed message 999
    members_desk = StaffDesk(app.reports, app.content, app.insights, admins_only=False)
    press_as(members_desk, bot, TASKFORCE, 2, f"staff:{report.id}_diproses")
    assert app.reports.repository.by_code(code).status == "diproses"


def test_membership_is_asked_again_after_a_minute(app, monkeypatch):
    from bot.channels import telegram_staff

    code = file(app)
    drain(app, FakeBot())
    report = app.reports.repository.by_code(code)
    bot = StaffBot({1: "administrator"})
    desk = StaffDesk(app.reports, app.content, app.insights)
    clock = [1000.0]
    monkeypatch.setattr(telegram_staff.time, "monotonic", lambda: clock[0])
    press_as(desk, bot, TASKFORCE, 1, f"staff:{report.id}_diterima")
    bot.statuses[1] = "left"  # removed from the group
    clock[0] += 61
    press_as(desk, bot, TASKFORCE, 1, f"staff:{report.id}_selesai")
    assert bot.member_calls == 2 and app.reports.repository.by_code(code).status == "diterima"


# ---- 9. people's rights over their data ---------------------------------------------------------------------

def test_privasi_and_hapus(app, sqlite_url):
    assert "90 hari" in text_of(say(app, "/privasi", 81))
    code = file(app, chat=81)
    say(app, "/lapor", 81)  # a draft in progress
    press(app, "report:danger_no", 81)
    erased = text_of(say(app, "/hapus", 81))
    assert "sudah kami hapus" in erased and "1 laporan" in erased
    db = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    assert db.execute("select count(*) from chat_state where chat_id = 81").fetchone() == (0,)
    report = app.reports.repository.by_code(code)
    assert report is not None and report.reporter_key is None  # stays with the task force, unlinked
    assert app.reports.reporter(report).get("chat_id") is None
    assert code not in text_of(say(app, "/status", 81))  # no longer listed as this chat's report


def test_the_state_of_inactive_chats_expires(app, sqlite_url):
    say(app, "halo", 91)
    say(app, "halo", 92)
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:
        db.execute("update chat_state set updated_at = '2000-01-01 00:00:00' where chat_id = 91")
    removed = app.chat_states.expire(datetime.now(UTC) - timedelta(days=90))
    assert removed == 1
    assert app.chat_states.load(91).updated_at is None and app.chat_states.load(92).updated_at is not None


@pytest.mark.postgres
def test_the_safety_features_on_postgresql():
    from sqlalchemy import update

    from db.models import Delivery
    from tests.conftest import throwaway_postgres

    old, new = new_key(), new_key()
    with throwaway_postgres() as (postgres_url, _stop):  # its own cluster: the key check is per database
        settings = report_settings(postgres_url, old, reports_per_day="100")
        with build_app(settings, fallback_only=True) as app:
            for _ in range(3):
                file(app, chat=1001, urgent=True, evidence=2)
            other = file(app, chat=1002, urgent=True)
            assert other in [due.report.code for due in app.reports.claim_due()][:2]
            with app.reports.repository._sessions.begin() as session:  # the claimed ones' lease ends now
                session.execute(update(Delivery).values(due_at=datetime(2000, 1, 1, tzinfo=UTC)))
        with build_app(report_settings(postgres_url, f"{new},{old}"), fallback_only=True) as app:
            assert app.reports.rotate_key() == 4
        with build_app(report_settings(postgres_url, new), fallback_only=True) as app:
            bot = FakeBot()
            bot.refuse(TASKFORCE, ChatMigrated(-100555))
            drain(app, bot)
            assert app.reports.taskforce_chat_id == -100555
            assert "sudah kami hapus" in text_of(say(app, "/hapus", 1002))
            assert app.reports.repository.by_code(other).reporter_key is None
            assert app.chat_states.expire(datetime.now(UTC) + timedelta(days=1)) >= 1
        with pytest.raises(SystemExit, match="cannot open the reports"), \
                build_app(report_settings(postgres_url, old), fallback_only=True):
            pass  # the old key alone no longer opens them
