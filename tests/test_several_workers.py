"""Several real webhook workers on one PostgreSQL database (issue 14): three `python -m bot run` processes behind a
round-robin forwarder that retries like Telegram, the fake Bot API failing a fifth of the sends to the task-force
group. Updates of one chat posted at once to different workers, an album of photos during a report, a worker and
the delivery leader SIGKILLed mid-run: every acknowledged update is answered (at least once: a worker killed between
sending a reply and recording it leaves it to be sent again), and nothing reaches the group twice but, at most, the
one message the leader was sending when it was killed (Telegram has no idempotent send).

The cluster helpers here (`Workers`, `Forwarder`, `file_report_with_album`) also drive bench/several_workers.py."""
from __future__ import annotations

import collections
import contextlib
import functools
import itertools
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url

from bot.app import prepare_database
from bot.reports.crypto import new_key
from bot.settings import PROJECT_ROOT
from db.enums import DeliveryKind
from db.leases import LOCK_SPACE
from tests.conftest import free_port, wait_until
from tests.fake_telegram import TOKEN, FakeTelegram, Json, describe
from tests.test_reports_e2e import CODE_RE, CONTACT_LABELS, TASKFORCE, evidence_of, staff_messages, text

SECRET = "several-workers-share-this-secret"
PUBLIC_URL = "https://bot.example.test"  # the reverse proxy's address, the same for every worker
DELIVERY_LEAD = "delivery"  # the Leadership name of the delivery leader (bot/app.py)
ACK_TIMEOUT = 60.0  # how long Telegram keeps retrying an update before the test calls it lost


# ---- the cluster -------------------------------------------------------------------------------------------------

