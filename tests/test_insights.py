"""Insights (issue 16): counters from a seeded month give the expected numbers, missed messages are kept scrubbed
and grouped, charts and summaries render with "< 5", and nothing identifying reaches the database file.

Real app (SQLite, content, registry seed), NLU by the local classifier. A month is seeded through the recorder with
the turns the engine produces (meaning, replies), with a clock set to each day; reports go through the report
repository with their times set."""
from __future__ import annotations

import csv
import glob
import io
import struct
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_app
from bot.content import WITA
from bot.dialogue.messages import Button, Incoming, Reply, Turn
from bot.insights import missed as missed_messages
from bot.insights.charts import charts_for
from bot.insights.publish import summary_text, write_report
from bot.insights.recorder import InsightRecorder, observe, scrub
from bot.insights.summary import buckets_of, build_summary, shown
from bot.nlu.normalise import normalise
from bot.nlu.training import NLU_DATA_DIR
from db.models import Report, ReportStatusChange
from db.reports import NewReport, ReportRepository
from tests.helpers import say
from tests.test_reports import report_settings

MONTH_START, MONTH_END = date(2026, 10, 1), date(2026, 10, 31)
NAME_MESSAGE = ("Saya Yohana Bria dari Atambua, hp 0812345{day:05d}, email yohana.bria@contoh.id, "
                "mau kerja ke Malaysia lewat Om Markus")
IDENTIFYING = ("yohana", "bria", "markus", "0812345", "contoh.id")


class Clock:
    def __init__(self):
        self.now = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)

    def __call__(self):
        return self.now

    def day(self, day: date):
        self.now = datetime(day.year, day.month, day.day, 10, 0, tzinfo=WITA)


@pytest.fixture
def app(sqlite_url):
    with build_app(report_settings(sqlite_url), fallback_only=True) as app:
        yield app


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def recorder(app, clock):
    return InsightRecorder(app.insights, NLU_DATA_DIR, background=False, clock=clock)


def _turn(meaning: str, *replies: Reply, intent: str | None = None, sure: bool = True) -> Turn:
    return Turn(replies=list(replies) or [Reply("jawaban")], intent=intent, meaning=meaning, sure=sure)


def _active_agency(app) -> int:
    for agency_id in range(1, 500):
        record = app.registry.get(agency_id)
        if record is not None and record.status == "aktif" and record.listed:
            return agency_id
    raise AssertionError("no active agency in the seed data")


def seed_month(app, recorder, clock) -> dict:
    """A month of events; returns what the summary must show."""
    content = app.content.current()
    not_this = Reply(content.render("not_this"), (Button("Biaya", "faq:biaya"),))
    active = _active_agency(app)
    day = MONTH_START
    while day <= MONTH_END:
        clock.day(day)
        n = day.day
        text = lambda t: Incoming(1, 1, text=t)  # noqa: E731 - the recorder never sees the ids anyway
        for _ in range(3):
            recorder.record(text("syarat jadi pmi apa"), _turn("faq/syarat", intent="faq/syarat"), content)
        if n % 2 == 0:
            recorder.record(text("ongkos brp"), _turn("faq/syarat", Reply("jawaban"), not_this,
                                                      intent="faq/syarat", sure=False), content)
        recorder.record(text(NAME_MESSAGE.format(day=n)), _turn("not_understood", intent="nlu_fallback"), content)
        if n <= 10:
            recorder.record(text("kontrak"), _turn("clarify", intent="faq/perjanjian_kerja"), content)
        if n <= 20:
            recorder.record(text("PT yang ini resmi?"), _turn(f"agency:{active}"), content)
        if n <= 6:
            recorder.record(text("apakah PT Maju Sejahtera Abadi resmi?"), _turn("agency:?"), content)
        if n <= 3:
            recorder.record(text("cek agen jaya"), _turn("agency:choose"), content)
        if n <= 4:
            recorder.record(Incoming(1, 1, press="faq:paspor"), Turn(), content)
        recorder.record(text("/start"), _turn("command"), content)  # not a question
        recorder.record(text("1"), _turn("option"), content)  # not a question
        if n % 10 == 0:
            recorder.flush()  # several flushes add up
        day += timedelta(days=1)
    recorder.flush()
    return {"active": active}


