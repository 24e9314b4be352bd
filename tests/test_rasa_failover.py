"""Several Rasa servers in RASA_URL: failover to the next replica at once, the local classifier only when none
answers, a recovered replica back after its health check. Two real Rasa servers, killed with SIGKILL."""
from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.nlu.rasa_pool import RETRY_WINDOW
from bot.nlu.rasa_server import ManagedRasa
from bot.nlu.understanding import Matcher
from tests.conftest import RASA_TEST_TOKEN, free_port, settings_for, wait_until
from tests.helpers import say, text_of
from tests.test_telegram_safety_e2e import FrozenRasa

TEXTS = (
    "syarat jd tkw ke malaysia apa sj kk",
    "berkas apa aja yg hrs disiapin buat daftar",
    "halo kak",
    "makasih banyak kak",
    "bagaimana cara cek perusahaan",
    "gaji di taiwan berapa",
)
HEDGED = "sedang terbatas"  # what a FAQ answer from the local classifier says


def closed_ports(count: int) -> list[int]:
    """Distinct free ports: nothing listens there (yet)."""
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


class Replicas:
    """Two real Rasa servers on fixed ports. Each is a ManagedRasa: its supervisor restarts it after a SIGKILL, as
    systemd would restart a production replica; `kill(..., keep_down=True)` stops the supervisor too."""

    def __init__(self, model: Path, var_dir: Path):
        self._model, self._var_dir = model, var_dir
        self.ports = closed_ports(2)
        self.servers = [self._start(port) for port in self.ports]
        self._kept_down: set[int] = set()
        self.urls = [server.url for server in self.servers]

    def _start(self, port: int) -> ManagedRasa:
        server = ManagedRasa(self._model, port, RASA_TEST_TOKEN, self._var_dir / str(port))
        server.start()
        return server

    def all_up(self) -> None:
        """Both servers answering (a server kept down is replaced), whatever an earlier test did to them."""
        for index in sorted(self._kept_down):
            self.servers[index] = self._start(self.ports[index])
        self._kept_down.clear()
        for server in self.servers:
            assert server.wait_ready(240), f"the Rasa server at {server.url} did not become ready in 240 s"

    def kill(self, index: int, keep_down: bool = False) -> None:
        process = self.servers[index]._process
        assert process is not None
        process.send_signal(signal.SIGKILL)
        process.wait()
        if keep_down:
            self.servers[index].stop()  # before its supervisor's restart back-off (2 s) is over: it stays down
            self._kept_down.add(index)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture(scope="module")
