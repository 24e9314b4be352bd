"""Several processes share the outbox safely (issue 14): a claim excludes every other, only its holder records the
outcome, a send still in progress keeps its claim, and one delivery leader at a time sends and does the chores,
replaced within seconds when it dies. SQLite and a real PostgreSQL; Telegram is a stand-in Bot."""
from __future__ import annotations

import asyncio
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_app
from bot.channels import telegram_delivery
from bot.channels.telegram_delivery import DeliveryWorker
from bot.settings import PROJECT_ROOT
from db.enums import ContactMode
from db.leases import Leadership
from db.migrate import upgrade
from db.models import Delivery, Lease
from db.reports import ClaimLost, NewReport, ReportRepository
from db.session import make_engine, make_session_factory
from tests.conftest import wait_until
from tests.helpers import say
from tests.test_reports_safety import TASKFORCE, FakeBot, file, report_settings

LEASE = timedelta(minutes=1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[str]:
    """A migrated database of this test's own (on PostgreSQL: a new database in the session's cluster)."""
    if request.param == "sqlite":
        yield sqlite_url
        return
    server = create_engine(request.getfixturevalue("postgres_url"), isolation_level="AUTOCOMMIT")
    name = f"outbox_{secrets.token_hex(4)}"
    with server.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    url = make_url(request.getfixturevalue("postgres_url")).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with server.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    server.dispose()


def process(url: str) -> sessionmaker[Session]:
    """What one bot process has: an engine (a connection pool) of its own."""
    return make_session_factory(make_engine(url))


def queue_reports(sessions: sessionmaker[Session], count: int) -> None:
    repository = ReportRepository(sessions)
    for number in range(count):
        repository.create(NewReport(
            code=f"TPPO-2026-T{number:05d}", draft_key=f"draft-{number}", urgent=False, category=None,
            location_kind=None, location=None, agency_id=None, details_secret="sealed", contact_mode=ContactMode.ANONYMOUS,
            reporter_secret=None, reporter_key=None, evidence=()))


def delivery_row(sessions: sessionmaker[Session], delivery_id: int) -> Delivery:
    with sessions() as session:
        return session.get_one(Delivery, delivery_id)


# ---- claims ----------------------------------------------------------------------------------------------------

def test_workers_claiming_at_once_never_get_the_same_delivery(database_url: str) -> None:
    queue_reports(process(database_url), 60)
    now = datetime.now(UTC)
    workers = 4
    together = threading.Barrier(workers)
    everything: list[int] = []

    def worker() -> list[int]:
        repository = ReportRepository(process(database_url))
        claimed: list[int] = []
        for _round in range(100):  # all at the same moment, round after round, until everything is claimed
            together.wait()
            ids = [item.id for item in repository.claim_due(now, 3, LEASE)]
            claimed += ids
            everything.extend(ids)
            together.wait()
            if len(everything) >= 60:
                break
        return claimed

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda _: worker(), range(workers)))
    assert len(everything) == len(set(everything)) == 60  # each delivery claimed exactly once
    assert sum(1 for claimed in results if claimed) >= 2  # they really competed


def test_a_stale_holder_cannot_record_anything_once_another_worker_claimed(database_url: str) -> None:
    queue_reports(process(database_url), 1)
    first, second = ReportRepository(process(database_url)), ReportRepository(process(database_url))
    now = datetime.now(UTC)
    [stale] = first.claim_due(now, 5, LEASE)
    assert second.claim_due(now + LEASE / 2, 5, LEASE) == []  # leased
    [fresh] = second.claim_due(now + LEASE + timedelta(seconds=1), 5, LEASE)  # the first one's lease ran out
    assert (fresh.id, fresh.token != stale.token) == (stale.id, True)

    before = delivery_row(second._sessions, stale.id)
    with pytest.raises(ClaimLost):
        first.mark_sent(stale.id, stale.token, 111)
    with pytest.raises(ClaimLost):
        first.mark_failed(stale.id, stale.token, "timeout", now)
    with pytest.raises(ClaimLost):
        first.give_up(stale.id, stale.token, "Forbidden", now)
    assert first.renew_claims([stale], now + LEASE * 5) == set()
    after = delivery_row(second._sessions, stale.id)
    assert (after.sent_at, after.message_id, after.attempts, after.last_error, after.gave_up_at, after.due_at,
            after.claim_token) == (None, None, 0, None, None, before.due_at, fresh.token)

    second.mark_sent(fresh.id, fresh.token, 222)
    assert second.get(fresh.report.id).staff_message_id == 222
    with pytest.raises(ClaimLost):  # the claim ended with its outcome: nothing more is recorded with it
        second.mark_sent(fresh.id, fresh.token, 333)
    assert delivery_row(second._sessions, fresh.id).message_id == 222


