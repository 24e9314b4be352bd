"""The outbox worker: sends reports, evidence, reminders and reporters' notices, and the periodic chores.

Everything to send is in the database first; this loop only sends it and records the outcome, so a crash or
restart resumes where it stopped. A send that fails for a passing reason is retried with backoff (see
ReportService.failed); one Telegram refuses for good (bot blocked or removed, chat not found, message too long) is
given up at once and logged at ERROR; a group that became a supergroup is followed to its new id.

Only the delivery leader sends and does the chores (db/leases.py: one per deployment); every other process seeks the
lead every LEAD_POLL_SECONDS, so it is taken over within seconds when the leader dies. Each message is sent under its
claim (db/reports.py): renewed while the send is in progress, its outcome recorded only by the claim's holder.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from telegram import Bot, ReplyParameters
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.channels.telegram_markup import inline_keyboard, reply_markup
from bot.dialogue.engine import Engine
from bot.reports.service import Outgoing, ReportService
from db.chat_state import ChatStateRepository
from db.leases import Leadership
from db.reports import ClaimLost, DueDelivery

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
LEAD_POLL_SECONDS = 2.0  # the lead is renewed this often (SQLite's lasts 10 s), or sought by a process without it
# BadRequest messages that are not about this message and may pass (everything else is permanent).
PASSING_BAD_REQUESTS = ("too many requests", "retry after", "timeout", "internal")
CHORES_EVERY_SECONDS = 60.0


class DeliveryWorker:
    """Sends and chores run only while `leadership` is held. `reports` None (reports switched off): only the chores
    run."""

    def __init__(self, bot: Bot, engine: Engine, reports: ReportService | None, chat_states: ChatStateRepository,
                 retention_days: int, leadership: Leadership):
        self._bot = bot
        self._engine = engine
        self._reports = reports
        self._chat_states = chat_states
        self._retention_days = retention_days
        self._leadership = leadership
        # The lead and the claims are kept from a thread of their own: busy turns cannot delay their renewal.
        self._keeper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="delivery-keeper")
        self._next_chores = 0.0

    async def run(self) -> None:
        """Until cancelled; the lead is released on the way out (a graceful stop hands it over at once)."""
        lead = asyncio.create_task(self._keep_leading(), name="delivery-lead")
        try:
            while True:
                if self._leadership.leading:
                    try:
                        await self._tick()
                    except Exception:  # noqa: BLE001 - the worker must outlive any one failure (the database away)
                        log.exception("delivery worker: unexpected error; retrying")
                await asyncio.sleep(POLL_SECONDS)
        finally:
            lead.cancel()
            await asyncio.get_running_loop().run_in_executor(self._keeper, self._leadership.release)
            self._keeper.shutdown(wait=False)

    async def _keep_leading(self) -> None:
        loop = asyncio.get_running_loop()
        leading = False
        while True:
            try:
                now_leading = await loop.run_in_executor(self._keeper, self._leadership.try_acquire)
            except Exception:  # noqa: BLE001 - keep seeking the lead whatever happens
                log.exception("delivery worker: could not renew or seek the lead")
                now_leading = self._leadership.leading
            if now_leading != leading:
                log.info("this process (%s) %s the delivery leader", self._leadership.holder,
                         "is now" if now_leading else "is no longer")
            leading = now_leading
            await asyncio.sleep(LEAD_POLL_SECONDS)

    async def _tick(self) -> None:
        if time.monotonic() >= self._next_chores:
            self._next_chores = time.monotonic() + CHORES_EVERY_SECONDS
            await self._chores()
        service = self._reports
        if service is None:
            return
        while self._leadership.leading:
            due = await asyncio.to_thread(service.claim_due)
            if not due:
                return
            await self._deliver_claimed(service, due)

    async def _deliver_claimed(self, service: ReportService, due: list[DueDelivery]) -> None:
        """Send claimed messages in order; one whose claim passed to another worker meanwhile is left to it."""
        held = {item.id: item for item in due}  # claimed, not finished
        for item in due:
            try:
                if item.id not in held:
                    raise ClaimLost(item.id)
                await self._deliver(service, item, held)
            except ClaimLost:
                log.warning("delivery of %s for report %s: its claim ran out and passed to another worker, whose "
                            "outcome counts", item.kind, item.report.code)
            except Exception as exc:  # noqa: BLE001 - e.g. a report sealed with another key: retry it later
                log.exception("delivery of %s for report %s failed unexpectedly", item.kind, item.report.code)
                with contextlib.suppress(ClaimLost):
                    await asyncio.to_thread(service.failed, item, type(exc).__name__)
            held.pop(item.id, None)

    async def _deliver(self, service: ReportService, due: DueDelivery, held: dict[int, DueDelivery]) -> None:
        outgoing = await asyncio.to_thread(service.outgoing, due)
        if outgoing is None:
            await asyncio.to_thread(service.delivered, due, None)
            return
        try:
            message_id = await self._send_claimed(service, due, held, outgoing)
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            await asyncio.to_thread(service.failed, due, "429 Too Many Requests", seconds)
        except ChatMigrated as exc:
            if outgoing.to_taskforce:
                await asyncio.to_thread(service.follow_migration, outgoing.chat_id, exc.new_chat_id)
                await asyncio.to_thread(service.failed, due, f"group moved to {exc.new_chat_id}", 0.0)
            else:
                await asyncio.to_thread(service.gave_up, due, f"ChatMigrated: {exc.message}")
        except TelegramError as exc:
            error = f"{type(exc).__name__}: {exc.message}"
            if is_permanent(exc):
                await asyncio.to_thread(service.gave_up, due, error)
            else:
                await asyncio.to_thread(service.failed, due, error)
        else:
            await asyncio.to_thread(service.delivered, due, message_id)

    async def _send_claimed(self, service: ReportService, due: DueDelivery, held: dict[int, DueDelivery],
                            outgoing: Outgoing) -> int:
        """Send while keeping the claims of `held` (this message and the rest of its batch): renewed every quarter
        of their lease while the send is in progress (the rate limiter may be waiting out 429s). When this
        message's claim is found lost, the send is cancelled (ClaimLost): another worker sends it."""
        loop = asyncio.get_running_loop()
        send = asyncio.create_task(self._send(outgoing))
        try:
            while True:
                done, _pending = await asyncio.wait({send}, timeout=service.delivery_lease.total_seconds() / 4)
                if done:
                    return send.result()
                try:
                    still = await loop.run_in_executor(self._keeper, service.renew_claims, list(held.values()))
                except Exception:  # noqa: BLE001 - e.g. the database away: the claims last until their lease ends
                    log.exception("delivery worker: could not renew the claims of messages being sent")
                    continue
                for lost in set(held) - still:
                    del held[lost]
                if due.id not in still:
                    raise ClaimLost(due.id)
        finally:
            send.cancel()

    async def _send(self, outgoing: Outgoing) -> int:
        markup = inline_keyboard(outgoing.buttons)
        reply = ReplyParameters(outgoing.reply_to, allow_sending_without_reply=True) if outgoing.reply_to else None
        if outgoing.media_kind is None:
            message = await self._bot.send_message(outgoing.chat_id, outgoing.text, reply_markup=markup,
                                                   reply_parameters=reply)
        else:
            method = getattr(self._bot, f"send_{outgoing.media_kind}")
            message = await method(outgoing.chat_id, outgoing.file_id, caption=outgoing.text, reply_parameters=reply)
        return message.message_id

    async def _chores(self) -> None:
        """Reminders: unacknowledged reports to the task force, idle drafts to their reporters; expired chat states
        deleted."""
        now = datetime.now(UTC)
        days = self._retention_days
        expired = await asyncio.to_thread(self._chat_states.expire, now - timedelta(days=days))
        if expired:
            log.info("deleted the state of %d chat(s) inactive for %d days", expired, days)
        if self._reports is not None:
            added = await asyncio.to_thread(self._reports.enqueue_reminders, now)
            if added:
                log.info("%d unacknowledged report(s): reminder queued for the task force", added)
        for chat_id, reply in await asyncio.to_thread(self._engine.remind_idle_drafts, now):
            try:
                await self._bot.send_message(chat_id, reply.text, reply_markup=reply_markup(reply))
            except TelegramError as exc:
                log.warning("could not send a draft reminder: %s", exc.message)


def is_permanent(exc: TelegramError) -> bool:
    """True when sending the same message again cannot succeed: the bot was blocked or removed (403), the chat does
    not exist, the text or caption is too long, the file id is wrong, the markup is malformed."""
    if isinstance(exc, Forbidden):
        return True
    if isinstance(exc, BadRequest):
        return not any(words in exc.message.lower() for words in PASSING_BAD_REQUESTS)
    return False