@dataclass
class Worker:
    """One `python -m bot run` serving webhooks on its own port; started again on the same port after a kill."""

    index: int
    port: int
    env: dict[str, str]
    log_dir: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"worker-{self.index}.{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        with self.log_path.open("w") as log:
            self.popen = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env=self.env,
                                          stdout=log, stderr=subprocess.STDOUT)

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no graceful stop, nothing finished; reaped at once (a zombie still looks alive to the others)."""
        assert self.popen is not None
        self.popen.kill()
        self.popen.wait()

    def stop(self) -> None:
        if self.running():
            assert self.popen is not None
            self.popen.terminate()
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def log(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.log_dir.glob(f"worker-{self.index}.*.log")))


class Forwarder:
    """What Telegram does in front of several workers behind a proxy: each update goes to the next worker in turn;
    on a connection error or any answer but 200 it goes to the next one, again and again (Telegram retries) until one
    answers 200, which acknowledges it."""

    def __init__(self, workers: list[Worker], secret: str = SECRET):
        self._workers = workers
        self._secret = secret
        self._turns = itertools.count()
        self._lock = threading.Lock()
        # One pool shared by every posting thread (a client per thread would build its TLS context each time, CPU
        # the workers under test need on this small machine).
        self._client = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=256, max_keepalive_connections=256))
        self.acknowledged: dict[int, Worker] = {}  # update id -> the worker that answered 200
        self.refused = 0  # attempts that got no 200 (connection errors included)

    def close(self) -> None:
        self._client.close()

    def deliver(self, update: Json, timeout: float = ACK_TIMEOUT) -> Worker:
        """Post the update until a worker acknowledges it; returns that worker."""
        with self._lock:
            first = next(self._turns)
        deadline = time.monotonic() + timeout
        for attempt in itertools.count():
            worker = self._workers[(first + attempt) % len(self._workers)]
            try:
                status = self._client.post(f"{worker.url}/telegram", json=update,
                                           headers={"X-Telegram-Bot-Api-Secret-Token": self._secret}).status_code
            except httpx.HTTPError:
                status = 0
            if status == 200:
                with self._lock:
                    self.acknowledged[int(update["update_id"])] = worker
                return worker
            with self._lock:
                self.refused += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"update {update['update_id']} not acknowledged by any worker in {timeout} s")
            if attempt % len(self._workers) == len(self._workers) - 1:
                time.sleep(0.2)  # every worker refused: Telegram waits before it tries again
        raise AssertionError("unreachable")


@dataclass
class Workers:
    """`count` webhook workers sharing one PostgreSQL database, one webhook secret and one report key, serving the
    fake Bot API; `forwarder` posts updates to them."""

    fake: FakeTelegram
    database_url: str
    log_dir: Path
    count: int = 3
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: list[Worker] = field(init=False)
    forwarder: Forwarder = field(init=False)
    database: Engine = field(init=False)
    # Seconds from posting each user action until the first message of its reply (read by the bench).
    reply_latencies: list[float] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": self.fake.url,
               "TELEGRAM_WEBHOOK_URL": PUBLIC_URL, "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
               "TELEGRAM_WEBHOOK_SECRET": SECRET, "DATABASE_URL": self.database_url,
               "RASA_URL": f"http://127.0.0.1:{free_port()}", "RASA_TIMEOUT": "0.2",  # closed: the local classifier
               "TASKFORCE_CHAT_ID": str(TASKFORCE), "REPORT_ENCRYPTION_KEYS": new_key(), "LOG_LEVEL": "INFO",
               **self.extra_env}
        self.workers = []
        for index in range(self.count):
            port = free_port()
            var_dir = self.log_dir / f"var-{index}"
            var_dir.mkdir(parents=True, exist_ok=True)
            self.workers.append(Worker(index, port, {**env, "TELEGRAM_WEBHOOK_PORT": str(port),
                                                     "BOT_VAR_DIR": str(var_dir)}, self.log_dir))
        self.forwarder = Forwarder(self.workers)
        self.database = create_engine(self.database_url, isolation_level="AUTOCOMMIT")

    def start(self, *workers: Worker) -> None:
        """Start the workers (all of them by default) at once; return when each answers its health check."""
        chosen = workers or tuple(self.workers)
        for worker in chosen:
            worker.start()
        for worker in chosen:
            wait_until(functools.partial(_up_or_exited, worker), timeout=90, interval=0.2)
            assert worker.running(), worker.log()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.forwarder.close()
        self.database.dispose()

    def send(self, update_id: int) -> Worker:
        """Deliver an update the fake Bot API made (fake.send_text and the like) through the forwarder."""
        return self.forwarder.deliver(self.fake.take(update_id))

    def send_at_once(self, update_ids: list[int]) -> None:
        """Deliver updates concurrently (one thread each), as Telegram does with an album's photos."""
        with ThreadPoolExecutor(len(update_ids)) as pool:
            list(pool.map(self.send, update_ids))

    def delivery_leader(self) -> Worker | None:
        """The worker whose database session holds the delivery leader's advisory lock (db/leases.py), found by the
        client port of that session."""
        key = zlib.crc32(DELIVERY_LEAD.encode()) & 0x7FFF_FFFF
        with self.database.connect() as connection:
            port = connection.scalar(sql(
                "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :space AND l.objid = :key "
                "AND l.objsubid = 2"), {"space": LOCK_SPACE, "key": key})
        if port is None:
            return None
        for worker in self.workers:
            if worker.running():
                with contextlib.suppress(psutil.Error):
                    if any(c.laddr and c.laddr.port == port for c in psutil.Process(worker.pid).net_connections()):
                        return worker
        return None

    def in_flight(self, worker: Worker) -> list[int]:
        """Updates stored and claimed by this worker process, not handled yet."""
        with self.database.connect() as connection:
            return list(connection.scalars(sql(
                "SELECT update_id FROM inbox WHERE status <> 'done' AND claimed_by LIKE :holder"),
                {"holder": f"%:{worker.pid}:%"}))

    def unhandled_of(self, chat: int) -> int:
        """The chat's updates stored and not handled yet."""
        with self.database.connect() as connection:
            return int(connection.scalar(sql("SELECT count(*) FROM inbox WHERE chat_id = :chat AND status <> 'done'"),
                                         {"chat": chat}) or 0)

    def unhandled(self, update_ids: list[int]) -> list[int]:
        with self.database.connect() as connection:
            return list(connection.scalars(sql(
                "SELECT update_id FROM inbox WHERE status <> 'done' AND update_id = ANY(:ids)"), {"ids": update_ids}))

    def handled_by_chat(self, chat: int) -> list[int]:
        """The update ids the chat's saved state remembers as handled."""
        with self.database.connect() as connection:
            handled = connection.scalar(sql("SELECT recent_updates FROM chat_state WHERE chat_id = :chat"),
                                        {"chat": chat})
        return list(handled or [])

    def in_doubt(self) -> set[tuple[str, DeliveryKind]]:
        """Messages for the group claimed and not recorded as sent, as (report code, kind). Right after the delivery
        leader is killed: the one it was sending may have reached Telegram unrecorded, and the next leader sends it
        again (Telegram has no idempotent send); nothing else may be sent twice."""
        with self.database.connect() as connection:
            rows = connection.execute(sql(
                "SELECT r.code, d.kind FROM delivery d JOIN report r ON r.id = d.report_id "
                "WHERE d.claim_token IS NOT NULL AND d.sent_at IS NULL"))
            return {(code, DeliveryKind(kind)) for code, kind in rows}

    def undelivered(self) -> int:
        """Messages for the task-force group or reporters still in the outbox (and not given up)."""
        with self.database.connect() as connection:
            return int(connection.scalar(sql("SELECT count(*) FROM delivery WHERE sent_at IS NULL AND gave_up_at IS NULL")) or 0)

    def reports_filed(self, code: str) -> int:
        with self.database.connect() as connection:
            return int(connection.scalar(sql("SELECT count(*) FROM report WHERE code = :code"), {"code": code}) or 0)