def seed_reports(app) -> None:
    """7 reports in the month: 4 about wages, 3 about recruiters; 5 from TTS, 2 abroad; 6 answered after 1..6 h."""
    sessions = app.insights._sessions
    repository = ReportRepository(sessions)
    for i in range(7):
        report, _ = repository.create(NewReport(
            code=f"TPPO-2026-TEST{i:02d}", draft_key=f"draft-{i}", urgent=i == 0,
            category="gaji" if i < 4 else "calo", location_kind="ntt" if i < 5 else "abroad",
            location="5302" if i < 5 else "my", agency_id=None, details_secret="gAAAA-secret", contact_mode="anonymous",
            reporter_secret=None, reporter_key=None, evidence=()))
        created = datetime(2026, 10, 5 + i * 3, 1, 0, tzinfo=UTC)
        with sessions.begin() as session:
            session.get(Report, report.id).created_at = created
        if i < 6:
            repository.change_status(report.id, "diterima", 99, "Petugas", notify_reporter=False)
            with sessions.begin() as session:
                change = session.query(ReportStatusChange).filter_by(report_id=report.id).one()
                change.changed_at = created + timedelta(hours=i + 1)


def test_a_seeded_month_gives_the_expected_numbers(app, recorder, clock):
    seed_month(app, recorder, clock)
    seed_reports(app)
    summary = build_summary(app.insights, app.content.current(), MONTH_START, MONTH_END)

    # 31 days: 93 sure answers, 31 agency-check turns (20 + 6 + 3 are days 1-20, 1-6, 1-3 = 29), 15 unsure
    assert summary.outcomes == {"answered": 93 + 29, "unsure": 15, "not_understood": 31, "clarify": 10}
    assert summary.questions == 93 + 29 + 15 + 31 + 10
    assert sum(summary.answered) == 122 and sum(summary.missed) == 56
    weeks = buckets_of(MONTH_START, MONTH_END)
    assert [b.start for b in summary.buckets] == [b.start for b in weeks] and weeks[0].start == date(2026, 9, 28)
    # week of 28 Sep: Oct 1-4 -> 12 syarat + 4 agency + 4 ?, + 3 choose = 23 answered; unsure Oct 2, 4; 4 not
    # understood, 4 clarify
    assert summary.answered[0] == 12 + 4 + 4 + 3 and summary.missed[0] == 2 + 4 + 4
    topics = dict(summary.topics)
    content = app.content.current()
    assert topics[content.topics["syarat"].title] == 93 + 15
    assert topics["Cek perusahaan"] == 29
    assert topics[content.topics["paspor"].title] == 4  # buttons count as asking
    assert "/start" not in str(summary.topics)
    syarat_weeks = summary.topics_by_bucket[content.topics["syarat"].title]
    assert syarat_weeks[0] == 4 * 3 + 2 and sum(syarat_weeks) == 108  # Oct 1-4: 3 a day + unsure on the 2nd, 4th
    assert summary.topics_by_bucket[content.topics["paspor"].title][0] == 4
    verdicts = dict(summary.agency_verdicts)
    assert verdicts == {"Terdaftar, aktif": 20, "Tidak ditemukan": 6, "Beberapa nama mirip": 3}
    assert summary.agency_checks == 29
    assert summary.unknown_agencies == [("maju sejahtera abadi", 6)]
    assert summary.offers_checked == 0

    assert summary.reports == 7 and summary.urgent_reports == 1
    assert dict(summary.reports_by_category) == {"Gaji tidak dibayar": 4, "Perekrutan tanpa izin / calo": 3}
    assert dict(summary.reports_by_place) == {"Kab. Timor Tengah Selatan": 5, "Di luar negeri": 2}
    assert dict(summary.reports_by_status) == {"Diterima petugas": 6, "Baru, belum diterima petugas": 1}
    assert summary.response_median_hours == pytest.approx(3.0) and summary.response_p90_hours == pytest.approx(6.0)
    assert summary.responded == 6 and summary.waiting == 1
    assert sum(summary.reports_by_bucket) == 7

    text = summary_text(content, summary)
    assert "Laporan dugaan TPPO:</b> 7" in text and "Belum ditanggapi: &lt; 5" in text
    assert "separuh laporan dalam 3 jam, 90% dalam 6 jam" in text
    assert "MAJU SEJAHTERA ABADI" in text


