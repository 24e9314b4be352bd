"""Many reporters at once while the task-force group fails a share of deliveries.

REPORTERS simulated reporters (threads) file a full report each, concurrently, through the real
`python -m bot run` process and the local fake Bot API; the fake fails FAILURE_RATE of the sends to the
task-force group with HTTP 500. Prints filing throughput, the time until every report reached the group,
and the lost and duplicated reports (both must be 0).

Note: python-telegram-bot's AIORateLimiter keeps to Telegram's limit of 20 messages a minute per group,
so delivery to one group takes at least REPORTERS / 20 minutes however fast the bot is.
Run: .venv/bin/python bench/report_delivery.py [--reporters 200] [--failure-rate 0.2]
"""
from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.reports import codes  # noqa: E402
from bot.reports.crypto import new_key  # noqa: E402
from tests.conftest import free_port, wait_until  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402

TOKEN = "123456:BENCH-token-for-the-fake-bot-api-000"
TASKFORCE = -1009000
STEPS = [("text", "/lapor"), ("press", "report:danger_no"), ("story", None), ("press", "report:cat_calo"),
         ("press", "report:where_ntt"), ("press", "report:reg_5301"), ("text", "Pak X, PT Contoh, 0812 0000 0000"),
         ("press", "report:when_bulan"), ("press", "report:evidence_done"),
         ("text", "💬 Cukup kabari lewat bot ini"), ("press", "report:send")]


def reporter(fake: FakeTelegram, chat: int, filed: dict, errors: list) -> None:
    try:
        for kind, value in STEPS:
            before = len(fake.sent_messages(chat))
            if kind == "press":
                fake.press(chat, value)
            else:
                fake.send_text(chat, value or f"Laporan uji nomor {chat}: saudara dibawa calo tanpa dokumen")
            fake.wait_for_messages(chat, before + 1, timeout=600)
        code = fake.wait_for(lambda: next((codes.find_code(m["text"]) for m in fake.sent_messages(chat)
                                           if codes.find_code(m["text"])), None), timeout=600)
        filed[chat] = (code, time.monotonic())
    except Exception as exc:  # noqa: BLE001 - counted and reported
        errors.append(f"chat {chat}: {exc!r}"[:300])


def staff_codes(fake: FakeTelegram) -> collections.Counter:
    found = collections.Counter()
    for method, params in fake.sent_to(TASKFORCE):
        if method == "sendMessage" and "<b>Laporan TPPO-" in params["text"] and "PENGINGAT" not in params["text"]:
            found[codes.find_code(params["text"])] += 1
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reporters", type=int, default=200)
    parser.add_argument("--failure-rate", type=float, default=0.2)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    fake = FakeTelegram(TOKEN).start()
    fake.fail_ratio(TASKFORCE, args.failure_rate)
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fake.url,
           "DATABASE_URL": f"sqlite:///{tmp / 'bot.sqlite3'}", "BOT_VAR_DIR": str(tmp),
           "RASA_URL": f"http://127.0.0.1:{free_port()}", "RASA_TIMEOUT": "0.2",  # reports need no NLU
           "TASKFORCE_CHAT_ID": str(TASKFORCE), "REPORT_ENCRYPTION_KEY": new_key(), "LOG_LEVEL": "WARNING"}
    with (tmp / "bot.log").open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: fake.calls_to("setMyCommands"), timeout=60)
        filed: dict[int, tuple[str, float]] = {}
        errors: list[str] = []
        chats = [20000 + i for i in range(args.reporters)]
        started = time.monotonic()
        threads = [threading.Thread(target=reporter, args=(fake, chat, filed, errors)) for chat in chats]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        all_filed = time.monotonic() - started
        wanted = {code for code, _ in filed.values()}
        deadline = time.monotonic() + 3600
        while not wanted <= set(staff_codes(fake)) and time.monotonic() < deadline:
            time.sleep(1)
        all_delivered = time.monotonic() - started
        time.sleep(5)  # let any duplicate show itself
        delivered = staff_codes(fake)
        failed = sum(1 for _, p in fake.failed_calls if int(p["chat_id"]) == TASKFORCE)
        print(f"reporters: {args.reporters}, each {len(STEPS)} steps; failure rate to the group: {args.failure_rate}")
        print(f"all reports filed after {all_filed:.1f} s: {len(filed) / all_filed:.2f} reports/s, "
              f"{len(filed) * len(STEPS) / all_filed:.1f} reporter messages/s")
        print(f"every report in the task-force group after {all_delivered:.1f} s "
              f"({len(delivered) / all_delivered * 60:.1f} reports/min); failed sends retried: {failed}")
        lost = args.reporters - len(set(delivered) & wanted)
        duplicated = sum(1 for count in delivered.values() if count > 1)
        print(f"lost: {lost}, duplicated: {duplicated}, reporter errors: {len(errors)}")
        for error in errors[:5]:
            print("  ", error)
        return 0 if lost == duplicated == len(errors) == 0 else 1
    finally:
        process.terminate()
        process.wait(timeout=60)
        fake.stop()


if __name__ == "__main__":
    sys.exit(main())