def _up_or_exited(worker: Worker) -> bool:
    return worker.healthy() or not worker.running()


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new database in the PostgreSQL cluster, migrated and seeded once (the workers then find it ready)."""
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"workers_{secrets.token_hex(4)}"
    with server.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    prepare_database(url)[0].dispose()
    try:
        yield url
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        server.dispose()


# ---- a user, through the forwarder ---------------------------------------------------------------------------------

def reply_to(cluster: Workers, chat: int, post: Callable[[], object], complete: Callable[[list[Json]], bool],
             timeout: float = 60.0) -> list[Json]:
    """Post a user's update(s) and return the bot's reply: the messages to the chat after it, once `complete`.

    Replies are sent at least once: a worker killed after sending a reply but before recording its update as handled
    leaves the update to another worker, which sends the saved reply again. So the chat's earlier updates are let
    finish first, and a repeated reply to one of them cannot pass for the reply to this one."""
    fake = cluster.fake
    wait_until(lambda: not cluster.unhandled_of(chat), timeout=ACK_TIMEOUT, interval=0.05)
    before = len(fake.sent_messages(chat))

    def reply() -> list[Json] | None:
        new = fake.sent_messages(chat)[before:]
        return new if new and complete(new) else None

    posted = time.monotonic()
    post()
    try:
        new = fake.wait_for(reply, timeout)
    except AssertionError:
        raise AssertionError(f"chat {chat} got no full reply in {timeout:.0f} s, only:\n"
                             f"{describe(fake.sent_messages(chat)[before:])}") from None
    cluster.reply_latencies.append(new[0]["_at"] - posted)
    assert "gangguan" not in text(new), describe(new)  # the error message
    return new


def step(cluster: Workers, chat: int, action: Callable[..., int], *args: Any, expect: str) -> list[Json]:
    """One user action (a FakeTelegram method making the update); its reply must contain `expect`."""
    return reply_to(cluster, chat, lambda: cluster.send(action(chat, *args)), lambda new: expect in text(new))


def album_file_ids(chat: int, photos: int) -> list[str]:
    return [f"AgAC-{chat}-{number}" for number in range(1, photos + 1)]


def evidence_counted(replies: list[Json]) -> set[int]:
    """The numbers of the "evidence N received" replies."""
    return {int(n) for n in re.findall(r"Bukti ke-(\d+) diterima", text(replies))}


def send_album(cluster: Workers, chat: int, photos: int) -> list[Json]:
    """The reporter sends an album: its photos' updates posted at once, each to the next worker. The replies count
    the evidence 1, 2, ... up to `photos` (every turn saw the ones before it; a turn that missed another's photo
    repeats its number and leaves the last one out). Returns them."""
    fake = cluster.fake
    return reply_to(cluster, chat, lambda: cluster.send_at_once(fake.send_album(chat, album_file_ids(chat, photos))),
                    lambda new: evidence_counted(new) == set(range(1, photos + 1)))


def file_report_with_album(cluster: Workers, chat: int, photos: int, story: str | None = None) -> str:
    """A whole report with an album of `photos` photos at the evidence step; returns the reporter's code."""
    fake = cluster.fake
    step(cluster, chat, fake.send_text, "/lapor", expect="dalam bahaya")
    step(cluster, chat, fake.press, "report:danger_no", expect="Apa yang terjadi")
    step(cluster, chat, fake.send_text, story or f"Saudara saya ({chat}) dikurung calo di penampungan Kupang",
         expect="Kejadiannya termasuk")
    for expect in ("Di mana korban", "Siapa yang merekrut", "Kapan", "Ada bukti"):
        step(cluster, chat, fake.press, "report:skip", expect=expect)
    send_album(cluster, chat, photos)
    step(cluster, chat, fake.press, "report:evidence_done", expect="Bolehkah petugas")
    step(cluster, chat, fake.send_text, CONTACT_LABELS["bot"], expect="Periksa laporan")
    sent = step(cluster, chat, fake.press, "report:send", expect="Kode laporan Anda")
    found = CODE_RE.search(text(sent))
    assert found, describe(sent)
    return found.group(0)


