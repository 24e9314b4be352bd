"""The task-force group: status buttons on report messages, `/laporan` and `/statistik`.

The report service decides (ReportService.staff_press); this side only asks Telegram about the presser's place in
the task-force chat (getChatMember, remembered for at most a minute), answers the press and redraws the report's
messages. Presses count only in the task-force chat itself; with TASKFORCE_ADMINS_ONLY (the default) only the
group's administrators (and STAFF_USER_IDS) may change a status, otherwise any member may.
"""
from __future__ import annotations

import asyncio
import logging
import time

from telegram import Bot, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.channels.telegram_markup import inline_keyboard
from bot.content import ContentStore
from bot.insights.charts import Chart
from bot.reports.service import ReportService
from db.insights import InsightRepository
from db.models import Report

log = logging.getLogger(__name__)
MEMBERSHIP_TTL_SECONDS = 60  # a member removed from the group loses the right within this time
MEMBER_STATUSES = ("creator", "administrator", "member")
ADMIN_STATUSES = ("creator", "administrator")


class StaffDesk:
    """Exists only where reports are switched on (a task-force chat is configured)."""

    def __init__(self, reports: ReportService, content: ContentStore, insights: InsightRepository,
                 admins_only: bool = True):
        self._reports = reports
        self._content = content
        self._insights = insights
        self._admins_only = admins_only
        self._members: dict[int, tuple[str | None, float]] = {}  # user id -> (status in the group, valid until)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user, chat = update.callback_query, update.effective_user, update.effective_chat
        if query is None or user is None:  # the button handler passes only updates with a query and its sender
            return
        service = self._reports
        content = self._content.current()
        if chat is None or chat.id != service.taskforce_chat_id:
            # A report message forwarded or copied to another group, or forged data: nothing changes there.
            log.info("status button pressed outside the task-force chat; ignored")
            await query.answer(content.render("button_expired"), show_alert=True)
            return
        listed = service.is_listed_staff(user.id)
        status = None if listed else await self._status(context, user.id)
        allowed = listed or status in (ADMIN_STATUSES if self._admins_only else MEMBER_STATUSES)
        if not allowed and status in MEMBER_STATUSES and service.parse_press(query.data or "") is not None:
            await query.answer(content.render("staff_admins_only"), show_alert=True)
            return
        pressed = await asyncio.to_thread(service.staff_press, query.data or "", user.id, user.full_name, allowed)
        await query.answer(pressed.answer, show_alert=pressed.alert or None)
        if pressed.report is not None:
            await self._redraw(context, service, pressed.report)

    async def _redraw(self, context: ContextTypes.DEFAULT_TYPE, service: ReportService, report: Report) -> None:
        """Show the current status on every message the group has of this report (the report and its reminders),
        found from the report, never from the message pressed (which could be any message with forged data)."""
        text = await asyncio.to_thread(service.staff_text, report)
        markup = inline_keyboard(service.staff_buttons(report))
        for message_id in await asyncio.to_thread(service.staff_message_ids, report):
            try:
                await context.bot.edit_message_text(text, chat_id=service.taskforce_chat_id, message_id=message_id,
                                                    reply_markup=markup)
            except BadRequest as exc:
                if "not modified" not in exc.message.lower():
                    log.warning("could not update a staff message of report #%d: %s", report.id, exc.message)
            except TelegramError as exc:
                log.warning("could not update a staff message of report #%d: %s", report.id, exc.message)

    async def on_open_reports(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        service = self._reports
        if update.effective_chat is None or update.effective_chat.id != service.taskforce_chat_id:
            return
        for page in await asyncio.to_thread(service.open_reports_pages):
            await context.bot.send_message(update.effective_chat.id, page)

    async def on_statistics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/statistik [days]` in the group: the anonymous summary and its charts (counts under 5 as "< 5")."""
        from bot.insights.publish import DEFAULT_DAYS, last_days, period_summary, summary_text

        chat = update.effective_chat
        if chat is None or chat.id != self._reports.taskforce_chat_id:
            return
        argument = (context.args or [""])[0]
        days = int(argument) if argument.isdigit() and 1 <= int(argument) <= 366 else DEFAULT_DAYS
        content = self._content.current()
        summary, charts = await asyncio.to_thread(period_summary, self._insights, content, *last_days(days))
        await send_statistics(context.bot, chat.id, summary_text(content, summary), charts)

    async def _status(self, context: ContextTypes.DEFAULT_TYPE, user_id: int) -> str | None:
        """The user's status in the task-force chat ("administrator", "member", "left", ...), None when unknown."""
        cached = self._members.get(user_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        try:
            member = await context.bot.get_chat_member(self._reports.taskforce_chat_id, user_id)
        except TelegramError as exc:
            log.info("membership check failed (%s); treating the user as not staff", exc.message)
            return None
        status = str(member.status)
        if status == "restricted":  # a restricted user may still be a member, but never an admin
            status = "member" if getattr(member, "is_member", False) else "left"
        self._members[user_id] = (status, time.monotonic() + MEMBERSHIP_TTL_SECONDS)
        return status


async def send_statistics(bot: Bot, chat_id: int, text: str, charts: list[Chart]) -> None:
    """The insights summary (Telegram HTML), then its charts as one album (at most 10 pictures)."""
    from telegram import InputMediaPhoto
    from telegram.constants import ParseMode

    await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
    if charts:
        await bot.send_media_group(chat_id, [InputMediaPhoto(chart.png, caption=chart.title) for chart in charts[:10]])


def post_statistics(token: str, chat_id: int, base: str | None, text: str, charts: list[Chart]) -> None:
    """Post a summary to the task-force group outside the running bot (`bot insights post`, e.g. monthly by cron);
    `base`: the Bot API's address when it is not Telegram's."""

    async def post() -> None:
        bot = Bot(token, base_url=f"{base}/bot") if base else Bot(token)
        async with bot:
            await send_statistics(bot, chat_id, text, charts)

    asyncio.run(post())
