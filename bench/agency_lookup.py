"""Agency registry at scale: import time for 10,000 synthetic agencies with branches, and lookup latency
(p50/p99) over 1,000 messy queries (typos, missing "PT", extra words, licence numbers with other separators).

Targets (issue 5): lookup p99 < 20 ms; import < 30 s.
Run: .venv/bin/python bench/agency_lookup.py
"""
from __future__ import annotations

import io
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.registry.cli import import_agencies  # noqa: E402
from bot.registry.service import AgencyRegistry  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from db.agencies import AgencyRepository  # noqa: E402
from db.session import make_engine, make_session_factory  # noqa: E402

AGENCIES = 10_000
QUERIES = 1_000
WORDS = ("sinar", "jaya", "abadi", "bintang", "timur", "karya", "mandiri", "cahaya", "nusantara", "sejahtera",
         "mitra", "utama", "bumi", "flobamora", "samudra", "lestari", "harapan", "makmur", "sentosa", "global",
         "perkasa", "gemilang", "anugerah", "berkah", "surya", "lintas", "putra", "putri", "intan", "permata")
REGENCIES = ("Kota Kupang", "Kabupaten Belu", "Kabupaten Malaka", "Kabupaten Ende", "Kabupaten Sikka")
STATUSES = ("Aktif", "Aktif", "Aktif", "penghentian sementara", "dicabut", "tidak aktif")


def synthetic(rng: random.Random) -> list[tuple[str, str, str]]:
    names: set[str] = set()
    rows = []
    while len(rows) < AGENCIES:
        name = " ".join(rng.sample(WORDS, rng.choice((2, 3, 3, 4))))
        if name in names:
            continue
        names.add(name)
        rows.append((f"PT {name.title()}", f"KEP-{len(rows) + 1}/{rng.randint(2015, 2026)}", rng.choice(STATUSES)))
    return rows


def write_csv(path: Path, rows, rng: random.Random) -> None:
    lines = ["nama,nomor_izin,tanggal_izin,status,kota,provinsi,kantor_cabang"]
    for name, licence, status in rows:
        branches = "; ".join(f"{r}, Nusa Tenggara Timur" for r in rng.sample(REGENCIES, rng.randint(0, 2)))
        licence_date = f"{rng.randint(1, 28)}-0{rng.randint(1, 9)}-2020"
        lines.append(f'{name},{licence},{licence_date},{status},Jakarta,DKI Jakarta,"{branches}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def messy(name: str, licence: str, rng: random.Random) -> str:
    words = name.split()[1:]
    roll = rng.random()
    if roll < 0.15:
        return licence.replace("-", " ").replace("/", ".").lower()
    if roll < 0.35:
        i = rng.randrange(len(words))
        word = words[i]
        if len(word) > 3:
            j = rng.randrange(1, len(word) - 1)
            words[i] = word[:j] + word[j + 1:]
    if roll > 0.8:
        rng.shuffle(words)
    prefix = rng.choice(("", "pt ", "PT. ", "cek "))
    suffix = rng.choice(("", " resmi gk?", " di kupang", " ada izin ko"))
    return prefix + " ".join(words).lower() + suffix


def main() -> None:
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        rows = synthetic(rng)
        csv_path = tmp_path / "agencies.csv"
        write_csv(csv_path, rows, rng)
        database_url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
        settings = load_settings({"DATABASE_URL": database_url}, env_file=tmp_path / ".env")
        started = time.monotonic()
        status = import_agencies(settings, csv_path, "bench", dry_run=False, out=io.StringIO())
        import_seconds = time.monotonic() - started
        assert status == 0
        print(f"import of {AGENCIES} agencies with branches: {import_seconds:.1f} s")

        engine = make_engine(settings.database_url)
        registry = AgencyRegistry(AgencyRepository(make_session_factory(engine)))
        registry.lookup("warm up")
        queries = [messy(*rng.choice(rows)[:2], rng) for _ in range(QUERIES)]
        latencies = []
        kinds: dict[str, int] = {}
        for query in queries:
            start = time.perf_counter()
            result = registry.lookup(query)
            latencies.append((time.perf_counter() - start) * 1000)
            kinds[result.kind] = kinds.get(result.kind, 0) + 1
        latencies.sort()
        p99 = latencies[int(0.99 * len(latencies)) - 1]
        print(f"lookup over {QUERIES} messy queries: p50 {statistics.median(latencies):.2f} ms, p99 {p99:.2f} ms, "
              f"max {latencies[-1]:.2f} ms; results {kinds}")
        engine.dispose()


if __name__ == "__main__":
    main()
