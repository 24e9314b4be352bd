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
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Update

from db.inbox import InboxRepository, Stored
from db.processes import gone, host_prefix, process_name

log = logging.getLogger(__name__)
MAX_CHATS_AT_ONCE = 8  # each holds a database connection for its turn (PostgreSQL: the chat's row lock)
CLAIM_LEASE = timedelta(seconds=30)  # renewed while handling; a dead worker's chats move after this
MAX_ATTEMPTS = 5  # an update that took down its worker this often is dropped (a chat is never blocked for good)
SWEEP_SECONDS = 1.0
PURGE_EVERY_SECONDS = 3600.0
REDELIVERY_WINDOW = timedelta(days=1)  # Telegram gives up redelivering an update within a day


def chat_of(payload: dict[str, Any], bot: Bot) -> int:
    """The chat an update belongs to (its sender for updates without a chat; 0 for neither)."""
    update = Update.de_json(payload, bot)
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else 0


class NotStored(RuntimeError):
    """The update could not be stored (the database is away): it must not be acknowledged."""


class InboxProcessor:
    def __init__(self, inbox: InboxRepository, bot: Bot, handle: Callable[[Update], Awaitable[None]],
                 worker: str | None = None):
        self._inbox = inbox
        self.bot = bot
        self._handle = handle
        self.worker = worker or process_name()
        self._slots = asyncio.Semaphore(MAX_CHATS_AT_ONCE)
        self._active: set[int] = set()
        self._again: set[int] = set()  # busy chats that got an update after their task last looked
        self._tasks: set[asyncio.Task[None]] = set()
        self._apologised: deque[int] = deque(maxlen=1000)  # updates answered "try again" while not stored
        self._stopping = False

    async def accept(self, payload: dict[str, Any]) -> None:
        """Store an update (returns once it is safe to acknowledge it), then have it handled soon.

        With the database away the update cannot be kept: NotStored is raised, so it is not acknowledged and
        Telegram sends it again (the webhook answers 503; polling keeps its offset). The user is told once, at the
        first attempt, that something is wrong (the error handler's message), rather than nothing."""
        update_id = int(payload["update_id"])
        chat_id = chat_of(payload, self.bot)
        try:
            stored = await asyncio.to_thread(self._inbox.store, update_id, chat_id, payload)
        except SQLAlchemyError as exc:  # the database is away (anything else is a bug: it reaches the caller)
            log.error("could not store update %d (%s); not acknowledged", update_id, type(exc).__name__)
            if update_id not in self._apologised:
                self._apologised.append(update_id)
                await self._handle(Update.de_json(payload, self.bot))  # fails on the database: the apology
            raise NotStored(update_id) from exc
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
        if self._stopping:
            return
        if chat_id in self._active:
            self._again.add(chat_id)  # its task looks once more before it ends
            return
        self._active.add(chat_id)
        task = asyncio.create_task(self._work_through(chat_id), name=f"chat-{chat_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work_through(self, chat_id: int) -> None:
        try:
            async with self._slots:
                finished: int | None = None  # handled, recorded as done with the next claim
                try:
                    while not self._stopping:
                        self._again.discard(chat_id)
                        # Claiming again before each update renews the claim and sees updates stored meanwhile.
                        claimed = await asyncio.to_thread(self._inbox.claim, chat_id, self.worker, CLAIM_LEASE,
                                                          finished)
                        finished = None
                        if claimed:
                            await self._one(chat_id, claimed[0])
                            finished = claimed[0].update_id
                        elif chat_id not in self._again:
                            return
                finally:
                    if finished is not None:  # stopping
                        await asyncio.to_thread(self._inbox.done, finished, self.worker)
        except Exception:  # noqa: BLE001 - e.g. the database away: the claim expires and a sweep retries the chat
            log.exception("could not work through a chat's updates; they stay in the inbox")
        finally:
            self._active.discard(chat_id)
            self._again.discard(chat_id)
            if self._stopping:
                await asyncio.to_thread(self._inbox.release, chat_id, self.worker)

    async def _one(self, chat_id: int, stored: Stored) -> None:
        if stored.payload is None:  # sealed with a key no longer configured, or by a worker without one
            log.error("update %d cannot be read here; dropped so it cannot block the chat", stored.update_id)
        elif stored.attempts > MAX_ATTEMPTS:
            log.error("update %d was taken %d times without being handled; dropped", stored.update_id,
                      stored.attempts)
        else:
            renewing = asyncio.create_task(self._keep_claim(chat_id))
            try:
                await self._handle(Update.de_json(stored.payload, self.bot))
            except Exception:  # noqa: BLE001 - PTB's error handler answered the user; never retry a failing update
                log.exception("update %d failed; marked done so it cannot block the chat", stored.update_id)
            finally:
                renewing.cancel()

    async def _keep_claim(self, chat_id: int) -> None:
        """While one update takes long (Telegram's flood control, a slow NLU server), the claim is renewed, so
        no other worker takes the chat meanwhile."""
        while True:
            await asyncio.sleep(CLAIM_LEASE.total_seconds() / 3)
            await asyncio.to_thread(self._inbox.renew, chat_id, self.worker, CLAIM_LEASE)

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
