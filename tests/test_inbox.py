"""The inbox (db/inbox.py, bot/channels/telegram_inbox.py) on SQLite and on PostgreSQL: every stored update is
handled exactly once, a chat's updates in order and never by two workers at once, a flooding chat holds one slot,
a redelivery is recognised, and a dead worker's chats are taken over."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete
from telegram import Bot, Update

from bot.app import prepare_database
from bot.channels.telegram_inbox import InboxProcessor
from db.inbox import InboxRepository
from db.models import InboxUpdate


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def inbox(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[InboxRepository]:
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine, sessions = prepare_database(url)
    with sessions.begin() as session:  # the PostgreSQL cluster is shared by the session's tests
        session.execute(delete(InboxUpdate))
    yield InboxRepository(sessions)
    engine.dispose()


BOT = Bot("123456:TEST")


def message(update_id: int, chat_id: int) -> dict[str, object]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1700000000, "text": f"pesan {update_id}",
        "chat": {"id": chat_id, "type": "private", "first_name": "Ina"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Ina"}}}


class Recorder:
    """A handler that takes `seconds[chat]` per update and notes (chat, update) when done, and any overlap."""

    def __init__(self, seconds: dict[int, float] | None = None):
        self.seconds = seconds or {}
        self.done: list[tuple[int, int]] = []
        self.busy: set[int] = set()
        self.overlaps = 0

    async def __call__(self, update: Update) -> None:
        assert update.effective_chat is not None
        chat = update.effective_chat.id
        if chat in self.busy:
            self.overlaps += 1
        self.busy.add(chat)
        await asyncio.sleep(self.seconds.get(chat, 0.0))
        self.busy.discard(chat)
        self.done.append((chat, update.update_id))


async def until(condition: object, timeout: float = 15.0) -> None:
    async def wait() -> None:
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)
    await asyncio.wait_for(wait(), timeout)


def test_a_chats_updates_are_handled_in_order_once_and_a_redelivery_is_ignored(inbox: InboxRepository) -> None:
    handled = Recorder(seconds={1: 0.02})

    async def run() -> None:
        processor = InboxProcessor(inbox, BOT, handled)
        for update_id in range(10, 15):
            await processor.accept(message(update_id, 1))
        await processor.accept(message(12, 1))  # Telegram sends one again
        await until(lambda: len(handled.done) == 5)
        await processor.drain(5)

    asyncio.run(run())
    assert handled.done == [(1, 10), (1, 11), (1, 12), (1, 13), (1, 14)]
    assert inbox.pending() == 0


def test_a_flooding_chat_holds_one_slot_and_another_chat_is_answered_at_once(inbox: InboxRepository) -> None:
    handled = Recorder(seconds={1: 0.05})

    async def run() -> None:
        processor = InboxProcessor(inbox, BOT, handled)
        for update_id in range(1, 31):
            await processor.accept(message(update_id, 1))
        flood_done_before = len(handled.done)
        await processor.accept(message(100, 2))
        await until(lambda: (2, 100) in handled.done)
        # Chat 2 did not wait for chat 1's flood (about 25 updates of 50 ms each still queued).
        assert len(handled.done) - flood_done_before <= 3
        await until(lambda: len(handled.done) == 31)
        await processor.drain(5)

    asyncio.run(run())
    assert [u for c, u in handled.done if c == 1] == list(range(1, 31))


def test_two_workers_never_handle_one_chat_at_once_and_every_update_exactly_once(inbox: InboxRepository) -> None:
    """Three chats' updates (an album each) spread over two workers sharing the database, as a proxy would."""
    handled = Recorder(seconds={1: 0.03, 2: 0.03, 3: 0.03})

    async def run() -> None:
        workers = [InboxProcessor(inbox, BOT, handled, worker=f"w{i}") for i in range(2)]
        sweeps = [asyncio.create_task(w.sweep()) for w in workers]
        update_id = 0
        for _ in range(5):
            for chat in (1, 2, 3):
                update_id += 1
                await workers[update_id % 2].accept(message(update_id, chat))
        await until(lambda: len(handled.done) == 15)
        for worker in workers:
            await worker.drain(5)
        for sweep in sweeps:
            sweep.cancel()

    asyncio.run(run())
    assert sorted(u for _c, u in handled.done) == list(range(1, 16))  # none lost, none twice
    assert handled.overlaps == 0
    for chat in (1, 2, 3):
        mine = [u for c, u in handled.done if c == chat]
        assert mine == sorted(mine)


