"""Per-chat message limit: one chat cannot take the bot's time from everyone else.

A sliding window per chat (in memory: a restart forgets it, which only lets a flood start over). Over the limit,
the chat gets one polite notice per window and the rest of its messages are dropped unanswered until it slows down.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class ChatRateLimiter:
    def __init__(self, per_minute: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 max_chats: int = 100_000):
        self.per_minute = per_minute
        self._window = window
        self._clock = clock
        self._max_chats = max_chats
        self._seen: dict[int, deque[float]] = {}
        self._noticed: dict[int, float] = {}  # chat -> when the notice was given (once per window)
        self._lock = threading.Lock()

    def check(self, chat_id: int) -> str:
        """"ok" (handle it), "notice" (over the limit: say so once), or "drop" (over the limit, already told)."""
        if self.per_minute <= 0:
            return "ok"
        now = self._clock()
        with self._lock:
            seen = self._seen.get(chat_id)
            if seen is None:
                if len(self._seen) >= self._max_chats:
                    self._forget_idle(now)
                seen = self._seen[chat_id] = deque()
            while seen and seen[0] <= now - self._window:
                seen.popleft()
            if len(seen) < self.per_minute:
                seen.append(now)
                return "ok"
            noticed = self._noticed.get(chat_id)
            if noticed is not None and noticed > now - self._window:
                return "drop"
            self._noticed[chat_id] = now
            return "notice"

    def wait_seconds(self, chat_id: int) -> int:
        with self._lock:
            seen = self._seen.get(chat_id)
            if not seen:
                return 0
            return max(1, int(seen[0] + self._window - self._clock()) + 1)

    def _forget_idle(self, now: float) -> None:
        for chat_id in [c for c, seen in self._seen.items() if not seen or seen[-1] <= now - self._window]:
            self._seen.pop(chat_id, None)
            self._noticed.pop(chat_id, None)
