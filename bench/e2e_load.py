"""The real `python -m bot run` against the fake Bot API under floods and faults (issue 13's targets).

Scenarios (each starts a fresh bot process and database):
  frozen  NLU frozen (a server that accepts and never answers), RATE messages/s from fresh chats: first-reply p50/p99
  flood   50 chats ask one question each at 5/s, once alone and once while one chat sends 100 messages in 10 s:
          the others' first-reply p99 in both runs
  burst   600 fresh chats write at once: time until every one has its first reply (Telegram allows ~30 messages/s)
  abuse   one chat files 50 urgent reports with 10 photos each, then another chat files one: how long until the
          second is in the task-force group (Telegram allows 20 messages a minute in one group)

NLU: `--rasa-url` (a running Rasa server with `--rasa-token`) or, by default, a stub that answers /model/parse like
Rasa after `--nlu-ms` milliseconds (the bot's own work and Telegram's limits are what is measured; Rasa's own latency
is measured by bench/nlu_latency.py).
Run: .venv/bin/python bench/e2e_load.py [frozen|flood|burst|abuse|all] [--rasa-url URL --rasa-token T]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.reports import codes  # noqa: E402
from bot.reports.crypto import new_key  # noqa: E402
from tests.conftest import wait_until  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402

TOKEN = "123456:BENCH-token-for-the-fake-bot-api-000"
TASKFORCE = -1009000
QUESTIONS = ("apa syarat kerja ke malaysia", "berapa biaya jadi pmi", "cara cek perusahaan resmi",
             "paspor saya ditahan agen", "gaji tidak dibayar majikan")


class StubRasa:
    """Answers /model/parse like Rasa (a confident greet) after a delay."""

    def __init__(self, delay: float):
        payload = json.dumps({"intent": {"name": "greet", "confidence": 0.99},
                              "intent_ranking": [{"name": "greet", "confidence": 0.99}], "entities": []}).encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


class FrozenRasa:
    """Accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        self.sock.close()
        for connection in self.held:
            connection.close()


@contextmanager
def bot(rasa_url: str, rasa_token: str = "", **extra: str):
    tmp = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    fake = FakeTelegram(TOKEN).start()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fake.url,
           "DATABASE_URL": f"sqlite:///{tmp / 'bot.sqlite3'}", "BOT_VAR_DIR": str(tmp), "RASA_URL": rasa_url,
           "RASA_AUTH_TOKEN": rasa_token, "TASKFORCE_CHAT_ID": str(TASKFORCE), "REPORT_ENCRYPTION_KEYS": new_key(),
           "LOG_LEVEL": "WARNING", **extra}
    with (tmp / "bot.log").open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: fake.calls_to("setMyCommands") or process.poll() is not None, timeout=120)
        if process.poll() is not None:
            raise SystemExit((tmp / "bot.log").read_text())
        fake.send_text(1, "halo")  # warm up (first NLU call, first database access)
        fake.wait_for_messages(1, 1, timeout=60)
        yield fake
    finally:
        process.terminate()
        process.wait(timeout=60)
        fake.stop()


