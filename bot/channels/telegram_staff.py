"""The task-force group: status buttons on report messages and `/laporan`.

The report service decides (ReportService.staff_press); this side only asks Telegram whether the presser is a member
of the task-force chat (getChatMember, remembered for a few minutes), answers the press and redraws the message.
"""
from __future__ import annotations

import asyncio
import logging
import time

from telegram import Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.app import App
from bot.channels.telegram_markup import inline_keyboard

log = logging.getLogger(__name__)
MEMBERSHIP_TTL_SECONDS = 300
MEMBER_STATUSES = ("creator", "administrator", "member")


class StaffDesk:
    def __init__(self, app: App):
        self._app = app
        self._members: dict[int, tuple[bool, float]] = {}

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        service = self._app.reports
        if service is None:
            await query.answer(self._app.content.current().render("button_expired"), show_alert=True)
            return
        is_member = not service.is_listed_staff(user.id) and await self._is_member(context, user.id)
        pressed = await asyncio.to_thread(service.staff_press, query.data or "", user.id, user.full_name, is_member)
        await query.answer(pressed.answer, show_alert=pressed.alert or None)
        if pressed.report is not None:
            await self._redraw(context, service, pressed.report, query.message.message_id if query.message else None)

    async def _redraw(self, context: ContextTypes.DEFAULT_TYPE, service, report, pressed: int | None) -> None:
        """Show the current status on the report's message (and on the reminder pressed, if that was one)."""
        text = await asyncio.to_thread(service.staff_text, report)
        markup = inline_keyboard(service.staff_buttons(report))
        for message_id in {report.staff_message_id, pressed} - {None}:
            try:
                await context.bot.edit_message_text(text, chat_id=service.taskforce_chat_id, message_id=message_id,
                                                    reply_markup=markup)
            except BadRequest as exc:
                if "not modified" not in exc.message.lower():
                    log.warning("could not update the staff message of report #%d: %s", report.id, exc.message)

    async def on_open_reports(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        service = self._app.reports
        if service is None:
            return
        text = await asyncio.to_thread(service.open_reports_text)
        await context.bot.send_message(update.effective_chat.id, text)

    async def _is_member(self, context: ContextTypes.DEFAULT_TYPE, user_id: int) -> bool:
        cached = self._members.get(user_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        try:
            member = await context.bot.get_chat_member(self._app.reports.taskforce_chat_id, user_id)
            is_member = member.status in MEMBER_STATUSES or bool(getattr(member, "is_member", False))
        except TelegramError as exc:
            log.info("membership check failed (%s); treating the user as not staff", exc.message)
            return False
        self._members[user_id] = (is_member, time.monotonic() + MEMBERSHIP_TTL_SECONDS)
        return is_member
