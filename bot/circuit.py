"""A circuit breaker around one NLU server: when it keeps timing out or failing, stop waiting for it.

Closed: every message asks the server, unless a request already waits longer than `slow_after` (Rasa answers in tens
of milliseconds; half a second means trouble): then the message does not queue behind it but fails at once (to the
next replica of a pool, or to the local classifier). After `failures_to_open` failures (timeouts, errors) in a row the
circuit opens: messages fail at once (NluUnavailable, no timeout to wait out) for `cool_down` seconds. Then one
health check runs in the background (no user waits for it): by default a parse of a probe text, or the given
`health_check` (a pool's replicas: Rasa's `/status`, then a parse). When it passes, the circuit closes again,
otherwise it stays open for another cool-down. Opening and closing are logged once each, naming the server.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.nlu.understanding import NluServer, NluUnavailable, Understanding

log = logging.getLogger(__name__)
PROBE_TEXT = "halo"


class NluCircuitBreaker:
    """Wraps an NluServer (a RasaClient) and is one itself: same `parse`, `is_ready`, `close`, `url`."""

    def __init__(self, inner: NluServer, failures_to_open: int = 2, cool_down: float = 15.0, slow_after: float = 0.5,
                 clock: Callable[[], float] = time.monotonic, health_check: Callable[[], bool] | None = None):
        self._inner = inner
        self._slow_after = slow_after
        self._in_flight: dict[int, float] = {}  # request number -> when it was sent
        self._requests = 0
        self._failures_to_open = failures_to_open
        self._cool_down = cool_down
        self._clock = clock
        self._health_check = health_check or self._answers_probe
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until: float | None = None
        self._probing = False
        self.url = inner.url

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def parse(self, text: str) -> Understanding:
        with self._lock:
            if self._open_until is not None:
                if self._clock() >= self._open_until and not self._probing:
                    self._probing = True
                    threading.Thread(target=self._probe, name="nlu-probe", daemon=True).start()
                raise NluUnavailable(f"{self.url}: circuit open, not asked until its health check passes")
            now = self._clock()
            if any(now - sent > self._slow_after for sent in self._in_flight.values()):
                raise NluUnavailable(f"{self.url}: slow, another request has waited too long; not queueing behind it")
            self._requests += 1
            request = self._requests
            self._in_flight[request] = now
        try:
            understanding = self._inner.parse(text)
        except NluUnavailable:
            self._failed()
            raise
        finally:
            with self._lock:
                self._in_flight.pop(request, None)
        with self._lock:
            self._failures = 0
        return understanding

    def _failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self._failures_to_open and self._open_until is None:
                self._open_until = self._clock() + self._cool_down
                log.warning("NLU server %s failed %d time(s) in a row: not asked for %.0f s, then health-checked",
                            self.url, self._failures, self._cool_down)

    def _answers_probe(self) -> bool:
        try:
            self._inner.parse(PROBE_TEXT)
        except NluUnavailable:
            return False
        return True

    def _probe(self) -> None:
        try:
            healthy = self._health_check()
        except Exception:  # noqa: BLE001 - a probe must never kill anything; treat as still failing
            log.exception("NLU health check of %s failed unexpectedly", self.url)
            healthy = False
        with self._lock:
            self._probing = False
            if not healthy:
                self._open_until = self._clock() + self._cool_down
                return
            self._open_until, self._failures = None, 0
        log.info("NLU server %s answers again: circuit closed", self.url)

    def is_ready(self) -> bool:
        return self._inner.is_ready()

    def close(self) -> None:
        self._inner.close()