def first_reply_latencies(fake: FakeTelegram, sent: dict[int, float], timeout: float = 600) -> list[float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(fake.sent_messages(chat) for chat in sent):
        time.sleep(0.05)
    return [fake.sent_messages(chat)[0]["_at"] - at for chat, at in sent.items() if fake.sent_messages(chat)]


def paced(fake: FakeTelegram, chats: list[int], rate: float, text=lambda i: QUESTIONS[i % len(QUESTIONS)]):
    sent = {}
    start = time.monotonic()
    for i, chat in enumerate(chats):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent[chat] = time.monotonic()
        fake.send_text(chat, text(i))
    return sent


def errors(fake: FakeTelegram, chats) -> int:
    """Chats that got the error message (a failed turn: e.g. the database locked) instead of an answer."""
    return sum(1 for chat in chats if any("gangguan" in m["text"] for m in fake.sent_messages(chat)))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def frozen(args) -> None:
    rasa = FrozenRasa()
    try:
        with bot(rasa.url, RASA_TIMEOUT="2") as fake:
            chats = list(range(10_000, 10_000 + int(args.rate * args.seconds)))
            sent = paced(fake, chats, args.rate)
            lat = first_reply_latencies(fake, sent)
            slow = sum(1 for value in lat if value > 1.0)
            print(f"frozen NLU, {args.rate}/s offered for {args.seconds:.0f} s ({len(chats)} chats): answered "
                  f"{len(lat)} ({errors(fake, chats)} with the error message), first reply p50 "
                  f"{pct(lat, .5) * 1000:.0f} ms, p99 {pct(lat, .99) * 1000:.0f} ms, "
                  f"max {max(lat) * 1000:.0f} ms; {slow} waited over 1 s (the NLU timeout, before the circuit "
                  "opened)")
    finally:
        rasa.close()


def flood(args, rasa_url: str) -> None:
    results = {}
    for flooded in (False, True):
        with bot(rasa_url, args.rasa_token) as fake:
            flooder = None
            if flooded:
                def flooder_run():
                    for i in range(100):
                        fake.send_text(99_999, f"spam {i} {QUESTIONS[i % len(QUESTIONS)]}")
                        time.sleep(0.1)
                flooder = threading.Thread(target=flooder_run)
                flooder.start()
                time.sleep(0.5)
            chats = list(range(20_000, 20_050))
            sent = paced(fake, chats, 5.0)
            lat = first_reply_latencies(fake, sent)
            if flooder:
                flooder.join()
                time.sleep(2)
                answered = len(fake.sent_messages(99_999))
            results[flooded] = lat
            label = "with one chat flooding 100 messages in 10 s" if flooded else "alone"
            print(f"50 chats at 5/s {label}: p50 {pct(lat, .5) * 1000:.0f} ms, p99 {pct(lat, .99) * 1000:.0f} ms, "
                  f"{errors(fake, chats)} error replies"
                  + (f"; the flooding chat got {answered} replies (limit notice included)" if flooded else ""))
    ratio = pct(results[True], .99) / pct(results[False], .99)
    print(f"flooded / alone p99: {ratio:.2f}x")


def burst(args, rasa_url: str) -> None:
    with bot(rasa_url, args.rasa_token) as fake:
        chats = list(range(30_000, 30_600))
        started = time.monotonic()
        sent = {}
        for i, chat in enumerate(chats):
            sent[chat] = time.monotonic()
            fake.send_text(chat, QUESTIONS[i % len(QUESTIONS)])
        lat = first_reply_latencies(fake, sent)
        drained = max(fake.sent_messages(chat)[0]["_at"] for chat in chats) - started
        print(f"burst of 600 fresh chats: all answered after {drained:.1f} s ({600 / drained:.1f} messages/s); "
              f"first reply p50 {pct(lat, .5):.1f} s, p99 {pct(lat, .99):.1f} s; {errors(fake, chats)} error replies")


def file_report(fake: FakeTelegram, chat: int, urgent: bool, photos: int, wait: bool) -> str | None:
    steps = [("text", "/lapor"), ("press", "report:danger_yes" if urgent else "report:danger_no"),
             ("text", f"Uji laporan {chat}: saudara dikurung calo di Kupang"), ("press", "report:skip"),
             ("press", "report:skip"), ("press", "report:skip"), ("press", "report:skip")]
    steps += [("photo", f"AgAC-{chat}-{i}") for i in range(photos)]
    steps += [("press", "report:evidence_done"), ("text", "🙈 Anonim, jangan hubungi saya"), ("press", "report:send")]
    for kind, value in steps:
        before = len(fake.sent_messages(chat))
        {"text": fake.send_text, "press": fake.press, "photo": fake.send_photo}[kind](chat, value)
        if wait:
            fake.wait_for_messages(chat, before + 1, timeout=600)
    if not wait:
        return None
    return fake.wait_for(lambda: next((codes.find_code(m["text"]) for m in fake.sent_messages(chat)
                                       if codes.find_code(m["text"])), None), timeout=600)


def abuse(args, rasa_url: str) -> None:
    with bot(rasa_url, args.rasa_token, MESSAGES_PER_MINUTE="0", REPORTS_PER_DAY=str(args.abuse_reports)) as fake:
        started = time.monotonic()
        for _ in range(args.abuse_reports):
            file_report(fake, 40_000, urgent=True, photos=10, wait=True)
        filed = time.monotonic() - started
        queued = sum(1 for m, p in fake.sent_to(TASKFORCE))
        code = file_report(fake, 40_001, urgent=False, photos=0, wait=True)
        at = time.monotonic()
        fake.wait_for(lambda: [p for m, p in fake.sent_to(TASKFORCE) if code in p.get("text", "")], timeout=3600)
        waited = time.monotonic() - at
        staff = fake.sent_to(TASKFORCE)
        print(f"abuse: one chat filed {args.abuse_reports} urgent reports with 10 photos each in {filed:.0f} s "
              f"(~{args.abuse_reports * 11} messages for the group; {queued} sent meanwhile); another chat's "
              f"report then reached the group after {waited:.1f} s, as group message #{len(staff)}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", nargs="?", default="all", choices=["frozen", "flood", "burst", "abuse", "all"])
    parser.add_argument("--rasa-url")
    parser.add_argument("--rasa-token", default="")
    parser.add_argument("--nlu-ms", type=float, default=20.0, help="the stub NLU's answer time")
    parser.add_argument("--rate", type=float, default=2.0, help="messages/s offered in the frozen run")
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the frozen run")
    parser.add_argument("--abuse-reports", type=int, default=50)
    args = parser.parse_args()
    stub = None if args.rasa_url else StubRasa(args.nlu_ms / 1000)
    rasa_url = args.rasa_url or stub.url
    print(f"NLU: {'Rasa at ' + args.rasa_url if args.rasa_url else f'stub answering in {args.nlu_ms:.0f} ms'}; "
          f"{os.cpu_count()} CPUs")
    try:
        if args.scenario in ("frozen", "all"):
            frozen(args)
        if args.scenario in ("flood", "all"):
            flood(args, rasa_url)
        if args.scenario in ("burst", "all"):
            burst(args, rasa_url)
        if args.scenario in ("abuse", "all"):
            abuse(args, rasa_url)
    finally:
        if stub:
            stub.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