def test_a_dead_workers_chat_is_taken_over_when_its_claim_expires(inbox: InboxRepository) -> None:
    handled = Recorder()
    inbox.store(1, 5, message(1, 5))
    inbox.store(2, 5, message(2, 5))
    assert [s.update_id for s in inbox.claim(5, "dead-worker", timedelta(seconds=1))] == [1]  # the oldest first

    async def run() -> None:
        alive = InboxProcessor(inbox, BOT, handled, worker="alive")
        sweep = asyncio.create_task(alive.sweep())
        await asyncio.sleep(0.3)
        assert handled.done == []  # the claim is still live: nobody else touches the chat
        await until(lambda: len(handled.done) == 2)
        sweep.cancel()
        await alive.drain(5)

    asyncio.run(run())
    assert handled.done == [(5, 1), (5, 2)]


def test_what_users_wrote_is_sealed_in_the_inbox_and_erased_once_handled(sqlite_url: str) -> None:
    import sqlite3

    from bot.reports.crypto import ReportCipher, new_key

    engine, sessions = prepare_database(sqlite_url)
    inbox = InboxRepository(sessions, ReportCipher([new_key()]))
    inbox.store(7, 9, message(7, 9))
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        [(payload,)] = db.execute("select payload from inbox where update_id = 7").fetchall()
    assert "pesan 7" not in payload
    assert [s.payload["message"]["text"] for s in inbox.claim(9, "w", timedelta(seconds=30))] == ["pesan 7"]
    inbox.done(7, "w")
    with sqlite3.connect(path) as db:
        assert db.execute("select payload, status from inbox where update_id = 7").fetchall() == [(None, "done")]
    assert not inbox.store(7, 9, message(7, 9))  # still recognised as handled
    engine.dispose()


def test_the_claims_of_a_killed_worker_on_this_host_are_freed_at_once(inbox: InboxRepository) -> None:
    """systemd restarts a killed worker at once: its chats must not wait for the old claims to expire."""
    import socket
    import subprocess

    process = subprocess.Popen(["true"])
    process.wait()
    dead = f"{socket.gethostname()}:{process.pid}:old"
    handled = Recorder()
    inbox.store(21, 6, message(21, 6))
    inbox.claim(6, dead, timedelta(minutes=10))

    async def run() -> None:
        alive = InboxProcessor(inbox, BOT, handled)
        sweep = asyncio.create_task(alive.sweep())
        await until(lambda: handled.done == [(6, 21)], timeout=5)
        sweep.cancel()
        await alive.drain(5)

    asyncio.run(run())


def test_an_update_that_cannot_be_read_here_does_not_block_its_chat(sqlite_url: str) -> None:
    """Stored sealed with a key this worker no longer has: dropped with an error; the chat's next update is
    handled."""
    from bot.reports.crypto import ReportCipher, new_key

    engine, sessions = prepare_database(sqlite_url)
    InboxRepository(sessions, ReportCipher([new_key()])).store(31, 4, message(31, 4))
    inbox = InboxRepository(sessions, ReportCipher([new_key()]))
    handled = Recorder()

    async def run() -> None:
        processor = InboxProcessor(inbox, BOT, handled)
        await processor.accept(message(32, 4))
        await until(lambda: handled.done == [(4, 32)])
        await processor.drain(5)

    asyncio.run(run())
    assert inbox.pending() == 0
    engine.dispose()


def test_a_message_no_utf8_can_hold_is_stored_and_handled(sqlite_url: str) -> None:
    """A lone surrogate (it reaches Telegram's JSON from broken clients) is stored, sealed, and handed on; the
    channel cleans it when the update is handled."""
    from bot.reports.crypto import ReportCipher, new_key

    engine, sessions = prepare_database(sqlite_url)
    inbox = InboxRepository(sessions, ReportCipher([new_key()]))
    update = message(41, 8)
    update["message"]["text"] = "tolong \udb8c saya"  # type: ignore[index]
    assert inbox.store(41, 8, update)
    [stored] = inbox.claim(8, "w", timedelta(seconds=30))
    assert stored.payload is not None and stored.payload["message"]["text"] == "tolong \udb8c saya"
    engine.dispose()
