"""Serving Telegram: updates in by webhook (several workers behind a proxy) or long polling, always through the
inbox (bot/channels/telegram_inbox.py), and a graceful stop on SIGTERM/SIGINT.

Webhook: POST /telegram stores the update and only then answers 200 (a worker killed before that never
acknowledged it, so Telegram sends it again, to a worker that is alive); a wrong secret gets 403, something that is
not an update 400, and 503 when the database cannot store it (Telegram sends it again later). GET /healthz
answers 200 while the worker can store updates (the database answers) and 503 once it is stopping, so the proxy
sends new updates to the others. Polling: an update is stored before the next getUpdates moves the offset past it
(with the database away, polling waits and fetches it again).
Stopping: no new updates are taken, the chats being handled finish their current update (at most `STOP_TIMEOUT`),
their other updates go back to the inbox for the other workers, then the outbox worker stops.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from typing import Any

import tornado.httpserver
import tornado.web
from telegram import Update
from telegram.error import NetworkError, TelegramError

from bot.channels.telegram_inbox import InboxProcessor, NotStored
from bot.settings import Settings

log = logging.getLogger(__name__)
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
POLL_TIMEOUT = 30  # seconds a getUpdates call waits for updates
STOP_TIMEOUT = 20.0  # seconds in-flight turns get to finish (systemd's TimeoutStopSec must be longer)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1_000_000
NOT_STORED_PAUSE = 2.0  # seconds before polling again while the database cannot store updates


class WebhookHandler(tornado.web.RequestHandler):
    def initialize(self, inbox: InboxProcessor, secret: str) -> None:
        self._inbox = inbox
        self._secret = secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            self.set_status(403)
            return
        try:
            payload = json.loads(self.request.body)
            int(payload["update_id"])
            Update.de_json(payload, self._inbox.bot)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):  # not an update Telegram sends
            self.set_status(400)
            return
        try:
            await self._inbox.accept(payload)
        except NotStored:  # the database is away: Telegram sends it again later
            self.set_status(503)
            return
        except Exception:  # noqa: BLE001 - an update this bot cannot take will not get better: never block the rest
            log.exception("update %s could not be taken; skipped", payload.get("update_id"))
        self.set_status(200)


class HealthHandler(tornado.web.RequestHandler):
    def initialize(self, inbox: InboxProcessor) -> None:
        self._inbox = inbox

    async def get(self) -> None:
        ready = await self._inbox.ready()
        self.set_status(200 if ready else 503)
        self.set_header("Content-Type", "text/plain")
        self.finish("ok\n" if ready else "unavailable\n")


async def serve_updates(settings: Settings, processor: InboxProcessor, start_webhook: bool,
                        stopping: asyncio.Event) -> None:
    """Take updates until `stopping` is set, then stop taking them (the caller drains the processor)."""
    if start_webhook:
        secret = settings.telegram_webhook_secret
        assert secret is not None  # serve() makes one up for a lone worker
        web = tornado.web.Application([
            (r"/telegram", WebhookHandler, {"inbox": processor, "secret": secret}),
            (r"/healthz", HealthHandler, {"inbox": processor}),
        ])
        server = tornado.httpserver.HTTPServer(web, max_body_size=MAX_UPDATE_BYTES)
        server.listen(settings.telegram_webhook_port, address=settings.telegram_webhook_listen)
        log.info("taking webhook updates on %s:%d", settings.telegram_webhook_listen, settings.telegram_webhook_port)
        await stopping.wait()
        server.stop()
        return
    poller = asyncio.create_task(_poll(processor), name="polling")
    await stopping.wait()
    poller.cancel()
    await asyncio.gather(poller, return_exceptions=True)


async def _poll(processor: InboxProcessor) -> None:
    bot = processor.bot
    offset: int | None = None
    while True:
        try:
            batch = await bot.get_updates(offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES)
        except NetworkError as exc:  # includes timeouts: Telegram or the network away for a moment
            log.warning("getUpdates failed (%s); trying again", exc.message)
            await asyncio.sleep(1.0)
            continue
        except TelegramError as exc:
            log.error("getUpdates refused (%s); trying again in 5 s", exc.message)
            await asyncio.sleep(5.0)
            continue
        for update in batch:  # each stored before the next call acknowledges it
            try:
                await processor.accept(update.to_dict())
            except NotStored:
                await asyncio.sleep(NOT_STORED_PAUSE)  # the database is away: fetch from this update again
                break
            except Exception:  # noqa: BLE001 - an update this bot cannot take will not get better: skip it
                log.exception("update %d could not be taken; skipped", update.update_id)
            offset = update.update_id + 1


def stop_on_signals(stopping: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _stop, sig, stopping)


def _stop(sig: signal.Signals, stopping: asyncio.Event) -> None:
    if not stopping.is_set():
        log.info("%s: finishing the updates being handled, then stopping", sig.name)
    stopping.set()


def webhook_kwargs(settings: Settings, secret: str) -> dict[str, Any]:
    assert settings.telegram_webhook_url is not None
    return {"url": f"{settings.telegram_webhook_url}/telegram", "secret_token": secret,
            "allowed_updates": ALLOWED_UPDATES}
