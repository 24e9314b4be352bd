"""The NLU circuit breaker: stop waiting for a failing Rasa, probe it in the background, close when it answers."""
import time

import pytest

from bot.circuit import NluCircuitBreaker
from bot.nlu.understanding import NluUnavailable, Understanding
from tests.conftest import wait_until


class FlakyRasa:
    url = "http://rasa"

    def __init__(self):
        self.down = True
        self.calls = 0

    def parse(self, text):
        self.calls += 1
        if self.down:
            time.sleep(0.05)  # a timeout, shortened
            raise NluUnavailable("timed out")
        return Understanding("greet", 0.99, (("greet", 0.99),))


def test_after_repeated_failures_messages_no_longer_wait_then_a_probe_closes_it():
    now = [0.0]
    rasa = FlakyRasa()
    breaker = NluCircuitBreaker(rasa, failures_to_open=3, cool_down=10, clock=lambda: now[0])
    for _ in range(3):
        with pytest.raises(NluUnavailable):
            breaker.parse("halo")
    assert breaker.is_open and rasa.calls == 3
    started = time.monotonic()
    for _ in range(20):  # open: answered at once, Rasa not asked
        with pytest.raises(NluUnavailable):
            breaker.parse("halo")
    assert time.monotonic() - started < 0.05 and rasa.calls == 3
    rasa.down = False
    now[0] = 11  # cool-down over: the next message starts a background probe and is not held up by it
    with pytest.raises(NluUnavailable):
        breaker.parse("halo")
    wait_until(lambda: not breaker.is_open, timeout=5)
    assert breaker.parse("halo").intent == "greet"


def test_a_failed_probe_keeps_it_open_for_another_cool_down():
    now = [0.0]
    rasa = FlakyRasa()
    breaker = NluCircuitBreaker(rasa, failures_to_open=1, cool_down=10, clock=lambda: now[0])
    with pytest.raises(NluUnavailable):
        breaker.parse("halo")
    now[0] = 10
    with pytest.raises(NluUnavailable):
        breaker.parse("halo")
    wait_until(lambda: rasa.calls == 2, timeout=5)
    time.sleep(0.1)
    assert breaker.is_open
    now[0] = 15  # within the new cool-down: no probe
    with pytest.raises(NluUnavailable):
        breaker.parse("halo")
    time.sleep(0.1)
    assert rasa.calls == 2


def test_while_a_request_hangs_new_messages_do_not_queue_behind_it():
    import threading

    rasa = FlakyRasa()
    release = threading.Event()
    rasa.parse = lambda text: (release.wait(5), Understanding("greet", 0.9, (("greet", 0.9),)))[1]
    breaker = NluCircuitBreaker(rasa, slow_after=0.1)
    hanging = threading.Thread(target=breaker.parse, args=("halo",))
    hanging.start()
    time.sleep(0.2)
    started = time.monotonic()
    with pytest.raises(NluUnavailable):
        breaker.parse("halo")  # answered by the fallback at once, not after the hanging request
    assert time.monotonic() - started < 0.05
    release.set()
    hanging.join()
    assert breaker.parse("halo").intent == "greet"
