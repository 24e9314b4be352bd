"""Reports below the channel: reminders, retention, the staff CLI, encryption, codes, PostgreSQL."""
from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import build_app
from bot.dialogue.messages import Incoming
from bot.reports import codes
from bot.reports.cli import ReportsCli, init_key
from bot.reports.crypto import ReportCipher, new_key
from bot.settings import PROJECT_ROOT, SettingsError
from tests.conftest import settings_for
from tests.helpers import press, say, text_of

TASKFORCE = "-1009"
STORY = "Adik saya dibawa calo ke Kalimantan, tidak bisa dihubungi"


# One key for the whole test session unless a test gives its own: databases shared between tests (the session's
# PostgreSQL) hold a key check, and a report key that changed between tests would (rightly) stop the app.
SESSION_KEY = new_key()


def report_settings(database_url: str, **extra):
    return settings_for(database_url=database_url, report_encryption_key=extra.pop("key", SESSION_KEY),
                        taskforce_chat_id=TASKFORCE, **extra)


@pytest.fixture
def app(sqlite_url):
    with build_app(report_settings(sqlite_url), fallback_only=True) as app:
        yield app


def file(app, chat: int = 4242, story: str = STORY, phone: str | None = None) -> str:
    say(app, "/lapor", chat)
    press(app, "report:danger_no", chat)
    say(app, story, chat)
    for _ in range(4):
        press(app, "report:skip", chat)
    press(app, "report:evidence_done", chat)
    say(app, phone or "💬 Cukup kabari lewat bot ini", chat)
    return codes.find_code(text_of(press(app, "report:send", chat)))


def deliver_all(app) -> list:
    """What the outbox worker would send now, marked as sent (message ids 100, 101, ...)."""
    sent = []
    for number, due in enumerate(app.reports.claim_due(), start=100):
        sent.append((due.kind, app.reports.outgoing(due)))
        app.reports.delivered(due, number)
    return sent


def test_an_unacknowledged_report_is_posted_again_once_per_period(app):
    code = file(app)
    [(kind, outgoing)] = deliver_all(app)
    assert kind == "report" and code in outgoing.text and outgoing.chat_id == int(TASKFORCE)
    now = datetime.now(UTC)
    assert app.reports.enqueue_reminders(now + timedelta(minutes=119)) == 0
    assert app.reports.enqueue_reminders(now + timedelta(minutes=121)) == 1
    assert app.reports.enqueue_reminders(now + timedelta(minutes=122)) == 0  # once per period
    [(kind, reminder)] = deliver_all(app)
    assert kind == "reminder" and "PENGINGAT" in reminder.text and reminder.reply_to == 100
    assert app.reports.enqueue_reminders(now + timedelta(minutes=241)) == 1
    deliver_all(app)
    report = app.reports.repository.by_code(code)
    app.reports.change_status(report.id, "diterima", 1, "Petugas")
    assert app.reports.enqueue_reminders(now + timedelta(hours=10)) == 0


def test_an_idle_draft_gets_one_reminder_then_expires(app):
    say(app, "/lapor")
    press(app, "report:danger_no")
    say(app, STORY)
    now = datetime.now(UTC)
    assert app.engine.remind_idle_drafts(now + timedelta(hours=23)) == []
    [(chat, reminder)] = app.engine.remind_idle_drafts(now + timedelta(hours=25))
    assert chat == 4242 and "belum terkirim" in reminder.text
    assert app.engine.remind_idle_drafts(now + timedelta(minutes=1)) == []
    [(chat, expired)] = app.engine.remind_idle_drafts(now + timedelta(hours=49))
    assert "sudah kami hapus" in expired.text
    assert "Tidak ada laporan" in text_of(press(app, "report:send"))


