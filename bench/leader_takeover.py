"""How fast the delivery lead passes to another process when its leader dies or hangs; whether two ever lead at once.

PROCESSES real processes contend for the lead the way the delivery worker does (`Leadership.try_acquire()` every
LEAD_POLL_SECONDS, the default lease of 10 s on SQLite), each printing when it starts and stops leading. The leader
is killed with SIGKILL ROUNDS times, then frozen with SIGSTOP once (a hung process); a fresh process replaces each, as
systemd would restart it. Prints the time until another process leads, and how often a process began to lead while
another live one still said it led.
On SQLite (a file in a temp dir) and, when the server binaries are installed, on a throwaway PostgreSQL cluster.

Run: .venv/bin/python bench/leader_takeover.py [--processes 3] [--rounds 5] [--backend sqlite|postgresql|both]
"""
from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db.migrate import upgrade  # noqa: E402

CONTENDER = """
import sys, time
from bot.channels.telegram_delivery import LEAD_POLL_SECONDS
from db.leases import Leadership
from db.session import make_engine, make_session_factory
leadership = Leadership(make_session_factory(make_engine(sys.argv[1])), "delivery")
leading = False
while True:
    now_leading = leadership.try_acquire()
    if now_leading != leading:
        print("lead" if now_leading else "lost", time.time(), flush=True)
    leading = now_leading
    time.sleep(LEAD_POLL_SECONDS)
"""


class Contender:
    def __init__(self, url: str, events: list[tuple[float, str, int]], lock: threading.Lock):
        self.process = subprocess.Popen([sys.executable, "-c", CONTENDER, url], cwd=ROOT, stdout=subprocess.PIPE,
                                        text=True)
        self.leading = False
        threading.Thread(target=self._read, args=(events, lock), daemon=True).start()

    def _read(self, events: list[tuple[float, str, int]], lock: threading.Lock) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            what, at = line.split()
            with lock:
                self.leading = what == "lead"
                events.append((float(at), what, self.process.pid))


def run(url: str, processes: int, rounds: int) -> None:
    upgrade(url)
    events: list[tuple[float, str, int]] = []
    lock = threading.Lock()
    contenders = [Contender(url, events, lock) for _ in range(processes)]
    takeovers: dict[str, list[float]] = {"killed": [], "frozen": []}
    try:
        for how in ["killed"] * rounds + ["frozen"]:
            leader = wait_for_leader(contenders, lock)
            stopped = time.time()
            if how == "frozen":  # a hung leader: alive, holding its connection, renewing nothing
                leader.process.send_signal(signal.SIGSTOP)
            else:
                leader.process.kill()
                leader.process.wait()
            with lock:
                leader.leading = False
                events.append((stopped, "dead", leader.process.pid))
            contenders.remove(leader)
            contenders.append(Contender(url, events, lock))  # as systemd restarts a dead one
            wait_for_leader(contenders, lock)
            with lock:
                took = min(at for at, what, _pid in events if what == "lead" and at >= stopped)
            takeovers[how].append(took - stopped)
            if how == "frozen":
                leader.process.kill()
                leader.process.wait()
    finally:
        for contender in contenders:
            contender.process.kill()
            contender.process.wait()
    killed = takeovers["killed"]
    print(f"  leader killed (SIGKILL) {len(killed)} times: another leads after min {min(killed):.2f} s, median "
          f"{statistics.median(killed):.2f} s, max {max(killed):.2f} s")
    print(f"  leader frozen (SIGSTOP): another leads after {takeovers['frozen'][0]:.2f} s")
    print(f"  two leaders at once: {overlaps(events)} times")


def wait_for_leader(contenders: list[Contender], lock: threading.Lock, timeout: float = 60) -> Contender:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with lock:
            leaders = [c for c in contenders if c.leading]
        if leaders:
            return leaders[0]
        time.sleep(0.02)
    raise SystemExit("no process took the lead within a minute")


def overlaps(events: list[tuple[float, str, int]]) -> int:
    """Leads that began while another live process still said it led (a frozen one counts as dead: it does nothing
    until thawed, then finds the lead lost at its next renewal)."""
    leading: set[int] = set()
    found = 0
    for _at, what, pid in sorted(events):
        if what == "lead":
            found += bool(leading - {pid})
            leading.add(pid)
        else:  # it stood down, or was killed
            leading.discard(pid)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            print(f"SQLite, {args.processes} processes:")
            run(f"sqlite:///{tmp}/bot.sqlite3", args.processes, args.rounds)
    if args.backend in ("postgresql", "both"):
        from tests.conftest import throwaway_postgres

        with throwaway_postgres() as (url, _stop):
            print(f"PostgreSQL, {args.processes} processes:")
            run(url, args.processes, args.rounds)


if __name__ == "__main__":
    main()
