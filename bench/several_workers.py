"""Several webhook workers on PostgreSQL under load and faults (issue 14's targets).

Real `python -m bot run` processes in webhook mode on a throwaway PostgreSQL cluster, behind the round-robin
forwarder of tests/test_several_workers.py (it retries the next worker on a connection error or a non-200 answer,
as Telegram does), serving the fake Bot API. NLU: a stub answering /model/parse like Rasa after `--nlu-ms`.

  chaos   3 workers; `--reporters` reporters at once, each filing a report (story text, an album of `--photos`
          photos posted at once to the workers, contact choice, send); `--failure-rate` of the sends to the
          task-force group fail with 500; one worker SIGKILLed (and restarted) while it holds acknowledged updates,
          once a third of the reporters' updates are acknowledged; the delivery leader SIGKILLed once a tenth of the
          reports are in the group. Prints reports filed, reports in the group, duplicated, evidence photos lost,
          invalid codes, first-reply latency p50/p99 (every user action), wall time.
  steady  1 worker, then 3: fresh chats each ask a question at a steady `--rate` messages/s for `--seconds`:
          first-reply p50/p99 and answers/s; then `--burst` chats at once: time until every one is answered.

Telegram lets a bot post about 20 messages a minute into one group (python-telegram-bot's AIORateLimiter keeps to
it), so N reports of 1 + photos messages take about N x (1 + photos) / 20 minutes to reach the group, however many
workers there are: with the defaults (200 reporters, 5 photos) an hour. The filing itself is what the workers speed.
Run: .venv/bin/python bench/several_workers.py [chaos|steady|all] [--reporters 200] [--photos 5] [--rate 25]
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.e2e_load import QUESTIONS, StubRasa, pct  # noqa: E402
from bot.reports import codes  # noqa: E402
from db.enums import DeliveryKind  # noqa: E402
from tests.conftest import throwaway_postgres, wait_until  # noqa: E402
from tests.fake_telegram import TOKEN, FakeTelegram  # noqa: E402
from tests.test_reports_e2e import CODE_RE, TASKFORCE  # noqa: E402
from tests.test_several_workers import Workers, file_report_with_album, fresh_database, tally_group  # noqa: E402

GROUP_MESSAGES_PER_MINUTE = 20  # Telegram's limit for one group, kept by python-telegram-bot's AIORateLimiter


def worker_env(nlu_url: str) -> dict[str, str]:
    """The stub NLU with Rasa's usual timeout (a busy machine must not turn into fallback answers); the bot's INFO
    lines (reports filed and delivered, the lead taken, claims freed) kept for reading afterwards."""
    return {"RASA_URL": nlu_url, "RASA_TIMEOUT": "2", "LOG_LEVEL": "INFO"}


def group_codes(fake: FakeTelegram) -> set[str]:
    """Codes of the reports posted to the task-force group (report messages, not reminders)."""
    return {codes.find_code(params["text"]) or "" for method, params in fake.sent_to(TASKFORCE)
            if method == "sendMessage" and "<b>Laporan TPPO-" in params["text"] and "PENGINGAT" not in params["text"]}


def kill_a_worker_mid_run(cluster: Workers, expected_updates: int) -> str:
    """Once a third of the updates are acknowledged: SIGKILL a worker that is not the leader while it holds
    acknowledged updates it has not handled, and restart it. Returns what happened."""
    wait_until(lambda: len(cluster.forwarder.acknowledged) >= expected_updates // 3, timeout=3600, interval=0.2)
    leader = cluster.delivery_leader()
    victim = next(worker for worker in cluster.workers if worker is not leader and worker.running())
    in_flight = wait_until(lambda: cluster.in_flight(victim), timeout=120, interval=0.02)
    victim.kill()
    killed_at = time.monotonic()
    cluster.start(victim)
    return (f"worker {victim.index} SIGKILLed holding {len(in_flight)} acknowledged, unhandled update(s); "
            f"restarted and healthy after {time.monotonic() - killed_at:.1f} s")


def kill_the_leader_mid_delivery(cluster: Workers, fake: FakeTelegram,
                                 reporters: int) -> tuple[str, set[tuple[str, DeliveryKind]]]:
    """Once a tenth of the reports are in the group: SIGKILL the delivery leader (not restarted). Returns how long
    until another worker held the lead and until the group got its next report, and the messages the dead leader
    had claimed (the one it was sending may reach the group twice)."""
    wait_until(lambda: len(group_codes(fake)) >= max(1, reporters // 10), timeout=7200, interval=0.5)
    leader = wait_until(cluster.delivery_leader, timeout=30)
    in_group = len(group_codes(fake))
    leader.kill()
    killed_at = time.monotonic()
    in_doubt = cluster.in_doubt()
    successor = wait_until(cluster.delivery_leader, timeout=60, interval=0.05)
    takeover = time.monotonic() - killed_at
    wait_until(lambda: len(group_codes(fake)) > in_group or len(group_codes(fake)) >= reporters, timeout=600,
               interval=0.2)
    return (f"delivery leader (worker {leader.index}) SIGKILLed with {in_group} reports in the group and "
            f"{len(in_doubt)} message(s) claimed; worker {successor.index} led after {takeover:.1f} s; the group's "
            f"next report after {time.monotonic() - killed_at:.1f} s (the dead leader's claimed messages wait out "
            "their 1-minute lease)"), in_doubt


def chaos(args: argparse.Namespace, server_url: str, nlu_url: str) -> bool:
    fake = FakeTelegram(TOKEN).start()
    fake.fail_ratio(TASKFORCE, args.failure_rate)
    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    with fresh_database(server_url) as url:
        cluster = Workers(fake, url, tmp, count=3, extra_env=worker_env(nlu_url))
        try:
            cluster.start()
            return _chaos_run(args, cluster, fake)
        finally:
            cluster.stop()
            fake.stop()
            print(f"worker logs: {tmp}")


def _chaos_run(args: argparse.Namespace, cluster: Workers, fake: FakeTelegram) -> bool:
    chats = list(range(100_000, 100_000 + args.reporters))
    filed: dict[int, str] = {}
    errors: list[str] = []

    def reporter(chat: int) -> None:
        try:
            filed[chat] = file_report_with_album(cluster, chat, args.photos)
        except Exception as exc:  # noqa: BLE001 - counted and shown
            errors.append(f"chat {chat}: {exc}"[:400])

    started = time.monotonic()
    threads = [threading.Thread(target=reporter, args=(chat,)) for chat in chats]
    for thread in threads:
        thread.start()
    events = [kill_a_worker_mid_run(cluster, args.reporters * (10 + args.photos))]
    for thread in threads:
        thread.join()
    filing = time.monotonic() - started
    leader_event, in_doubt = kill_the_leader_mid_delivery(cluster, fake, len(filed))
    events.append(leader_event)
    tally = tally_group(cluster, filed, args.photos)  # waits until the outbox is empty
    wall = time.monotonic() - started
    minutes = len(filed) * (1 + args.photos) / GROUP_MESSAGES_PER_MINUTE
    invalid = sum(1 for code in filed.values() if not CODE_RE.fullmatch(code) or cluster.reports_filed(code) != 1)
    group_failures = sum(1 for _, params in fake.failed_calls if int(params["chat_id"]) == TASKFORCE)
    latencies = cluster.reply_latencies

    print(f"chaos: 3 workers, {args.reporters} reporters at once, each a report with an album of {args.photos} "
          f"photos; {args.failure_rate:.0%} of the group's sends failing ({group_failures} failed and retried)")
    for event in events:
        print(f"  {event}")
    print(f"  updates acknowledged: {len(cluster.forwarder.acknowledged)} ({cluster.forwarder.refused} posts "
          f"refused or unanswered, retried on the next worker)")
    repeated = sum(len(texts) - len(set(texts)) for texts in
                   ([message["text"] for message in fake.sent_messages(chat)] for chat in chats))
    print(f"  reports filed: {len(filed)} of {args.reporters} in {filing:.1f} s; reporters left without a reply: "
          f"{len(errors)}; replies sent twice (their worker killed between sending and recording them): {repeated}")
    duplicated = sum(tally.extra.values())
    in_flight = sum(count for key, count in tally.extra.items() if key in in_doubt)
    print(f"  reports in the group: {len(filed) - len(tally.missing_reports)}; duplicated: {duplicated} message(s)"
          f" ({in_flight} of them the one the killed leader was sending); "
          f"evidence photos lost: {tally.missing_photos} of {len(filed) * args.photos}; invalid codes: {invalid}")
    print(f"  first-reply latency (every user action, {len(latencies)}): p50 {pct(latencies, .5) * 1000:.0f} ms, "
          f"p99 {pct(latencies, .99) * 1000:.0f} ms")
    print(f"  wall time: {wall:.0f} s ({len(filed) * (1 + args.photos)} messages for the group, which takes about "
          f"{GROUP_MESSAGES_PER_MINUTE} a minute after a first burst: {minutes:.1f} min)")
    for error in errors[:10]:
        print(f"    {error}")
    return not errors and len(filed) == args.reporters and not (tally.missing_reports or tally.missing_photos
                                                                 or invalid or set(tally.extra) - in_doubt)


def steady(args: argparse.Namespace, server_url: str, nlu_url: str, count: int) -> None:
    fake = FakeTelegram(TOKEN).start()
    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    with fresh_database(server_url) as url:
        cluster = Workers(fake, url, tmp, count=count, extra_env=worker_env(nlu_url))
        try:
            cluster.start()
            chat_ids = itertools.count(200_000)
            ask(cluster, [next(chat_ids) for _ in range(count * 3)], rate=5)  # warm up every worker
            total = int(args.rate * args.seconds)
            latencies, answered_per_second = ask(cluster, [next(chat_ids) for _ in range(total)], args.rate)
            _, burst_per_second = ask(cluster, [next(chat_ids) for _ in range(args.burst)], rate=None)
            print(f"steady, {count} worker(s): {args.rate:g} messages/s for {args.seconds:g} s: first reply p50 "
                  f"{pct(latencies, .5) * 1000:.0f} ms, p99 {pct(latencies, .99) * 1000:.0f} ms, answered "
                  f"{answered_per_second:.1f}/s; a burst of {args.burst} at once answered at "
                  f"{burst_per_second:.1f}/s")
        finally:
            cluster.stop()
            fake.stop()


def ask(cluster: Workers, chats: list[int], rate: float | None) -> tuple[list[float], float]:
    """Each chat asks one question, at `rate` per second (None: all at once); returns the first-reply latencies
    and the answers per second from the first question to the last first reply."""
    fake = cluster.fake
    posted: dict[int, float] = {}
    started = time.monotonic()

    def post(index: int, chat: int) -> None:
        if rate is not None:
            time.sleep(max(0.0, started + index / rate - time.monotonic()))
        update_id = fake.send_text(chat, QUESTIONS[index % len(QUESTIONS)])
        posted[chat] = time.monotonic()
        cluster.send(update_id)

    with ThreadPoolExecutor(64) as pool:
        list(pool.map(post, range(len(chats)), chats))
    wait_until(lambda: all(fake.sent_messages(chat) for chat in chats), timeout=600, interval=0.05)
    firsts = {chat: fake.sent_messages(chat)[0]["_at"] for chat in chats}
    latencies = [firsts[chat] - posted[chat] for chat in chats]
    return latencies, len(chats) / (max(firsts.values()) - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", nargs="?", default="all", choices=["chaos", "steady", "all"])
    parser.add_argument("--reporters", type=int, default=200)
    parser.add_argument("--photos", type=int, default=5)
    parser.add_argument("--failure-rate", type=float, default=0.2)
    parser.add_argument("--rate", type=float, default=25.0, help="messages/s in the steady run")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady run")
    parser.add_argument("--burst", type=int, default=300, help="questions at once after the steady run")
    parser.add_argument("--nlu-ms", type=float, default=20.0, help="the stub NLU's answer time")
    args = parser.parse_args()
    stub = StubRasa(args.nlu_ms / 1000)
    print(f"NLU: stub answering in {args.nlu_ms:.0f} ms; {os.cpu_count()} CPUs")
    ok = True
    try:
        with throwaway_postgres() as (server_url, _stop):
            if args.scenario in ("steady", "all"):
                for count in (1, 3):
                    steady(args, server_url, stub.url, count)
            if args.scenario in ("chaos", "all"):
                ok = chaos(args, server_url, stub.url)
    finally:
        stub.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
