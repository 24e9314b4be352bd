"""What counting turns for insights adds to a turn (target: < 1 ms at p99).

The real engine (fresh SQLite, content, registry seed, local classifier) answers a mixed workload of MESSAGES typed
messages and button presses from CHATS chats with the real InsightRecorder attached (background flush every 5 s, as
in production). The time spent inside `InsightRecorder.record` (what the hook adds to `Engine.handle`) is measured
per turn; so are the turns themselves, with and without the recorder, for scale. A final flush is timed too (it runs
in the background thread, not in a turn).

Run: .venv/bin/python bench/insights_overhead.py
"""
from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_app  # noqa: E402
from bot.dialogue.messages import Incoming  # noqa: E402
from bot.insights.recorder import InsightRecorder  # noqa: E402
from tests.conftest import settings_for  # noqa: E402

MESSAGES = 3000
CHATS = 150
TEXTS = [
    "syarat jadi pmi apa saja", "berapa biaya ke hongkong", "paspor saya ditahan agen", "halo", "terima kasih",
    "apakah PT Maju Sejahtera Abadi resmi?", "cek PT Sinar Jaya", "zxqv blorp", "kontrak", "gaji",
    "mau kerja ke malaysia", "saya Maria dari Kupang hp 081234567890 mau kerja", "🙏🙏", "visa kerja korea",
    "bagaimana cara lapor", "/start", "1",
]
PRESSES = ["faq:syarat", "faq:biaya", "country:my", "menu", "menu:faq"]


class TimedRecorder(InsightRecorder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.samples: list[float] = []

    def record(self, message, turn, content) -> None:
        start = time.perf_counter()
        super().record(message, turn, content)
        self.samples.append(time.perf_counter() - start)


def workload(rng: random.Random) -> list[Incoming]:
    messages = []
    for _ in range(MESSAGES):
        chat = rng.randrange(CHATS) + 1
        if rng.random() < 0.2:
            messages.append(Incoming(chat, chat, press=rng.choice(PRESSES)))
        else:
            messages.append(Incoming(chat, chat, text=rng.choice(TEXTS)))
    return messages


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return pick(0.5), pick(0.99), ordered[-1] * 1000


def run_turns(app, messages: list[Incoming]) -> list[float]:
    times = []
    for message in messages:
        start = time.perf_counter()
        app.engine.handle(message)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    messages = workload(random.Random(16))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        # The per-chat message limit is lifted: the workload sends faster than people type.
        with build_app(settings_for(database_url=url, messages_per_minute="1000000"), fallback_only=True) as app:
            run_turns(app, messages[:200])  # warm up (matcher, registry index)
            recorder = TimedRecorder(app.insights, ROOT / "nlu_data")
            without, with_recorder = [], []
            # Blocks of 100 turns alternate without and with the recorder, so machine load affects both alike.
            for block in range(0, len(messages), 100):
                app.engine._insights = None
                without += run_turns(app, messages[block:block + 100])
                app.engine._insights = recorder  # the same wiring build_app(count_insights=True) does
                with_recorder += run_turns(app, messages[block:block + 100])
            start = time.perf_counter()
            recorder.close()
            flush = time.perf_counter() - start
            counted = sum(r.count for r in app.insights.counts(date(2000, 1, 1), date(2100, 1, 1), ["outcome"]))
    p50, p99, worst = percentiles(recorder.samples)
    print(f"InsightRecorder.record per turn ({len(recorder.samples)} turns): p50 {p50:.3f} ms, p99 {p99:.3f} ms, "
          f"max {worst:.3f} ms  (target p99 < 1 ms)")
    for name, samples in (("turn without recorder", without), ("turn with recorder", with_recorder)):
        a, b, c = percentiles(samples)
        print(f"{name:<24} p50 {a:.2f} ms, p99 {b:.2f} ms, mean {statistics.mean(samples) * 1000:.2f} ms")
    print(f"final flush (background thread, not in a turn): {flush * 1000:.1f} ms; questions counted: {counted}")
    return 0 if p99 < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
