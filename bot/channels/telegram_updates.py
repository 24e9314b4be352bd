"""Updates for different chats handled concurrently, each chat's updates strictly in the order they came.

python-telegram-bot hands every update to `do_process_update` as its own task, in update order, under a semaphore
of `max_concurrent_updates`. The first update of a chat keeps its task (and its slot) and works through the
chat's queue; later updates of the same chat only join that queue and return at once, so a chat sending a flood
holds one slot, not all of them, and another chat's message is never stuck behind it.
"""
from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


def chat_key(update: object) -> int | None:
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64):
        super().__init__(max_concurrent_updates)
        self._queues: dict[int, deque[Awaitable[Any]]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        queue = self._queues.get(key)
        if queue is not None:  # this chat's task is busy: it takes this update when the earlier ones are done
            queue.append(coroutine)
            return
        queue = self._queues[key] = deque([coroutine])
        try:
            while queue:
                next_update = queue.popleft()
                try:
                    await next_update
                except Exception:  # noqa: BLE001 - PTB's own error handling ran already; keep the chat's queue going
                    log.exception("an update of a chat failed outside the handlers")
        finally:
            del self._queues[key]
            for left in queue:  # only on cancellation (shutdown): close them so nothing warns "never awaited"
                getattr(left, "close", lambda: None)()

    def pending(self, key: int) -> int:
        queue = self._queues.get(key)
        return len(queue) if queue else 0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