def replicas(nlu_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    started = Replicas(nlu_model, tmp_path_factory.mktemp("rasa-replicas"))
    try:
        started.all_up()
        yield started
    finally:
        started.stop()


@contextlib.contextmanager
def pool_app(sqlite_url: str, urls: list[str], timeout: float = 2.0) -> Iterator[App]:
    settings = settings_for(database_url=sqlite_url, rasa_url=",".join(urls), rasa_auth_token=RASA_TEST_TOKEN,
                            rasa_timeout=str(timeout))
    with build_app(settings) as app:
        yield app


def sources(app: App, texts: tuple[str, ...]) -> list[Matcher]:
    """What understood each message, sent one after another through the app's NLU (the one its engine uses)."""
    return [app.nlu.understand(text).source for text in texts]


def down_logs(caplog: pytest.LogCaptureFixture, url: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if url in r.getMessage() and "failed" in r.getMessage()]


def test_with_one_replica_killed_every_message_is_still_understood_by_rasa(replicas, sqlite_url, caplog):
    caplog.set_level(logging.WARNING, logger="bot.circuit")
    replicas.all_up()
    with pool_app(sqlite_url, replicas.urls) as app:
        assert sources(app, TEXTS) == [Matcher.RASA] * len(TEXTS)  # both serve
        replicas.kill(0)
        started = time.monotonic()
        after_kill = sources(app, TEXTS * 5)
        took = time.monotonic() - started
        turn = say(app, "syarat jadi PMI apa aja?")
    assert after_kill == [Matcher.RASA] * len(after_kill)  # none by the local classifier
    assert took < 10, took  # no timeouts waited out: a killed server refuses at once
    assert HEDGED not in text_of(turn) and "minimal 18 tahun" in text_of(turn)
    assert len(down_logs(caplog, replicas.urls[0])) == 1  # logged once, not once per message
    assert not down_logs(caplog, replicas.urls[1])


def test_with_every_replica_down_the_fallback_answers_until_one_is_back(replicas, sqlite_url, caplog):
    caplog.set_level(logging.INFO, logger="bot.circuit")
    replicas.all_up()
    with pool_app(sqlite_url, replicas.urls) as app:
        replicas.kill(0)  # its supervisor restarts it: ready again in about 30 s
        replicas.kill(1, keep_down=True)
        started = time.monotonic()
        assert sources(app, TEXTS) == [Matcher.FALLBACK] * len(TEXTS)
        assert time.monotonic() - started < 5  # no waiting: refused at once, then skipped
        assert HEDGED in text_of(say(app, "syarat jadi PMI apa aja?"))
        # Messages keep coming; the first after the health check passes is understood by Rasa again.
        wait_until(lambda: app.nlu.understand("halo kak").source == Matcher.RASA, timeout=240, interval=0.5)
        assert sources(app, TEXTS * 3) == [Matcher.RASA] * len(TEXTS) * 3
        assert HEDGED not in text_of(say(app, "syarat jadi PMI apa aja?"))
    back = [r.getMessage() for r in caplog.records if "answers again" in r.getMessage()]
    assert back == [f"NLU server {replicas.urls[0]} answers again: circuit closed"]


def test_a_dead_url_in_the_list_costs_one_fast_failure(replicas, sqlite_url, caplog):
    caplog.set_level(logging.WARNING, logger="bot.circuit")
    replicas.all_up()
    dead = f"http://127.0.0.1:{free_port()}"
    with pool_app(sqlite_url, [dead, replicas.urls[0]], timeout=5) as app:
        slowest = 0.0
        for text in TEXTS * 4:
            started = time.monotonic()
            assert app.nlu.understand(text).source == Matcher.RASA
            slowest = max(slowest, time.monotonic() - started)
    assert slowest < 2, slowest  # not the 5 s timeout
    assert len(down_logs(caplog, dead)) == 1


def test_a_frozen_replica_costs_one_timeout_once_and_a_message_waits_at_most_a_timeout_plus_one_retry(
        replicas, sqlite_url):
    replicas.all_up()
    frozen, also_frozen = FrozenRasa(), FrozenRasa()
    try:
        with pool_app(sqlite_url, [frozen.url, replicas.urls[0]], timeout=1) as app:
            started = time.monotonic()
            assert app.nlu.understand("halo kak").source == Matcher.RASA  # retried on the next replica
            assert 1 <= time.monotonic() - started < 2
            started = time.monotonic()
            assert sources(app, TEXTS * 2) == [Matcher.RASA] * len(TEXTS) * 2
            assert time.monotonic() - started < 5  # the frozen one is skipped now
        with pool_app(sqlite_url, [frozen.url, also_frozen.url, replicas.urls[0]], timeout=1) as app:
            started = time.monotonic()
            # Two timeouts use up the time for retries: the fallback answers rather than a third attempt.
            assert app.nlu.understand("halo kak").source == Matcher.FALLBACK
            assert 2 <= time.monotonic() - started < RETRY_WINDOW + 1.5
            assert app.nlu.understand("halo kak").source == Matcher.RASA
    finally:
        frozen.close()
        also_frozen.close()


def test_several_urls_are_read_as_a_list_and_one_bad_entry_is_named():
    from bot.settings import SettingsError

    settings = settings_for(rasa_url=" http://10.0.0.1:5005/ ,https://rasa-2.internal ")
    assert settings.rasa_urls == ("http://10.0.0.1:5005", "https://rasa-2.internal") and not settings.managed_rasa
    assert settings_for(rasa_url="http://127.0.0.1:5005/").rasa_urls == ("http://127.0.0.1:5005",)
    assert settings_for().rasa_urls == () and settings_for().managed_rasa
    with pytest.raises(SettingsError, match=r"^RASA_URL is malformed: '10.0.0.2:5005' is not an http\(s\) URL"):
        settings_for(rasa_url="http://10.0.0.1:5005,10.0.0.2:5005")
    with pytest.raises(SettingsError, match="RASA_URL is malformed: '' is not"):
        settings_for(rasa_url="http://10.0.0.1:5005,")
    with pytest.raises(SettingsError, match="listed twice"):
        settings_for(rasa_url="http://10.0.0.1:5005,http://10.0.0.1:5005/")


def test_with_every_url_dead_the_fallback_answers_at_once(sqlite_url):
    dead = [f"http://127.0.0.1:{port}" for port in closed_ports(3)]
    with pool_app(sqlite_url, dead, timeout=5) as app:
        started = time.monotonic()
        assert sources(app, TEXTS) == [Matcher.FALLBACK] * len(TEXTS)
        turn = say(app, "syarat jadi PMI apa aja?")
    assert time.monotonic() - started < 3  # refused at once, then skipped: never the 5 s timeout
    assert HEDGED in text_of(turn) and "minimal 18 tahun" in text_of(turn)
