"""Telegram channel (python-telegram-bot 22): translate updates to engine messages and replies to Bot API calls."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.app import App, build_app
from bot.channels.telegram_delivery import DeliveryWorker
from bot.channels.telegram_inbox import MAX_CHATS_AT_ONCE, InboxProcessor
from bot.channels.telegram_markup import reply_markup
from bot.channels.telegram_serving import STOP_TIMEOUT, serve_updates, stop_on_signals, webhook_kwargs
from bot.channels.telegram_staff import StaffDesk
from bot.content import ContentStore
from bot.dialogue.engine import Engine
from bot.dialogue.messages import Incoming, Reply
from bot.settings import Settings
from bot.textformat import clean_input

log = logging.getLogger(__name__)
PRIVATE = filters.ChatType.PRIVATE
# The application as PTB builds it by default (its generic parameters say nothing this module relies on).
TelegramApp = Application[Any, Any, Any, Any, Any, Any]
# Attachment kinds the engine distinguishes, in the order they are checked on a message.
ATTACHMENT_FIELDS = ("sticker", "photo", "document", "voice", "audio", "video", "contact", "location")


def attachment_kind(message: Message) -> str:
    return next((field for field in ATTACHMENT_FIELDS if getattr(message, field)), "other")


def file_id_of(message: Message, kind: str) -> str | None:
    """The Telegram file id of a photo (its largest size), document, voice note, audio or video."""
    attached = getattr(message, kind, None) if kind in ATTACHMENT_FIELDS else None
    if isinstance(attached, tuple):  # a photo comes in several sizes, the largest last
        attached = attached[-1] if attached else None
    return getattr(attached, "file_id", None)


async def _send(context: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: list[Reply]) -> None:
    for reply in replies:
        await context.bot.send_message(chat_id, reply.text, reply_markup=reply_markup(reply))


def _engine(context: ContextTypes.DEFAULT_TYPE) -> Engine:
    engine: Engine = context.application.bot_data["engine"]
    return engine


def _content(context: ContextTypes.DEFAULT_TYPE) -> ContentStore:
    content: ContentStore = context.application.bot_data["content"]
    return content


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:  # the handler's filter lets only private messages in
        return
    chat_id, user_id = chat.id, user.id
    forwarded = message.forward_origin is not None  # PTB 22: set on every forwarded message
    if message.text is not None:
        # Cleaned here, before anything else sees it: lone surrogates, NUL and control characters dropped.
        incoming = Incoming(chat_id, user_id, text=clean_input(message.text), forwarded=forwarded,
                            update_id=update.update_id)
    else:
        kind = attachment_kind(message)
        phone = clean_input(message.contact.phone_number) if message.contact else None
        # A flyer's caption can be checked as an offer.
        caption = clean_input(message.caption) if kind == "photo" else None
        incoming = Incoming(chat_id, user_id, text=caption, attachment=kind, file_id=file_id_of(message, kind),
                            phone=phone, forwarded=forwarded, update_id=update.update_id)
    await _handle(context, incoming)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None or user is None:  # CallbackQueryHandler only passes updates with a query (and its sender)
        return
    staff: StaffDesk | None = context.application.bot_data["staff"]
    if chat is None or chat.type != "private":
        if staff is not None:
            await staff.on_button(update, context)
        else:  # reports are off here: a report message's button from an old group, or forged data
            await query.answer(_content(context).current().render("button_expired"), show_alert=True)
        return
    await query.answer()
    incoming = Incoming(chat.id, user.id, press=clean_input(query.data or ""), update_id=update.update_id)
    await _handle(context, incoming)


async def _handle(context: ContextTypes.DEFAULT_TYPE, incoming: Incoming) -> None:
    turn = await asyncio.to_thread(_engine(context).handle, incoming)
    await _send(context, incoming.chat_id, turn.replies)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (no message text: it may be personal) and tell the user what to do (in private chats
    only: never post into a group a press or message came from)."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None and update.effective_chat.type == "private":
        content = _content(context).current()
        try:
            await context.bot.send_message(update.effective_chat.id, content.render("error"))
        except Exception:  # noqa: BLE001 - the error handler must never raise
            log.exception("could not tell chat about the error")


async def _post_init(application: TelegramApp) -> None:
    content = _content_of(application).current()
    await application.bot.set_my_commands([BotCommand(name, text) for name, text in content.commands.items()])
    taskforce_chat_id: int | None = application.bot_data["taskforce_chat_id"]
    if taskforce_chat_id is not None:
        try:
            await application.bot.set_my_commands(
                [BotCommand(name, text) for name, text in content.staff_commands.items()],
                scope=BotCommandScopeChat(taskforce_chat_id),
            )
        except TelegramError as exc:  # e.g. the bot is not (yet) in the group: reports still queue
            log.warning("could not set the task-force group's command menu: %s", exc.message)
    worker: DeliveryWorker = application.bot_data["delivery"]
    application.bot_data["delivery_task"] = asyncio.create_task(worker.run(), name="delivery")


def _content_of(application: TelegramApp) -> ContentStore:
    content: ContentStore = application.bot_data["content"]
    return content


async def _post_stop(application: TelegramApp) -> None:
    task = application.bot_data.get("delivery_task")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def build_application(settings: Settings, app: App) -> TelegramApp:
    if not settings.telegram_bot_token:
        raise SystemExit("Error: TELEGRAM_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .updater(None)  # updates come in through the inbox (bot/channels/telegram_serving.py)
    )
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    application = builder.build()
    application.add_handler(CallbackQueryHandler(on_button))
    staff = None
    if app.reports is not None:
        staff = StaffDesk(app.reports, app.content, app.insights, settings.taskforce_admins_only)
        # Any group: the desk answers only in the task-force chat (whose id changes when it becomes a supergroup).
        application.add_handler(CommandHandler("laporan", staff.on_open_reports, filters=filters.ChatType.GROUPS))
        application.add_handler(CommandHandler("statistik", staff.on_statistics,
                                               filters=filters.Chat(app.reports.taskforce_chat_id)))
    # The handlers' services, by name: the engine for users, the desk for the task force, the outbox worker.
    application.bot_data.update(
        engine=app.engine, content=app.content, staff=staff,
        taskforce_chat_id=app.reports.taskforce_chat_id if app.reports else None,
        delivery=DeliveryWorker(application.bot, app.engine, app.reports, app.chat_states,
                                settings.chat_state_retention_days, app.delivery_lead),
    )
    application.add_handler(MessageHandler(PRIVATE & ~filters.UpdateType.EDITED, on_message))
    application.add_error_handler(on_error)
    return application


def serve(settings: Settings) -> int:
    """Serve Telegram until SIGINT/SIGTERM: long polling, or a webhook when TELEGRAM_WEBHOOK_URL is set."""
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        # Several webhook workers must share one secret (TELEGRAM_WEBHOOK_SECRET); a lone one may invent it.
        settings = replace(settings, telegram_webhook_secret=secrets.token_urlsafe(32))
    with build_app(settings, count_insights=True, limit_chats=True) as app:
        asyncio.run(_serve(settings, app))
    return 0


async def _serve(settings: Settings, app: App) -> None:
    # Turns run in threads (the engine is synchronous) and may wait for NLU or a chat's row lock; storing updates,
    # claims and /healthz also use threads: enough for all chats at once plus those, whatever the core count.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(MAX_CHATS_AT_ONCE + 8, "turn"))
    application = build_application(settings, app)
    processor = InboxProcessor(app.inbox, application.bot, application.process_update)
    stopping = asyncio.Event()
    stop_on_signals(stopping)
    async with application:  # initialize and, on the way out, shut down PTB's bot and HTTP client
        await _post_init(application)
        sweep = asyncio.create_task(processor.sweep(), name="inbox-sweep")
        webhook = settings.telegram_webhook_url is not None and settings.telegram_webhook_secret is not None
        if webhook:
            await application.bot.set_webhook(**webhook_kwargs(settings, settings.telegram_webhook_secret or ""))
            log.info("serving Telegram by webhook at %s (NLU: %s)", settings.telegram_webhook_url, app.nlu_mode)
        else:
            await application.bot.delete_webhook()
            log.info("serving Telegram by long polling (NLU: %s)", app.nlu_mode)
        await serve_updates(settings, processor, webhook, stopping)
        await processor.drain(STOP_TIMEOUT)
        sweep.cancel()
        await asyncio.gather(sweep, return_exceptions=True)
        await _post_stop(application)
    log.info("stopped")