def test_small_counts_are_shown_as_less_than_five():
    assert [shown(n) for n in (0, 1, 4, 5, 1234)] == ["0", "< 5", "< 5", "5", "1.234"]


def test_charts_are_phone_sized_pngs_and_the_report_is_written(app, recorder, clock, tmp_path):
    seed_month(app, recorder, clock)
    seed_reports(app)
    content = app.content.current()
    summary = build_summary(app.insights, content, MONTH_START, MONTH_END)
    charts = charts_for(summary)
    assert [c.name for c in charts][:3] == ["1_pertanyaan_per_minggu", "2_topik", "3_cek_perusahaan"]
    assert len(charts) == 7  # no offer chart without offers; four report charts
    for chart in charts:
        assert chart.png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", chart.png[16:24])
        assert width == 1080 and height >= 600  # portrait-friendly, full phone width
    paths = write_report(content, summary, charts, tmp_path / "out")
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert len(paths) == 8 and "1_pertanyaan_per_minggu.png" in page and "&lt; 5" in page
    assert "Topik per minggu" in page and "<th>28 Sep</th>" in page


def test_missed_messages_are_scrubbed_grouped_and_exported(app, recorder, clock, tmp_path):
    seed_month(app, recorder, clock)
    rows = app.insights.missed(MONTH_START)
    texts = {row.text for row in rows}
    assert "saya [nama] dari atambua hp email mau kerja ke malaysia lewat om [nama]" in texts
    assert all(not any(ch.isdigit() for ch in t) for t in texts)
    by_text = {(row.text, row.outcome): row.count for row in rows}
    assert by_text[(normalise("ongkos brp"), "unsure")] == 15
    groups = missed_messages.group_missed(rows, app.content.current(), NLU_DATA_DIR)
    labels = {g.label: g for g in groups}
    assert labels["faq/perjanjian_kerja"].count == 10  # the clarify guess
    assert labels["faq/syarat"].count == 15  # unsure answers are grouped under the topic answered
    assert sum(g.count for g in groups) == 15 + 31 + 10
    out = io.StringIO()
    missed_messages.print_groups(groups, out)
    assert "faq/perjanjian_kerja" in out.getvalue()
    path = tmp_path / "missed.csv"
    assert missed_messages.write_csv(groups, path) == len({(r.text) for r in rows})
    with path.open(encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    assert {"topic", "topic_title", "count", "outcomes", "last_day", "text"} <= set(lines[0])


def test_missed_messages_are_kept_ninety_days(app, recorder, clock):
    content = app.content.current()
    clock.day(date(2026, 6, 1))
    recorder.record(Incoming(1, 1, text="pesan lama sekali"), _turn("not_understood"), content)
    recorder.flush()
    assert [r.text for r in app.insights.missed(date(2026, 1, 1))] == ["pesan lama sekali"]
    clock.day(date(2026, 9, 1))  # 92 days later
    recorder.record(Incoming(1, 1, text="pesan baru"), _turn("not_understood"), content)
    recorder.flush()
    assert [r.text for r in app.insights.missed(date(2026, 1, 1))] == ["pesan baru"]
    # the anonymous counters stay
    assert sum(r.count for r in app.insights.counts(date(2026, 1, 1), date(2026, 12, 31), ["outcome"])) == 2


def test_scrub_removes_digits_mail_links_and_unknown_capitalised_words(app):
    vocabulary = frozenset({"saya", "mau", "kerja", "ke", "malaysia", "dari", "kupang", "hp"})
    kept = scrub("Saya Maria dari Kupang, hp +62 812-3456-7890 maria@x.org https://wa.me/628123 Mau kerja ke Malaysia",
                 vocabulary)
    assert kept == "saya [nama] dari kupang hp mau kerja ke malaysia"
    assert scrub("gaji sy 5jt", vocabulary) == "gaji saya jt"


def test_the_engine_hands_every_turn_to_the_recorder_without_identifying_data(sqlite_url, tmp_path):
    """Through the real engine and the real background thread: then grep the database files."""
    with build_app(report_settings(sqlite_url), fallback_only=True, count_insights=True) as app:
        assert app.recorder is not None
        for n in range(12):
            say(app, NAME_MESSAGE.format(day=n), chat=555000 + n)
            say(app, "PT Maju Sejahtera Abadi resmi ga?", chat=555000 + n)
            gibberish = say(app, "zxqv blorp Yohana 0812345999", chat=555000 + n)  # not understood
        say(app, "/lapor", chat=777)
        hedged = say(app, "apa saja syarat menjadi pmi", chat=778)  # the local classifier always hedges
        sure_before = say(app, "halo", chat=779)
        pasted = say(app, "Dicari TKW ke Malaysia, gaji 9 juta, bayar biaya proses 5 juta di depan, hubungi Bu Yohana "
                          "WA 081234567890", chat=780)
        app.recorder.flush()
        counts = {(r.kind, r.key): r.count for r in app.insights.counts(date(2020, 1, 1), date(2100, 1, 1))}
        assert counts[("agency", "?")] == 12 and counts[("agency_unknown", "maju sejahtera abadi")] == 12
        assert hedged.meaning.startswith("faq/") and counts[("topic", hedged.meaning)] == 1
        assert gibberish.meaning == "not_understood"
        assert counts[("outcome", "unsure")] >= 1 and counts[("outcome", "not_understood")] >= 12
        assert sure_before.meaning == "greet" and counts[("topic", "greet")] == 1
        assert ("topic", "command") not in counts and ("topic", "report_step") not in counts
        assert pasted.meaning == "offer" and counts[("offer", "checked")] == 1 and counts[("topic", "check_offer")] == 1
        missed = app.insights.missed(date(2020, 1, 1))
        assert missed and sum(r.count for r in missed) >= 12
        assert all("yohana" not in r.text and "0812" not in r.text for r in missed)
    data = b"".join(Path(path).read_bytes() for path in glob.glob(sqlite_url.removeprefix("sqlite:///") + "*"))
    for needle in IDENTIFYING:
        assert needle.encode() not in data.lower(), needle
    assert b"555000" not in data  # the chat ids (also not as text)


def test_observe_classifies_turns(app):
    sure = observe("syarat", None, _turn("faq/syarat"))
    assert sure.counts == (("topic", "faq/syarat"), ("outcome", "answered")) and sure.missed is None
    guess = _turn("faq/syarat", Reply("x"))
    guess.sure = False  # the engine answered its best guess, with "Bukan ini?"
    unsure = observe("syarat", None, guess)
    assert ("outcome", "unsure") in unsure.counts and unsure.missed == ("syarat", "unsure", "faq/syarat")
    assert observe("/start", None, _turn("command")) is None
    assert observe(None, None, Turn()) is None  # an attachment
    assert observe(None, "faq:biaya", Turn()).counts == (("button", "faq/biaya"),)
    assert observe(None, "report:danger_no", Turn()) is None
    agency = observe("cek PT Abadi Jaya dan PT Sinar", None, _turn("agency:3|?"))
    assert ("agency", "3") in agency.counts and ("agency", "?") in agency.counts
    assert [key for kind, key in agency.counts if kind == "agency_unknown"] == ["sinar"]
    both = observe("bos tahan gaji, ancam kalau lapor", None, _turn("emergency+faq/gaji_tidak_dibayar"))
    assert both.counts == (("topic", "emergency"), ("topic", "faq/gaji_tidak_dibayar"), ("outcome", "answered"))


def test_job_offers_are_counted_with_their_verdict_and_signs(app, recorder, clock):
    """The engine hands each offer check (bot/offers/analyse.py OfferCheck) to `InsightRecorder.offer_checked`;
    the turn (meaning "offer") counts as a question about checking an offer."""
    from bot.offers.analyse import analyse
    from bot.offers.rules import RULES_FILE, load_rules

    content = app.content.current()
    clock.day(date(2026, 10, 3))
    check = analyse("Lowongan kerja kebun sawit Malaysia lewat PT Maju Terus Jaya, gaji 9 juta, cukup KTP tanpa paspor,"
                    " uang pendaftaran 500rb, hubungi WA", load_rules(content.root / RULES_FILE), app.registry,
                    content.countries)
    for _ in range(6):
        recorder.offer_checked(check)
        recorder.record(Incoming(1, 1, text="Lowongan kerja Malaysia gaji 8 juta, bayar 2 juta dulu"),
                        _turn("offer"), content)
    recorder.offer_checked(check)
    recorder.flush()
    summary = build_summary(app.insights, content, MONTH_START, MONTH_END)
    assert summary.offers_checked == 7
    verdicts = dict(summary.offer_verdicts)
    assert verdicts["Berbahaya"] == 7 and sum(verdicts.values()) == 7
    assert summary.offer_signs[0][1] == 7
    assert ("Cek lowongan", 6) in summary.topics
    counts = {(r.kind, r.key): r.count for r in app.insights.counts(MONTH_START, MONTH_END)}
    assert counts[("offer_agency", "not_found")] == 7 and counts[("offer_country", "my")] == 7
    assert "4_tanda_lowongan" in [c.name for c in charts_for(summary)]
    text = summary_text(content, summary)
    assert "Lowongan yang dicek:</b> 7" in text


def test_statistik_posts_the_summary_and_the_charts(app, recorder, clock):
    """The group's /statistik handler (bot/channels/telegram_staff.py) with a recording stand-in for the Bot API."""
    import asyncio
    from types import SimpleNamespace

    from bot.channels.telegram_staff import StaffDesk

    today = datetime.now(UTC)
    clock.now = today
    content = app.content.current()
    for _ in range(7):
        recorder.record(Incoming(1, 1, text="syarat jadi pmi"), _turn("faq/syarat"), content)
    recorder.record(Incoming(1, 1, text="zxqv"), _turn("not_understood"), content)
    recorder.flush()
    sent = []

    class Bot:
        async def send_message(self, chat_id, text, **kwargs):
            sent.append(("text", chat_id, text))

        async def send_media_group(self, chat_id, media, **kwargs):
            sent.append(("media", chat_id, media))

    update = SimpleNamespace(effective_chat=SimpleNamespace(id=-1009))
    asyncio.run(StaffDesk(app.reports, app.content, app.insights).on_statistics(update, SimpleNamespace(bot=Bot(), args=["7"])))
    (kind, chat, text), (media_kind, media_chat, media) = sent
    assert kind == "text" and chat == -1009 and "Pertanyaan:</b> 8" in text and "Statistik bot" in text
    assert media_kind == "media" and media_chat == -1009 and 3 <= len(media) <= 10
    assert media[0].caption and media[0].media.input_file_content[:8] == b"\x89PNG\r\n\x1a\n"


def test_statistik_answers_only_in_the_task_force_group(app):
    import asyncio
    from types import SimpleNamespace

    from bot.channels.telegram_staff import StaffDesk

    class Bot:
        async def send_message(self, *args, **kwargs):
            raise AssertionError("nothing may be sent outside the task-force group")

        send_media_group = send_message

    update = SimpleNamespace(effective_chat=SimpleNamespace(id=-4242))
    asyncio.run(StaffDesk(app.reports, app.content, app.insights).on_statistics(update, SimpleNamespace(bot=Bot(), args=[])))


def test_the_monthly_post_goes_out_once_per_month(app, recorder, clock):
    from bot.insights.publish import month_of, post_once

    assert month_of(None, date(2026, 11, 1)) == (date(2026, 10, 1), date(2026, 10, 31))
    assert month_of("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    seed_month(app, recorder, clock)
    content = app.content.current()
    posts = []
    start, end = month_of("2026-10")
    assert post_once(app.insights, content, start, end, lambda text, charts: posts.append((text, charts)))
    assert not post_once(app.insights, content, start, end, lambda text, charts: posts.append((text, charts)))
    assert len(posts) == 1 and "1 Oktober 2026 – 31 Oktober 2026" in posts[0][0] and len(posts[0][1]) == 3

    def failing(text, charts):
        raise ConnectionError("Telegram unreachable")

    with pytest.raises(ConnectionError):
        post_once(app.insights, content, *month_of("2026-09"), failing)
    assert post_once(app.insights, content, *month_of("2026-09"), lambda text, charts: posts.append(text))  # retried
    summary = build_summary(app.insights, content, MONTH_START, MONTH_END)
    assert summary.questions == 178  # the "done" marks are not counted as anything


def test_the_cli_lists_missed_messages_and_writes_the_report(app, recorder, clock, sqlite_url, tmp_path, monkeypatch,
                                                             capsys):
    from bot.cli import main

    clock.now = datetime.now(UTC)
    content = app.content.current()
    for _ in range(3):
        recorder.record(Incoming(1, 1, text="Om Markus bilang bisa kerja ke Laos?"), _turn("not_understood"), content)
    recorder.record(Incoming(1, 1, text="kontrak"), _turn("clarify", intent="faq/perjanjian_kerja"), content)
    recorder.flush()
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert main(["insights", "missed", "--since", "7d", "--csv", str(tmp_path / "m.csv")]) == 0
    out = capsys.readouterr().out
    assert "4 missed messages" in out and "om [nama] bilang bisa kerja ke laos" in out and "wrote 2 messages" in out
    assert "markus" not in (tmp_path / "m.csv").read_text(encoding="utf-8").lower()
    assert main(["insights", "report", "--output", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "index.html").exists() and (tmp_path / "r" / "2_topik.png").exists()
    assert main(["insights", "missed", "--since", "kemarin"]) == 2


def test_counters_add_up_on_postgresql(postgres_url):
    """The upserts, the grouped reads, the claim and the reports query on PostgreSQL (days in 2001: the database
    is shared with other tests)."""
    clock = Clock()
    with build_app(report_settings(postgres_url), fallback_only=True) as app:
        recorder = InsightRecorder(app.insights, NLU_DATA_DIR, background=False, clock=clock)
        content = app.content.current()
        for _round in range(2):
            clock.day(date(2001, 1, 2))
            for _ in range(3):
                recorder.record(Incoming(1, 1, text="syarat"), _turn("faq/syarat"), content)
            recorder.record(Incoming(1, 1, text="Halo Yosef 0812"), _turn("not_understood"), content)
            recorder.flush()
        counts = {(r.kind, r.key): r.count for r in app.insights.counts(date(2001, 1, 1), date(2001, 1, 31))}
        assert counts[("topic", "faq/syarat")] == 6 and counts[("outcome", "not_understood")] == 2
        rows = app.insights.missed(date(2001, 1, 1))
        assert [(r.text, r.count) for r in rows if r.last_day.year == 2001] == [("halo [nama]", 2)]
        assert app.insights.claim(date(2001, 1, 1), "post:test") and not app.insights.claim(date(2001, 1, 1),
                                                                                              "post:test")
        summary = build_summary(app.insights, content, date(2001, 1, 1), date(2001, 1, 31))
        assert summary.questions == 8 and summary.reports == 0
