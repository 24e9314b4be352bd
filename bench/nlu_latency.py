"""Latency of Rasa's /model/parse over HTTP, measured serially with the held-out messages.

Uses RASA_URL (+ RASA_AUTH_TOKEN) when set, else starts the managed server with the current model.
Targets (issue 4): p50 <= 20 ms, p99 <= 50 ms on this machine. Training time: `time python -m bot train --force`.
Run: .venv/bin/python bench/nlu_latency.py [rounds]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content import Content  # noqa: E402
from bot.nlu import training  # noqa: E402
from bot.nlu.evaluation import load_heldout  # noqa: E402
from bot.nlu.normalise import normalise  # noqa: E402
from bot.nlu.rasa_client import RasaClient  # noqa: E402
from bot.nlu.rasa_server import ManagedRasa  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from tests.conftest import free_port  # noqa: E402


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    settings = load_settings()
    server = None
    if settings.rasa_url:
        url, token = settings.rasa_url, settings.rasa_auth_token
    else:
        model = training.model_path(settings.var_dir, Content(settings.content_dir))
        token = "bench-token"
        server = ManagedRasa(model, free_port(), token, settings.var_dir)
        server.start()
        started = time.monotonic()
        if not server.wait_ready(300):
            raise SystemExit("the Rasa server did not start")
        print(f"Rasa server ready in {time.monotonic() - started:.1f} s ({model.name})")
        url = server.url
    client = RasaClient(url, token, timeout=10)
    try:
        texts = [normalise(text) for text, _label in load_heldout()]
        for text in texts[:20]:
            client.parse(text)  # warm up
        latencies = []
        for _ in range(rounds):
            for text in texts:
                start = time.perf_counter()
                client.parse(text)
                latencies.append((time.perf_counter() - start) * 1000)
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        print(f"/model/parse over HTTP, {len(latencies)} serial requests: "
              f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms")
    finally:
        client.close()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