def test_drafts_and_reports_are_unreadable_without_the_key(sqlite_url, tmp_path):
    key = new_key()
    with build_app(report_settings(sqlite_url, key=key), fallback_only=True) as app:
        say(app, "/lapor")
        press(app, "report:danger_no")
        say(app, STORY)
        path = sqlite_url.removeprefix("sqlite:///")
        draft = sqlite3.connect(path).execute("select data from chat_state").fetchone()[0]
        assert "Kalimantan" not in draft
        code = file(app, chat=77, phone="0812 3456 7890")
        report = app.reports.repository.by_code(code)
    with pytest.raises(ValueError, match="wrong REPORT_ENCRYPTION_KEY"):
        ReportCipher(new_key()).open(report.details_secret)
    # A wrong or lost key stops start-up with a clear message (the key check stored in the database).
    with (pytest.raises(SystemExit, match="cannot open the reports stored"),
          build_app(report_settings(sqlite_url, key=new_key()), fallback_only=True)):
        pass
    dump = "\n".join(sqlite3.connect(path).iterdump())
    # The whole number, in any spacing ("3456" alone also turns up in timestamps and ciphertext by chance).
    assert "Kalimantan" not in dump and "3456 7890" not in dump and "34567890" not in dump


def test_the_summary_can_be_edited_before_sending(app):
    say(app, "/lapor")
    press(app, "report:danger_no")
    say(app, STORY)
    for _ in range(4):
        press(app, "report:skip")
    press(app, "report:evidence_done")
    say(app, "🙈 Anonim, jangan hubungi saya")
    assert [b.data for r in press(app, "report:edit").replies for b in r.buttons][:2] == \
        ["report:edit_what", "report:edit_category"]
    press(app, "report:edit_where")
    press(app, "report:where_ntt")
    summary = text_of(say(app, "di malaka, desa saya"))
    assert "Lokasi korban: Kab. Malaka" in summary and "Periksa laporan" in summary
    press(app, "report:edit_what")
    assert "Kejadian: Ternyata dibawa ke Malaysia" in text_of(say(app, "Ternyata dibawa ke Malaysia"))


def test_staff_cli_show_export_and_purge(app, capsys):
    code = file(app, phone="081234567890")
    cli = ReportsCli(app.settings, app.reports.repository._sessions)
    assert cli.show(code) == 0
    shown = capsys.readouterr().out
    assert STORY in shown and "081234567890" in shown
    out = io.StringIO()
    ReportsCli(app.settings, app.reports.repository._sessions, out=out).export_csv(None)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["code"] == code and row["what"] == STORY and row["status"] == "baru"

    report = app.reports.repository.by_code(code)
    cli.purge("0d", dry_run=True)
    assert "Would delete 0" in capsys.readouterr().out  # still open: never purged
    app.reports.change_status(report.id, "selesai", 1, "Petugas")
    cli.purge("0d", dry_run=True)
    assert "Would delete 1 report(s)" in capsys.readouterr().out and app.reports.repository.by_code(code)
    cli.purge("365d", dry_run=False)
    assert "Deleted 0" in capsys.readouterr().out
    cli.purge("0d", dry_run=False)
    assert "Deleted 1" in capsys.readouterr().out and app.reports.repository.by_code(code) is None


