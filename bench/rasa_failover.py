"""Two Rasa replicas, one killed (SIGKILL) under a steady load: who answered, and how long people waited.

Starts two real Rasa servers from the current model (ManagedRasa, whose supervisor restarts a killed server as
systemd would; it is ready again about 30 s later), builds the app with RASA_URL=<both>, and sends fresh chats' FAQ
questions through the engine at a steady rate from a thread pool (as the Telegram channel does). At --kill-at seconds
replica 1 is killed. Prints per phase how many turns were understood by Rasa and by the local classifier, and the
turn latency (from the moment the message was due, so queueing counts) p50/p99/max. Target (issue 14): no message
answered by the local classifier while another replica is healthy.

Run: .venv/bin/python bench/rasa_failover.py [--rate 10] [--duration 150] [--kill-at 20]
"""
from __future__ import annotations

import argparse
import logging
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_app  # noqa: E402
from bot.content import Content  # noqa: E402
from bot.dialogue.messages import Incoming  # noqa: E402
from bot.nlu import training  # noqa: E402
from bot.nlu.rasa_server import ManagedRasa  # noqa: E402
from bot.nlu.understanding import Understanding  # noqa: E402
from bot.settings import PROJECT_ROOT, VAR_DIR  # noqa: E402
from tests.conftest import free_port, settings_for  # noqa: E402

TOKEN = "bench-token"
TEXTS = [
    "syarat jadi pmi apa saja", "berapa biaya ke hongkong", "paspor saya ditahan agen", "mau kerja ke malaysia",
    "visa kerja korea", "bagaimana cara lapor", "dokumen apa yang harus disiapkan", "gaji di taiwan berapa",
    "apa itu bp2mi", "kontrak kerja harus ada apa saja",
]


class Log(logging.Handler):
    """The circuit's state changes (a replica down, a replica back), with the time they were logged."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((time.monotonic(), record.getMessage()))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(name: str, rows: list[tuple[float, str, float]]) -> str:
    if not rows:
        return f"{name}: no turns"
    sources = Counter(source for _, source, _ in rows)
    counts = ", ".join(f"{how} {count}" for how, count in sorted(sources.items()))  # "none": NLU was not asked
    latencies = [latency * 1000 for _, _, latency in rows]
    return (f"{name}: {len(rows)} turns ({counts}); latency p50 {statistics.median(latencies):.0f} ms, "
            f"p99 {percentile(latencies, 0.99):.0f} ms, max {max(latencies):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second")
    parser.add_argument("--duration", type=float, default=150.0, help="seconds")
    parser.add_argument("--kill-at", type=float, default=20.0, help="seconds after the start")
    args = parser.parse_args()

    model = training.model_path(VAR_DIR, Content(PROJECT_ROOT / "content"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-failover-"))
    replicas = [ManagedRasa(model, free_port(), TOKEN, tmp / f"rasa-{n}") for n in range(2)]
    started = time.monotonic()
    for replica in replicas:
        replica.start()
    try:
        for replica in replicas:
            if not replica.wait_ready(300):
                raise SystemExit(f"the Rasa server at {replica.url} did not start")
        print(f"two Rasa replicas ready in {time.monotonic() - started:.0f} s ({model.name})", flush=True)
        run(args, tmp, replicas)
    finally:
        for replica in replicas:
            replica.stop()


def run(args: argparse.Namespace, tmp: Path, replicas: list[ManagedRasa]) -> None:
    log = Log()
    logging.getLogger("bot.circuit").addHandler(log)
    logging.getLogger("bot.circuit").setLevel(logging.INFO)
    settings = settings_for(database_url=f"sqlite:///{tmp / 'bot.sqlite3'}", rasa_url=",".join(r.url for r in replicas),
                            rasa_auth_token=TOKEN, rasa_timeout="2")
    with build_app(settings) as app:
        source = threading.local()
        understand = app.nlu.understand

        def recording(text: str) -> Understanding:  # the engine's NLU, noting what understood this thread's turn
            understanding = understand(text)
            source.value = understanding.source.value
            return understanding

        app.nlu.understand = recording  # type: ignore[method-assign]
        rows: list[tuple[float, str, float]] = []  # (due, source, latency)

        def turn(index: int, due: float) -> None:
            source.value = "none"
            app.engine.handle(Incoming(100_000 + index, 100_000 + index, text=TEXTS[index % len(TEXTS)]))
            rows.append((due, source.value, time.monotonic() - due))

        for index in range(20):  # warm up: both replicas, the database, content
            turn(index, time.monotonic())
        rows.clear()
        total = int(args.rate * args.duration)
        start = time.monotonic()
        kill_time = start + args.kill_at
        killed = False
        with ThreadPoolExecutor(max_workers=16) as pool:
            for index in range(total):
                due = start + index / args.rate
                if not killed and due >= kill_time:
                    process = replicas[0]._process
                    assert process is not None
                    process.send_signal(signal.SIGKILL)
                    kill_time, killed = time.monotonic(), True
                    print(f"t={kill_time - start:.1f} s: SIGKILL to the replica at {replicas[0].url}", flush=True)
                time.sleep(max(0.0, due - time.monotonic()))
                pool.submit(turn, 20 + index, due)
    for at, line in log.lines:
        print(f"t={at - start:.1f} s: {line}")
    back = next((at for at, line in log.lines if "answers again" in line), None)
    print(f"{args.rate:g} messages/s for {args.duration:g} s, replica 1 killed at t={kill_time - start:.1f} s"
          + (f", back at t={back - start:.1f} s" if back else ", not back before the end"))
    print(summary("all", rows))
    print(summary("before the kill", [r for r in rows if r[0] < kill_time]))
    print(summary("kill + 5 s", [r for r in rows if kill_time <= r[0] < kill_time + 5]))
    print(summary("one replica (until it is back)", [r for r in rows if kill_time <= r[0] < (back or float("inf"))]))
    if back:
        print(summary("both again", [r for r in rows if r[0] >= back]))
    for due, how, latency in sorted(rows):
        if how != "rasa":
            print(f"  t={due - start:.1f} s answered by {how} in {latency * 1000:.0f} ms")


if __name__ == "__main__":
    main()
