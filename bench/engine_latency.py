"""Engine overhead per message (NLU excluded) and the bot process's peak RSS.

1. In process: the real engine on a fresh SQLite database drives MESSAGES messages from CHATS chats
   (FAQ questions, greetings, junk, button presses); the time spent inside NLU is subtracted per message.
2. The real `python -m bot run` process against the local fake Bot API (NLU by the local classifier, so the
   Rasa server is not counted); its peak RSS is sampled while it answers a burst of messages.

Targets (issue 2): engine overhead p99 < 10 ms; bot process < 200 MB RSS.
Run: .venv/bin/python bench/engine_latency.py
"""
from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content import Content, ContentStore  # noqa: E402
from bot.dialogue.engine import Engine  # noqa: E402
from bot.dialogue.messages import Incoming  # noqa: E402
from bot.nlu.local_classifier import keep_weights  # noqa: E402
from bot.nlu.service import Nlu  # noqa: E402
from bot.nlu.training import NLU_DATA_DIR  # noqa: E402
from bot.nlu.training_data import matcher_examples  # noqa: E402
from bot.registry.service import AgencyRegistry, seed_registry  # noqa: E402
from db.agencies import AgencyRepository  # noqa: E402
from db.chat_state import ChatStateRepository  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.session import make_engine, make_session_factory  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402

MESSAGES = 5000
CHATS = 200
PROCESS_MESSAGES = 600


class TimedNlu:
    """Wraps the NLU and accumulates the time spent in it, so it can be subtracted."""

    def __init__(self, nlu: Nlu):
        self._nlu = nlu
        self.spent = 0.0

    def understand(self, text: str, content=None):
        start = time.perf_counter()
        try:
            return self._nlu.understand(text, content)
        finally:
            self.spent += time.perf_counter() - start


def workload(content, rng: random.Random) -> list[Incoming]:
    questions = [q for topic in content.topics.values() for q in topic.questions]
    presses = ["menu", "menu:faq", "menu:emergency", "menu:agency", *[f"faq:{t}" for t in content.topics],
               "group:persiapan", "group:negara"]
    junk = ["halo", "makasih kak", "😀😀", "", "siapa presiden", "1", "/start", "x" * 5000, "PT sinar jaya resmi gk"]
    messages = []
    for _ in range(MESSAGES):
        chat = rng.randrange(1, CHATS + 1)
        roll = rng.random()
        if roll < 0.5:
            messages.append(Incoming(chat, chat, text=rng.choice(questions)))
        elif roll < 0.8:
            messages.append(Incoming(chat, chat, press=rng.choice(presses)))
        else:
            messages.append(Incoming(chat, chat, text=rng.choice(junk)))
    return messages


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_engine(tmp: Path) -> None:
    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    upgrade(url)
    db = make_engine(url)
    content = ContentStore(ROOT / "content")
    nlu = TimedNlu(Nlu(content, NLU_DATA_DIR, rasa=None))
    sessions = make_session_factory(db)
    registry = AgencyRegistry(AgencyRepository(sessions))
    seed_registry(registry.repository)
    engine = Engine(content, nlu, ChatStateRepository(sessions), registry)
    messages = workload(content.current(), random.Random(7))
    for message in messages[:100]:  # warm up caches and the local classifier
        engine.handle(message)
    overheads = []
    for message in messages:
        nlu.spent = 0.0
        start = time.perf_counter()
        engine.handle(message)
        overheads.append((time.perf_counter() - start - nlu.spent) * 1000)
    db.dispose()
    print(f"engine overhead over {len(overheads)} messages from {CHATS} chats (NLU excluded):")
    print(f"  p50 {statistics.median(overheads):.2f} ms   p99 {percentile(overheads, 0.99):.2f} ms   "
          f"max {max(overheads):.2f} ms")


def bench_process_rss(tmp: Path) -> None:
    token = "123456:BENCH-token-for-the-fake-bot-api-000"
    fake = FakeTelegram(token).start()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": fake.url,
           "DATABASE_URL": f"sqlite:///{tmp / 'process.sqlite3'}", "BOT_VAR_DIR": str(tmp),
           "RASA_URL": f"http://127.0.0.1:{free_port()}", "RASA_TIMEOUT": "0.2", "LOG_LEVEL": "ERROR"}
    # As `python -m bot train` leaves it: the local classifier's weights are there, the process only loads them.
    keep_weights(matcher_examples(Content(ROOT / "content"), NLU_DATA_DIR), tmp / "models")
    process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env)
    try:
        handle = psutil.Process(process.pid)
        peak = 0
        deadline = time.monotonic() + 60
        while not fake.calls_to("setMyCommands") and time.monotonic() < deadline:
            time.sleep(0.1)
        questions = ["syarat jadi pmi apa aja", "biaya brp", "halo", "dokumen apa sj", "😀", "x" * 5000]
        start = time.monotonic()
        for i in range(PROCESS_MESSAGES):
            chat = 1 + i % 50
            fake.send_text(chat, questions[i % len(questions)])
            if i % 20 == 0:
                peak = max(peak, handle.memory_info().rss)
        # Every turn's last reply carries buttons, so counting those counts answered messages.
        answered = lambda: sum(1 for m in fake.sent_messages() if m.get("reply_markup"))  # noqa: E731
        while answered() < PROCESS_MESSAGES and time.monotonic() - start < 300:
            peak = max(peak, handle.memory_info().rss)
            time.sleep(0.05)
        elapsed = time.monotonic() - start
        peak = max(peak, handle.memory_info().rss)
        sklearn = any("sklearn" in m.path for m in handle.memory_maps())
        print(f"bot process (python -m bot run, fallback NLU) answered {answered()} messages "
              f"in {elapsed:.1f} s; peak RSS {peak / 2**20:.0f} MB; scikit-learn loaded: {sklearn}")
    finally:
        process.terminate()
        process.wait(timeout=30)
        fake.stop()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bench_engine(Path(tmp))
        bench_process_rss(Path(tmp))


if __name__ == "__main__":
    main()