def test_a_renewed_claim_is_not_claimed_by_another_worker(database_url: str) -> None:
    queue_reports(process(database_url), 1)
    holder, other = ReportRepository(process(database_url)), ReportRepository(process(database_url))
    now = datetime.now(UTC)
    [due] = holder.claim_due(now, 5, LEASE)
    assert holder.renew_claims([due], now + LEASE * 2) == {due.id}  # still sending after one lease
    assert other.claim_due(now + LEASE + timedelta(seconds=1), 5, LEASE) == []
    assert len(other.claim_due(now + LEASE * 2 + timedelta(seconds=1), 5, LEASE)) == 1


# ---- the worker: a send in progress keeps its claim ------------------------------------------------------------

class SlowBot(FakeBot):
    """A Bot whose sends hang until `finish` is set, as when the rate limiter waits out Telegram's 429s."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.finish = asyncio.Event()
        self.cancelled = False

    async def send_message(self, chat_id, text, **kwargs):
        self.started.set()
        try:
            await self.finish.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return await super().send_message(chat_id, text, **kwargs)


@pytest.fixture
def app(sqlite_url: str):
    with build_app(report_settings(sqlite_url, reports_per_day="100", messages_per_minute="0"),
                   fallback_only=True) as app:
        yield app


def leader_worker(app, bot: FakeBot) -> tuple[DeliveryWorker, Leadership]:
    leadership = Leadership(app.reports.repository._sessions, "delivery")
    assert leadership.try_acquire()
    worker = DeliveryWorker(bot, app.engine, app.reports, app.chat_states, 30, leadership)
    worker._next_chores = float("inf")
    return worker, leadership


def test_a_send_retried_longer_than_its_lease_is_sent_once(app) -> None:
    code = file(app)
    app.reports.delivery_lease = timedelta(seconds=1)  # renewed every 0.25 s while the send hangs
    bot = SlowBot()
    worker, _leadership = leader_worker(app, bot)

    async def scenario() -> list[str]:
        sending = asyncio.create_task(worker._tick())
        await bot.started.wait()
        claimed_meanwhile = []
        deadline = time.monotonic() + 3  # three leases
        while time.monotonic() < deadline:
            claimed_meanwhile += [due.report.code for due in await asyncio.to_thread(app.reports.claim_due)]
            await asyncio.sleep(0.1)
        bot.finish.set()
        await sending
        return claimed_meanwhile

    assert asyncio.run(scenario()) == []  # no other worker could claim it while it was being sent
    assert [code in text for _chat, text in bot.sent] == [True]
    report = app.reports.repository.by_code(code)
    assert report.staff_message_id == 1 and app.reports.repository.pending_deliveries(report.id) == []


def test_a_send_whose_claim_passed_to_another_worker_is_cancelled(app, caplog) -> None:
    code = file(app)
    app.reports.delivery_lease = timedelta(seconds=1)
    bot = SlowBot()
    worker, _leadership = leader_worker(app, bot)
    sessions = app.reports.repository._sessions

    async def scenario() -> None:
        sending = asyncio.create_task(worker._tick())
        await bot.started.wait()
        with sessions.begin() as session:  # its lease ran out unrenewed (the database was away) and another took it
            session.execute(update(Delivery).values(claim_token="another-worker"))
        await sending

    asyncio.run(scenario())
    assert bot.cancelled and bot.sent == []
    [pending] = app.reports.repository.pending_deliveries(app.reports.repository.by_code(code).id)
    assert (pending.claim_token, pending.attempts, pending.sent_at) == ("another-worker", 0, None)
    assert "passed to another worker" in caplog.text


# ---- one leader ------------------------------------------------------------------------------------------------

def test_only_one_process_leads(database_url: str) -> None:
    contenders = [Leadership(process(database_url), "delivery") for _ in range(5)]
    start = threading.Barrier(len(contenders))

    def contend(leadership: Leadership) -> bool:
        start.wait()
        return leadership.try_acquire()

    with ThreadPoolExecutor(len(contenders)) as pool:
        first = list(pool.map(contend, contenders))
    assert first.count(True) == 1
    leader = contenders[first.index(True)]
    others = [c for c in contenders if c is not leader]
    for _ in range(3):  # the leader keeps it; nobody else gets it meanwhile
        assert leader.try_acquire() and not any(c.try_acquire() for c in others)
    assert [c.leading for c in contenders] == first
    leader.release()  # a graceful stop hands it over at once
    assert not leader.leading and others[0].try_acquire() and not leader.try_acquire()
    others[0].release()


LEADER_PROCESS = """
import sys, time
from db.leases import Leadership
from db.session import make_engine, make_session_factory
leadership = Leadership(make_session_factory(make_engine(sys.argv[1])), "delivery")
while not leadership.try_acquire():
    time.sleep(0.1)
