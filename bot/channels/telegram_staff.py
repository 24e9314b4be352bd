"""The task-force group: status buttons on report messages and `/laporan`.

Only staff may change a status: users in STAFF_USER_IDS, or members of the task-force chat (asked with
getChatMember and remembered for a few minutes).
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
from bot.dialogue import actions
from bot.reports.service import STAFF_ACTION, parse_staff_action

log = logging.getLogger(__name__)
MEMBERSHIP_TTL_SECONDS = 300
MEMBER_STATUSES = ("creator", "administrator", "member")


class StaffDesk:
    def __init__(self, app: App):
        self._app = app
        self._members: dict[int, tuple[bool, float]] = {}

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        content = self._app.content.current()
        service = self._app.reports
        action = actions.parse(query.data or "")
        is_staff_action = action is not None and action.kind == STAFF_ACTION and service is not None
        parsed = parse_staff_action(action.arg) if is_staff_action else None
        if parsed is None:
            await query.answer(content.render("button_expired"), show_alert=True)
            return
        if not await self._is_staff(context, user.id):
            log.info("status button pressed by a non-staff user; nothing changed")
            await query.answer(content.render("staff_not_staff"), show_alert=True)
            return
        report_id, to_status = parsed
        change = await asyncio.to_thread(service.change_status, report_id, to_status, user.id, user.full_name)
        report = await asyncio.to_thread(service.repository.get, report_id)
        if report is None:
            await query.answer(content.render("staff_report_unknown"), show_alert=True)
            return
        label = content.report_options["statuses"][report.status]
        await query.answer(content.render("staff_status_same" if change is None else "staff_status_changed",
                                          status=label))
        if change is not None:
            context.application.bot_data["delivery"].wake()
        text = await asyncio.to_thread(service.staff_text, report)
        markup = inline_keyboard(service.staff_buttons(report))
        pressed = query.message.message_id if query.message else None
        for message_id in {report.staff_message_id, pressed} - {None}:
            try:
                await context.bot.edit_message_text(text, chat_id=service.taskforce_chat_id, message_id=message_id,
                                                    reply_markup=markup)
            except BadRequest as exc:
                if "not modified" not in exc.message.lower():
                    log.warning("could not update the staff message of report #%d: %s", report_id, exc.message)

    async def on_open_reports(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        service = self._app.reports
        if service is None:
            return
        text = await asyncio.to_thread(service.open_reports_text)
        await context.bot.send_message(update.effective_chat.id, text)

    async def _is_staff(self, context: ContextTypes.DEFAULT_TYPE, user_id: int) -> bool:
        if user_id in self._app.settings.staff_user_ids:
            return True
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