def test_a_malformed_key_stops_the_bot_with_a_clear_message(tmp_path):
    with pytest.raises(SettingsError, match="REPORT_ENCRYPTION_KEY is malformed"):
        settings_for(report_encryption_key="not-a-key")
    env = {"PATH": "/usr/bin:/bin", "REPORT_ENCRYPTION_KEY": "x" * 44, "BOT_VAR_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "REPORT_ENCRYPTION_KEY is malformed" in result.stderr


def test_init_key_writes_a_key_once(tmp_path, capsys):
    env_file = tmp_path / ".env"
    env_file.write_text("TELEGRAM_BOT_TOKEN=\n")
    init_key(settings_for(), env_file)
    first = env_file.read_text()
    assert first.startswith("TELEGRAM_BOT_TOKEN=\n") and "REPORT_ENCRYPTION_KEYS=" in first
    key = first.split("REPORT_ENCRYPTION_KEYS=")[1].strip()
    settings = settings_for(report_encryption_key=key)  # a valid key
    init_key(settings, env_file)
    assert env_file.read_text() == first


@pytest.mark.parametrize("typed, expected", [
    ("TPPO-2026-7K3Q9M", "TPPO-2026-7K3Q9M"), ("tppo 2026 7k3q9m", "TPPO-2026-7K3Q9M"),
    ("kode sy TPPO-2026-7K3Q9M.", "TPPO-2026-7K3Q9M"), ("TPPO-2026-7K3Q9MX", None), ("TPPO-2026-0O1IL5", None),
])
def test_codes_are_read_the_way_people_type_them(typed, expected):
    assert codes.find_code(typed) == expected


def test_new_codes_are_random_and_well_formed():
    drawn = {codes.new_code(2026) for _ in range(1000)}
    assert len(drawn) == 1000 and all(codes.find_code(code) == code for code in drawn)


def test_reports_on_postgresql(postgres_url):
    with build_app(report_settings(postgres_url), fallback_only=True) as app:
        code = file(app, chat=5)
        assert file(app, chat=6) != code
        [first, second] = [due for due in app.reports.claim_due() if due.kind == "report"]
        assert app.reports.claim_due() == []  # leased: a second worker gets nothing
        app.reports.delivered(first, 1)
        report = app.reports.repository.by_code(code)
        assert app.reports.change_status(report.id, "diproses", 9, "Petugas") is not None
        assert app.reports.change_status(report.id, "diproses", 9, "Petugas") is None
        assert [c.to_status for c in app.reports.repository.audit(report.id)] == ["diproses"]
        assert "Sedang ditangani" in text_of(say(app, f"/status {code}", chat=99))


def test_urgent_reports_are_delivered_first(app):
    routine = file(app, chat=1)
    say(app, "/lapor", 2)
    press(app, "report:danger_yes", 2)
    say(app, "Ada yang dikurung sekarang di Oesao", 2)
    for _ in range(4):
        press(app, "report:skip", 2)
    press(app, "report:evidence_done", 2)
    say(app, "🙈 Anonim, jangan hubungi saya", 2)
    urgent = codes.find_code(text_of(press(app, "report:send", 2)))
    assert [due.report.code for due in app.reports.claim_due()] == [urgent, routine]


def test_the_story_can_be_told_by_voice(app):
    say(app, "/lapor")
    press(app, "report:danger_no")
    turn = app.engine.handle(Incoming(4242, 4242, attachment="voice", file_id="AwAC-story"))
    assert "Pesan suara Anda kami simpan" in text_of(turn) and "Kejadiannya termasuk" in text_of(turn)
    for _ in range(4):
        press(app, "report:skip")
    press(app, "report:evidence_done")
    summary = text_of(say(app, "🙈 Anonim, jangan hubungi saya"))
    assert "Kejadian: 🎤 diceritakan lewat pesan suara\nJenis: -" in summary and "Bukti: 1 berkas" in summary
    code = codes.find_code(text_of(press(app, "report:send")))
    sent = deliver_all(app) + deliver_all(app)  # evidence goes once the report message is out
    assert "diceritakan lewat pesan suara" in sent[0][1].text and code in sent[0][1].text
    assert (sent[1][0], sent[1][1].media_kind, sent[1][1].file_id) == ("evidence", "voice", "AwAC-story")


def test_workers_starting_together_on_an_empty_database_keep_one_key_check(app):
    """Several workers start at once (systemd): the second to store the key check must neither crash on the
    duplicate nor replace the first; it gets the stored value and checks its own key against it."""
    repository = app.reports.repository
    first = app.reports.cipher.key_check()
    assert repository.add_meta("race_check", first) == first
    assert repository.add_meta("race_check", ReportCipher(new_key()).key_check()) == first