print("leading", flush=True)
while True:  # renewed like the delivery worker does
    time.sleep(0.5)
    leadership.try_acquire()
"""


def test_the_lead_is_taken_within_seconds_when_the_leader_is_killed(database_url: str) -> None:
    leader = subprocess.Popen([sys.executable, "-c", LEADER_PROCESS, database_url], cwd=PROJECT_ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert leader.stdout is not None and leader.stdout.readline().strip() == "leading"
        successor = Leadership(process(database_url), "delivery")
        assert not successor.try_acquire()
        killed = time.monotonic()
        leader.send_signal(signal.SIGKILL)
        leader.wait()
        wait_until(successor.try_acquire, timeout=15, interval=0.2)
        # Well before its lease (10 s) would run out: SQLite sees that its process is gone, PostgreSQL that its
        # connection closed.
        assert time.monotonic() - killed < 5
        successor.release()
    finally:
        leader.kill()
        leader.wait()


def test_an_expired_lease_is_taken_over_and_its_old_holder_stands_down(sqlite_url: str) -> None:
    old, new = Leadership(process(sqlite_url), "delivery"), Leadership(process(sqlite_url), "delivery")
    assert old.try_acquire() and not new.try_acquire()
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:  # the old holder stopped renewing long ago
        db.execute("update lease set expires_at = '2000-01-01 00:00:00'")
    assert new.try_acquire() and not old.try_acquire() and not old.leading
    with process(sqlite_url)() as session:
        lease = session.get_one(Lease, "delivery")
        assert (lease.holder, lease.token) == (new.holder, 2)  # a new holder, a higher token


@pytest.mark.postgres
def test_a_leader_whose_connection_is_cut_stands_down(postgres_url: str) -> None:
    leader, successor = Leadership(process(postgres_url), "cut"), Leadership(process(postgres_url), "cut")
    assert leader.try_acquire()
    with create_engine(postgres_url, isolation_level="AUTOCOMMIT").connect() as admin:  # e.g. a failover
        admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                           "AND objid = :key"), {"key": leader._backend._key["key"]})
    assert successor.try_acquire() and not leader.try_acquire() and not leader.leading
    successor.release()


# ---- the worker of a process that does not lead ----------------------------------------------------------------

def test_a_worker_that_does_not_lead_sends_nothing_until_it_takes_over(app, sqlite_url, monkeypatch) -> None:
    monkeypatch.setattr(telegram_delivery, "POLL_SECONDS", 0.05)
    monkeypatch.setattr(telegram_delivery, "LEAD_POLL_SECONDS", 0.05)
    code = file(app)
    say(app, "/lapor", 77)  # a draft idle for two days: the leader's chores remind its reporter
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:
        db.execute("update chat_state set updated_at = ? where chat_id = 77", (two_days_ago,))
    sessions = app.reports.repository._sessions
    other_process = Leadership(sessions, "delivery")
    assert other_process.try_acquire()
    mine = Leadership(sessions, "delivery")
    sought = threading.Semaphore(0)
    seek = mine.try_acquire

    def counted_seek() -> bool:
        leading = seek()
        sought.release()
        return leading

    mine.try_acquire = counted_seek  # type: ignore[method-assign]
    bot = FakeBot()
    worker = DeliveryWorker(bot, app.engine, app.reports, app.chat_states, 30, mine)

    async def scenario() -> list[tuple[int, str]]:
        running = asyncio.create_task(worker.run())
        for _ in range(5):  # it sought the lead five times, and found it held
            await asyncio.to_thread(sought.acquire)
        sent_while_not_leading = list(bot.sent)
        other_process.release()
        await asyncio.to_thread(wait_until, lambda: len(bot.sent) >= 2, 15)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        return sent_while_not_leading

    assert asyncio.run(scenario()) == []
    assert sorted(chat for chat, _text in bot.sent) == [TASKFORCE, 77]  # the report and the draft's reminder
    assert any(code in text for _chat, text in bot.sent)
    assert other_process.try_acquire()  # the worker released the lead when it stopped