def evidence_file_ids(fake: FakeTelegram, code: str) -> list[str]:
    """The photos sent to the task-force group as the report's evidence, once per send."""
    return sorted(str(params["photo"]) for method, params in evidence_of(fake, code) if method == "sendPhoto")


@dataclass
class GroupTally:
    """What reached the task-force group of the reports filed."""

    missing_reports: list[str]  # codes with no report message in the group
    missing_photos: int  # evidence photos never sent to the group
    extra: collections.Counter[tuple[str, DeliveryKind]]  # (code, kind): sends beyond the first


def tally_group(cluster: Workers, filed: dict[int, str], photos: int) -> GroupTally:
    """Once the outbox is empty (nothing is sent later: a send is recorded after it is made, and every sender is
    either alive and has recorded its sends, or dead), what the group got of each report and its photos."""
    minutes = len(filed) * (1 + photos) / 20  # Telegram's 20 messages a minute into a group, and a margin
    wait_until(lambda: cluster.undelivered() == 0, timeout=150 + minutes * 90, interval=0.5)
    tally = GroupTally([], 0, collections.Counter())
    for chat, code in filed.items():
        reports = len(staff_messages(cluster.fake, code))
        sent = collections.Counter(evidence_file_ids(cluster.fake, code))
        if not reports:
            tally.missing_reports.append(code)
        tally.missing_photos += len(set(album_file_ids(chat, photos)) - set(sent))
        tally.extra[(code, DeliveryKind.REPORT)] += max(0, reports - 1)
        tally.extra[(code, DeliveryKind.EVIDENCE)] += sum(count - 1 for count in sent.values())
    tally.extra = +tally.extra  # only what was sent more than once
    return tally


# ---- the tests ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster(module_fake_bot_api: FakeTelegram, postgres_url: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    """Three workers on a database of their own; a fifth of the sends to the task-force group fail."""
    module_fake_bot_api.fail_ratio(TASKFORCE, 0.2)
    with fresh_database(postgres_url) as url:
        workers = Workers(module_fake_bot_api, url, tmp_path_factory.mktemp("workers"))
        try:
            workers.start()
            yield workers
        finally:
            workers.stop()


