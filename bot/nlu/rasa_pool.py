"""Several Rasa servers (`RASA_URL=http://a:5005,http://b:5005`) behind one NluServer.

Messages go round-robin to the replicas that are up. Each replica sits behind its own NluCircuitBreaker
(bot/circuit.py) that opens at its first timeout or error: the same message is retried at once on the next replica,
and the pool skips the failed one without waiting until, every REPLICA_COOL_DOWN seconds, a background health check
lets it back in: Rasa's `/status` with the token says a model is loaded, and a first parse answers (on a server
just restarted it takes some hundreds of milliseconds; the health check pays for it, not a user). A message tries
each replica at most once, and no retry starts later than RETRY_WINDOW x RASA_TIMEOUT after the message arrived, so
a user waits about one timeout plus one retry at worst. Only when no replica answers does NluUnavailable reach the
engine, which then answers with the local classifier.
"""
from __future__ import annotations

import functools
import threading
import time
from collections.abc import Sequence

from bot.circuit import PROBE_TEXT, NluCircuitBreaker
from bot.nlu.rasa_client import RasaClient
from bot.nlu.understanding import NluServer, NluUnavailable, Understanding

REPLICA_COOL_DOWN = 5.0  # seconds a failed replica is skipped before its (background) health check
# After a first replica's full timeout (1 x RASA_TIMEOUT) there is time to start one more attempt, not two.
RETRY_WINDOW = 1.5


def remote_nlu(urls: Sequence[str], auth_token: str, timeout: float) -> NluServer:
    """The Rasa server(s) at `urls`: one behind a circuit breaker (as always), several as a failover pool."""
    clients = [RasaClient(url, auth_token, timeout) for url in urls]
    if len(clients) == 1:
        return NluCircuitBreaker(clients[0])
    return RasaPool(clients, timeout)


class RasaPool:
    """Round-robin with failover over several NluServers (RasaClients); is an NluServer itself."""

    def __init__(self, replicas: Sequence[NluServer], timeout: float):
        if not replicas:
            raise ValueError("a pool needs at least one server")
        self._replicas = [
            NluCircuitBreaker(replica, failures_to_open=1, cool_down=REPLICA_COOL_DOWN,
                              health_check=functools.partial(_healthy, replica))
            for replica in replicas
        ]
        self._retry_window = RETRY_WINDOW * timeout
        self._lock = threading.Lock()
        self._next = 0
        self.url = ",".join(replica.url for replica in replicas)

    def parse(self, text: str) -> Understanding:
        started = time.monotonic()
        with self._lock:
            first = self._next
            self._next = (self._next + 1) % len(self._replicas)
        failures: list[str] = []
        for offset in range(len(self._replicas)):
            if offset and time.monotonic() - started >= self._retry_window:
                failures.append("no time left to ask the others")
                break
            try:
                return self._replicas[(first + offset) % len(self._replicas)].parse(text)
            except NluUnavailable as exc:
                failures.append(str(exc))
        raise NluUnavailable("no Rasa server answered: " + "; ".join(failures))

    def is_ready(self) -> bool:
        """True when at least one replica answers with a loaded model."""
        return any(replica.is_ready() for replica in self._replicas)

    def close(self) -> None:
        for replica in self._replicas:
            replica.close()


def _healthy(replica: NluServer) -> bool:
    """A model is loaded and answers (the first parse also warms a freshly started server up)."""
    if not replica.is_ready():
        return False
    try:
        replica.parse(PROBE_TEXT)
    except NluUnavailable:
        return False
    return True
