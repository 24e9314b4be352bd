"""Telegram channel (python-telegram-bot 22): translate updates to engine messages and replies to Bot API calls."""
from __future__ import annotations

import asyncio
import logging
import secrets

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes, Defaults
from telegram.ext import MessageHandler, filters

from bot.app import App, build_app
from bot.dialogue.engine import Engine
from bot.dialogue.messages import Incoming, Reply
from bot.settings import Settings

log = logging.getLogger(__name__)
PRIVATE = filters.ChatType.PRIVATE
# Attachment kinds the engine distinguishes, in the order they are checked on a message.
ATTACHMENT_FIELDS = ("sticker", "photo", "document", "voice", "audio", "video", "contact", "location")


def attachment_kind(message: Message) -> str:
    return next((field for field in ATTACHMENT_FIELDS if getattr(message, field)), "other")


def reply_markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data)] for b in reply.buttons])


async def _send(context: ContextTypes.DEFAULT_TYPE, chat_id: int, replies: list[Reply]) -> None:
    for reply in replies:
        await context.bot.send_message(chat_id, reply.text, reply_markup=reply_markup(reply))


def _engine(context: ContextTypes.DEFAULT_TYPE) -> Engine:
    return context.application.bot_data["app"].engine


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    chat_id, user_id = update.effective_chat.id, update.effective_user.id
    if message.text is not None:
        incoming = Incoming(chat_id, user_id, text=message.text)
    else:
        incoming = Incoming(chat_id, user_id, attachment=attachment_kind(message))
    turn = await asyncio.to_thread(_engine(context).handle, incoming)
    await _send(context, chat_id, turn.replies)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()
    chat_id = update.effective_chat.id
    incoming = Incoming(chat_id, update.effective_user.id, press=query.data or "")
    turn = await asyncio.to_thread(_engine(context).handle, incoming)
    await _send(context, chat_id, turn.replies)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (no message text: it may be personal) and tell the user what to do."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        content = context.application.bot_data["app"].content.current()
        try:
            await context.bot.send_message(update.effective_chat.id, content.render("error"))
        except Exception:  # noqa: BLE001 - the error handler must never raise
            log.exception("could not tell chat about the error")


async def _post_init(application: Application) -> None:
    commands = application.bot_data["app"].content.current().commands
    await application.bot.set_my_commands([BotCommand(name, text) for name, text in commands.items()])


def build_application(settings: Settings, app: App) -> Application:
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(_post_init)
    )
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    application = builder.build()
    application.bot_data["app"] = app
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(PRIVATE & ~filters.UpdateType.EDITED, on_message))
    application.add_error_handler(on_error)
    return application


def serve(settings: Settings) -> int:
    """Serve Telegram until SIGINT/SIGTERM: long polling, or a webhook when TELEGRAM_WEBHOOK_URL is set."""
    with build_app(settings) as app:
        application = build_application(settings, app)
        updates = [Update.MESSAGE, Update.CALLBACK_QUERY]
        if settings.telegram_webhook_url:
            # Several webhook workers must share one secret (TELEGRAM_WEBHOOK_SECRET); a lone one may invent it.
            secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
            log.info("serving Telegram by webhook at %s", settings.telegram_webhook_url)
            application.run_webhook(
                listen=settings.telegram_webhook_listen,
                port=settings.telegram_webhook_port,
                url_path="telegram",
                webhook_url=f"{settings.telegram_webhook_url}/telegram",
                secret_token=secret,
                allowed_updates=updates,
            )
        else:
            log.info("serving Telegram by long polling (NLU: %s)", app.nlu_mode)
            application.run_polling(allowed_updates=updates)
    return 0