@pytest.fixture
def workers(cluster: Workers) -> Workers:
    """The cluster with every worker running (a test before may have killed one)."""
    dead = [worker for worker in cluster.workers if not worker.running()]
    if dead:
        cluster.start(*dead)
    return cluster


def test_updates_of_one_chat_at_once_are_all_handled(workers: Workers) -> None:
    fake, chat = workers.fake, 91001
    # A chat's first messages at once, on three workers: each is answered, none lost to a clash on the new chat.
    first = [fake.send_text(chat, "/start"), fake.send_text(chat, "/privasi"), fake.send_text(chat, "/bantuan")]
    workers.send_at_once(first)
    answers = ("selamat datang", "data anda di bot ini", "cara memakai bot ini")
    fake.wait_for(lambda: all(answer in text(fake.sent_messages(chat)).lower() for answer in answers))
    assert "gangguan" not in text(fake.sent_messages(chat)), describe(fake.sent_messages(chat))
    wait_until(lambda: not workers.unhandled(first))
    assert sorted(workers.handled_by_chat(chat)) == sorted(first)  # each turn saved on top of the others

    # An album of 5 photos at the evidence step: its 5 updates posted at once to the 3 workers.
    code = file_report_with_album(workers, chat + 1, photos=5)
    assert tally_group(workers, {chat + 1: code}, photos=5) == GroupTally([], 0, collections.Counter())
    assert workers.reports_filed(code) == 1


def test_a_worker_and_the_delivery_leader_killed_mid_run_lose_nothing(workers: Workers) -> None:
    fake = workers.fake
    chats = list(range(92001, 92007))  # 6 reporters, each with an album of 3 photos (the case measured in issue 14)
    filed: dict[int, str] = {}
    failures: list[str] = []

    def reporter(chat: int) -> None:
        try:
            filed[chat] = file_report_with_album(workers, chat, photos=3)
        except AssertionError as exc:  # shown below: a reporter who never got a reply
            failures.append(f"chat {chat}: {exc}")

    leader = wait_until(workers.delivery_leader, timeout=30)
    threads = [threading.Thread(target=reporter, args=(chat,)) for chat in chats]
    for thread in threads:
        thread.start()

    # A worker that is not the leader is SIGKILLed while it holds acknowledged updates it has not handled yet.
    victim = next(worker for worker in workers.workers if worker is not leader)
    in_flight = wait_until(lambda: workers.in_flight(victim), timeout=60, interval=0.02)
    victim.kill()
    workers.start(victim)  # restarted (as systemd would), on the same port

    # The delivery leader is SIGKILLed while reports are reaching the group; another worker takes the lead.
    wait_until(lambda: len([c for c in filed.values() if staff_messages(fake, c)]) >= 2, timeout=120,
               interval=0.1)
    leader = wait_until(workers.delivery_leader, timeout=10)
    leader.kill()
    killed_at = time.monotonic()
    in_doubt = workers.in_doubt()
    successor = wait_until(workers.delivery_leader, timeout=20, interval=0.1)
    takeover = time.monotonic() - killed_at
    assert successor is not leader and takeover < 10
    assert "is now the delivery leader" in successor.log()

    for thread in threads:
        thread.join(timeout=240)
    assert not failures, "\n".join(failures)
    assert sorted(filed) == chats and len(set(filed.values())) == len(chats)
    assert workers.unhandled(in_flight) == []  # the killed worker's updates were handled by the others
    tally = tally_group(workers, filed, photos=3)
    assert (tally.missing_reports, tally.missing_photos) == ([], 0)
    # Sent twice, at most: the one message the leader was sending when it was killed (it may have reached Telegram
    # before the leader could record it; Telegram has no idempotent send).
    assert sum(tally.extra.values()) <= 1 and set(tally.extra) <= in_doubt, (tally.extra, in_doubt)
    assert all(workers.reports_filed(code) == 1 for code in filed.values())
    assert len([p for m, p in fake.failed_calls if int(p["chat_id"]) == TASKFORCE]) > 0  # failures were retried
