"""Updates in through the inbox: stored before they are acknowledged, then handled one chat at a time.

Whatever way an update comes (a webhook call, a getUpdates batch), it is first stored (db/inbox.py), and only then
does the webhook answer 200 or the polling offset move past it. Handling happens from the database: a task per chat
claims the chat's pending updates, hands them to python-telegram-bot's handlers in order and marks each done. Chats
are handled concurrently (`MAX_CHATS_AT_ONCE` per process), a chat's own updates strictly one after another, and a
chat sending a flood holds one slot, not all of them. A worker that dies leaves its claims to expire; any worker's
sweep then picks the chat up, so an acknowledged update is never lost.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Bot, Update

from db.inbox import InboxRepository, Stored
from db.processes import gone, host_prefix, process_name

log = logging.getLogger(__name__)
MAX_CHATS_AT_ONCE = 8  # each holds a database connection for its turn (PostgreSQL: the chat's row lock)
CLAIM_LEASE = timedelta(seconds=30)  # renewed before every update; a dead worker's chats move after this
SWEEP_SECONDS = 1.0
PURGE_EVERY_SECONDS = 3600.0
REDELIVERY_WINDOW = timedelta(days=1)  # Telegram gives up redelivering an update within a day


def chat_of(payload: dict[str, Any], bot: Bot) -> int:
    """The chat an update belongs to (its sender for updates without a chat; 0 for neither)."""
    update = Update.de_json(payload, bot)
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else 0


class InboxProcessor:
    def __init__(self, inbox: InboxRepository, bot: Bot, handle: Callable[[Update], Awaitable[None]],
                 worker: str | None = None):
        self._inbox = inbox
        self.bot = bot
        self._handle = handle
        self.worker = worker or process_name()
        self._slots = asyncio.Semaphore(MAX_CHATS_AT_ONCE)
        self._active: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def accept(self, payload: dict[str, Any]) -> None:
        """Store an update (returns once it is safe to acknowledge it), then have it handled soon.

        With the database away the update cannot be kept: it is handled at once instead, so the user hears that
        something is wrong and to try again (the error handler's message) rather than nothing."""
        update_id = int(payload["update_id"])
        chat_id = chat_of(payload, self.bot)
        try:
            stored = await asyncio.to_thread(self._inbox.store, update_id, chat_id, payload)
        except Exception:  # noqa: BLE001 - any database failure
            log.exception("could not store update %d; handling it without the inbox", update_id)
            await self._handle(Update.de_json(payload, self.bot))
            return
        if stored:
            self._schedule(chat_id)
        else:
            log.info("update %d is already in the inbox (a redelivery); not handled again", update_id)

    async def ready(self) -> bool:
        """Taking updates, and the database answers (for /healthz)."""
        if self._stopping:
            return False
        try:
            await asyncio.to_thread(self._inbox.pending)
        except Exception:  # noqa: BLE001 - any database failure means: send updates elsewhere
            return False
        return True

    def _schedule(self, chat_id: int) -> None:
        if self._stopping or chat_id in self._active:
            return  # the chat's running task picks the new update up before it ends
        self._active.add(chat_id)
        task = asyncio.create_task(self._work_through(chat_id), name=f"chat-{chat_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work_through(self, chat_id: int) -> None:
        try:
            async with self._slots:
                while not self._stopping:
                    # Claiming again before each update renews the claim and sees updates stored meanwhile.
                    claimed = await asyncio.to_thread(self._inbox.claim, chat_id, self.worker, CLAIM_LEASE)
                    if not claimed:
                        return
                    await self._one(claimed[0])
        except Exception:  # noqa: BLE001 - e.g. the database away: the claim expires and a sweep retries the chat
            log.exception("could not work through a chat's updates; they stay in the inbox")
        finally:
            self._active.discard(chat_id)
            if self._stopping:
                await asyncio.to_thread(self._inbox.release, chat_id, self.worker)

    async def _one(self, stored: Stored) -> None:
        try:
            await self._handle(Update.de_json(stored.payload, self.bot))
        except Exception:  # noqa: BLE001 - PTB's error handler has answered the user; never retry a failing update
            log.exception("update %d failed; marked done so it cannot block the chat", stored.update_id)
        await asyncio.to_thread(self._inbox.done, stored.update_id)

    async def sweep(self) -> None:
        """Forever: pick up chats whose updates nobody holds (stored while the chat was busy elsewhere, or left by a
        worker that died), and forget handled updates after Telegram's redelivery window."""
        next_purge = 0.0
        while not self._stopping:
            try:
                await self._free_claims_of_exited_workers()
                for chat_id in await asyncio.to_thread(self._inbox.waiting_chats):
                    self._schedule(chat_id)
                if time.monotonic() >= next_purge:
                    next_purge = time.monotonic() + PURGE_EVERY_SECONDS
                    await asyncio.to_thread(self._inbox.purge, datetime.now(UTC) - REDELIVERY_WINDOW)
            except Exception:  # noqa: BLE001 - the sweep must outlive a database outage
                log.exception("inbox sweep failed; retrying")
            await asyncio.sleep(SWEEP_SECONDS)

    async def _free_claims_of_exited_workers(self) -> None:
        """A worker of this host that was killed (and restarted, as systemd does) left claims that would keep its
        chats waiting for CLAIM_LEASE; they are freed at once. Other hosts' claims simply expire."""
        for holder in await asyncio.to_thread(self._inbox.holders, host_prefix()):
            if holder != self.worker and gone(holder):
                freed = await asyncio.to_thread(self._inbox.release_holder, holder)
                log.info("freed %d update(s) claimed by an exited worker", freed)

    async def drain(self, timeout: float) -> None:
        """Stop taking updates; let the updates being handled finish (their chats' other updates are released to
        the other workers at once)."""
        self._stopping = True
        tasks = list(self._tasks)
        if tasks:
            done, late = await asyncio.wait(tasks, timeout=timeout)
            if late:
                log.warning("%d chat(s) still busy after %.0f s; their claims expire for another worker",
                            len(late), timeout)
