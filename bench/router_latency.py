"""What the router adds to a turn (issue 10 target: <= 5 ms p99 at 10,000 agencies): the recognisers that run on
every typed message besides NLU - the danger net, company mentions, licence numbers, the registry lookups and the
country named alone. FAQ questions (from content/faq) show the overhead on ordinary questions; for messy agency
questions the lookup is the answer itself.

Run: .venv/bin/python bench/router_latency.py
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
sys.path.insert(0, str(ROOT / "bench"))

from agency_lookup import messy, synthetic, write_csv  # noqa: E402

from bot.content import Content, ContentStore  # noqa: E402
from bot.dialogue import countries  # noqa: E402
from bot.nlu.danger import danger_level  # noqa: E402
from bot.nlu.phrases import says  # noqa: E402
from bot.registry.cli import import_agencies  # noqa: E402
from bot.registry.mentions import company_mentions  # noqa: E402
from bot.registry.service import MAX_TEXT, AgencyRegistry  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from db.agencies import AgencyRepository  # noqa: E402
from db.session import make_engine, make_session_factory  # noqa: E402

MESSAGES = 2_000
DANGER = ("bapa sy dipukul majikan di sabah, paspor ditahan", "beta sonde dikasi pulang sama bos",
          "kami dipindah tengah malam lewat hutan", "gaji 3 bulan blm dibayar, bos ancam kalau lapor")


def recognise(registry: AgencyRegistry, content: Content, text: str) -> None:
    """The router's work before NLU, as `Engine._on_text` does it."""
    danger_level(text)
    says(text, "status")
    says(text, "report")
    if registry.by_licence(text):
        return
    mentions = company_mentions(text[:MAX_TEXT])[:3]
    found: set[int] = set()
    for mention in mentions:
        found.update(registry.lookup_mention(mention.text).agency_ids)
        registry.named_in(mention.text)
    named = registry.named_in(text)
    if not mentions and not named and len(text) <= 80:
        registry.exact_lookup(text)
        registry.partial_names(text)
    registry.pairs_in(text, found | set(named))
    if len(countries.countries_in_text(content, text)) == 1:
        countries.only_the_country(content, text)


def main() -> None:
    rng = random.Random(5)
    content = ContentStore(ROOT / "content").current()
    questions = [q for topic in content.topics.values() for q in topic.questions]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        rows = synthetic(rng)
        write_csv(tmp_path / "agencies.csv", rows, rng)
        database_url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
        settings = load_settings({"DATABASE_URL": database_url}, env_file=tmp_path / ".env")
        assert import_agencies(settings, tmp_path / "agencies.csv", "bench", dry_run=False, out=io.StringIO()) == 0
        engine = make_engine(settings.database_url)
        registry = AgencyRegistry(AgencyRepository(make_session_factory(engine)))
        registry.lookup("warm up")
        faq = [rng.choice(questions) for _ in range(MESSAGES)]
        agency = [messy(*rng.choice(rows)[:2], rng) for _ in range(MESSAGES // 4)]
        danger = [rng.choice(DANGER) for _ in range(MESSAGES // 10)]
        # About 1% of the FAQ questions name a company after PT ("PT tagih 6 juta ..."): they are looked up like an
        # agency question and are the slowest FAQ questions, so the questions naming no company are shown apart too.
        unnamed = [text for text in faq if not company_mentions(text[:MAX_TEXT])]
        for name, messages in (("FAQ questions (all)", faq), ("FAQ questions naming no company", unnamed),
                               ("danger messages", danger), ("agency questions (the lookup is the answer)", agency)):
            latencies = []
            for text in messages:
                start = time.perf_counter()
                recognise(registry, content, text)
                latencies.append((time.perf_counter() - start) * 1000)
            latencies.sort()
            p99 = latencies[int(0.99 * len(latencies)) - 1]
            print(f"{name}, {len(messages)} at {len(rows)} agencies: p50 {statistics.median(latencies):.2f} ms, "
                  f"p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms")
        # Two words of one registered name in an FAQ question would ask "did you mean" that company instead.
        taken = sorted({q for q in questions if registry.pairs_in(q, set())})
        print(f"FAQ questions (of {len(questions)}) where two words may name one of {len(rows)} agencies: "
              f"{len(taken)} (its synthetic names share most words, so this says little)"
              + "".join(f"\n  {q}" for q in taken[:10]))
        engine.dispose()


if __name__ == "__main__":
    main()
