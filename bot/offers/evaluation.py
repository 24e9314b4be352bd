"""`python -m bot offers eval`: the job-offer checker measured on tests/offers/offers.yml.

Reports precision and recall per sign, the verdict confusion, the share of legal offers marked BAHAYA, the recall
of serious signs, and the engine time of `analyse` for a 2,000-character offer (p50/p99, registry lookups
included). Offers are checked against a fresh SQLite registry holding the seed data (sanction news and demo
list), the same registry every new installation starts with, so the figures do not depend on local imports.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.content_models import Country
from bot.offers.analyse import BAHAYA, HATI_HATI, TIDAK_DITEMUKAN, analyse, looks_like_offer
from bot.offers.rules import RULES_FILE, OfferRules, load_rules
from bot.registry.service import AgencyRegistry
from bot.settings import PROJECT_ROOT
from bot.yaml_files import read_yaml

CASES_FILE = PROJECT_ROOT / "tests" / "offers" / "offers.yml"
NOT_AN_OFFER = "none"
TARGET_SERIOUS_RECALL = 0.90
TARGET_LEGAL_BAHAYA = 0.10
TARGET_P99_MS = 100.0
TIMED_CHARS = 2000
TIMED_RUNS = 300


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    signs: frozenset[str]
    verdict: str  # bahaya | hati_hati | tidak_ditemukan | none (not a job offer)


@dataclass
class Report:
    cases: int = 0
    per_sign: dict[str, Counter[str]] = field(default_factory=dict)  # sign -> Counter(tp, fp, fn)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)  # (expected verdict, verdict given)
    legal: int = 0
    legal_bahaya: int = 0
    serious_tp: int = 0
    serious_fn: int = 0
    offers_seen: int = 0  # looks_like_offer on the offers ...
    non_offers: int = 0  # ... and on the texts that are no offer
    non_offers_seen: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    timed_chars: int = 0
    mistakes: list[tuple[str, list[str], list[str]]] = field(default_factory=list)  # (id, false signs, missed)

    @property
    def serious_recall(self) -> float:
        total = self.serious_tp + self.serious_fn
        return self.serious_tp / total if total else 1.0

    @property
    def legal_bahaya_share(self) -> float:
        return self.legal_bahaya / self.legal if self.legal else 0.0

    def failures(self) -> list[str]:
        """Missed quality targets. Engine time is reported, not enforced: on a loaded machine its tail measures the
        neighbours (bench/ is the place for latency gates)."""
        problems = []
        if self.serious_recall < TARGET_SERIOUS_RECALL:
            problems.append(f"recall of serious signs {self.serious_recall:.1%} < {TARGET_SERIOUS_RECALL:.0%}")
        if self.legal_bahaya_share > TARGET_LEGAL_BAHAYA:
            problems.append(f"legal offers marked BAHAYA {self.legal_bahaya_share:.1%} > {TARGET_LEGAL_BAHAYA:.0%}")
        return problems


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    """The labelled offers: a YAML list of {id, text, signs: [...], verdict}."""
    raw = read_yaml(path) or []
    if isinstance(raw, dict):
        raw = raw.get("offers") or []
    cases = []
    for entry in raw:
        verdict = str(entry.get("verdict") or "")
        if verdict not in (BAHAYA, HATI_HATI, TIDAK_DITEMUKAN, NOT_AN_OFFER):
            raise ValueError(f"{path}: offer {entry.get('id')!r}: verdict {verdict!r} is not one of bahaya, "
                             f"hati_hati, tidak_ditemukan, none")
        cases.append(Case(str(entry["id"]), str(entry["text"]), frozenset(entry.get("signs") or ()), verdict))
    return cases


def evaluate(cases: list[Case], rules: OfferRules, registry: AgencyRegistry | None, countries: Mapping[str, Country],
             timed_runs: int = TIMED_RUNS) -> Report:
    serious = {rule.id for rule in rules.signs if rule.serious}
    report = Report(cases=len(cases))
    for sign in sorted({rule.id for rule in rules.signs} | {s for case in cases for s in case.signs}):
        report.per_sign[sign] = Counter(tp=0, fp=0, fn=0)
    for case in cases:
        check = analyse(case.text, rules, registry, countries)
        found = check.sign_ids
        for sign in found & case.signs:
            report.per_sign[sign]["tp"] += 1
        for sign in found - case.signs:
            report.per_sign[sign]["fp"] += 1
        for sign in case.signs - found:
            report.per_sign[sign]["fn"] += 1
        report.serious_tp += len(found & case.signs & serious)
        report.serious_fn += len((case.signs - found) & serious)
        report.confusion[(case.verdict, check.verdict)] += 1
        if case.verdict == NOT_AN_OFFER:
            report.non_offers += 1
            report.non_offers_seen += looks_like_offer(case.text)
        else:
            report.offers_seen += looks_like_offer(case.text)
        if case.verdict in (HATI_HATI, TIDAK_DITEMUKAN) and not (case.signs & serious):
            report.legal += 1  # an offer through the official route: no serious sign
            report.legal_bahaya += check.verdict == BAHAYA
        if found != case.signs:
            report.mistakes.append((case.id, sorted(found - case.signs), sorted(case.signs - found)))
    text = _long_offer([case.text for case in cases if case.verdict != NOT_AN_OFFER])
    report.timed_chars = len(text)
    timings = []
    for _ in range(timed_runs):
        started = time.perf_counter()
        analyse(text, rules, registry, countries)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    report.p50_ms = statistics.median(timings)
    report.p99_ms = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    return report


def _long_offer(texts: list[str]) -> str:
    """A realistic 2,000-character offer: offers from the set joined, cut at a space."""
    joined = ""
    for text in texts * 50:
        if len(joined) >= TIMED_CHARS:
            break
        joined += text.strip() + "\n"
    cut = joined[:TIMED_CHARS]
    return cut[:cut.rfind(" ")] if " " in cut else cut


def render(report: Report, verbose: bool = False) -> str:
    lines = [f"Job-offer checker on {report.cases} labelled texts", "",
             f"{'sign':22} {'prec':>6} {'recall':>6} {'tp':>4} {'fp':>4} {'fn':>4}"]
    for sign, counts in report.per_sign.items():
        tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
        precision = f"{tp / (tp + fp):.0%}" if tp + fp else "-"
        recall = f"{tp / (tp + fn):.0%}" if tp + fn else "-"
        lines.append(f"{sign:22} {precision:>6} {recall:>6} {tp:4} {fp:4} {fn:4}")
    verdicts = (BAHAYA, HATI_HATI, TIDAK_DITEMUKAN)
    lines += ["", "verdict confusion (rows: expected, columns: given)",
              f"{'':16}" + "".join(f"{v:>16}" for v in verdicts)]
    for expected in (*verdicts, NOT_AN_OFFER):
        row = [report.confusion[(expected, given)] for given in verdicts]
        if any(row):
            lines.append(f"{expected:16}" + "".join(f"{n:16}" for n in row))
    offers = report.cases - report.non_offers
    lines += [
        "",
        f"recall of serious signs: {report.serious_recall:.1%} ({report.serious_tp}/"
        f"{report.serious_tp + report.serious_fn}; target >= {TARGET_SERIOUS_RECALL:.0%})",
        f"legal offers marked BAHAYA: {report.legal_bahaya_share:.1%} ({report.legal_bahaya}/{report.legal}; "
        f"target <= {TARGET_LEGAL_BAHAYA:.0%})",
        f"looks_like_offer: {report.offers_seen}/{offers} offers recognised, "
        f"{report.non_offers_seen}/{report.non_offers} non-offers taken for offers",
        f"engine time for a {report.timed_chars}-character offer: p50 {report.p50_ms:.1f} ms, "
        f"p99 {report.p99_ms:.1f} ms (target < {TARGET_P99_MS:.0f} ms)",
    ]
    if verbose and report.mistakes:
        lines += ["", "offers where the signs differ (false signs / missed signs):"]
        lines += [f"  {case_id}: +{','.join(extra) or '-'} / -{','.join(missed) or '-'}"
                  for case_id, extra, missed in report.mistakes]
    return "\n".join(lines)


def run(content_dir: Path, cases_path: Path = CASES_FILE, verbose: bool = False, out: TextIO = sys.stdout) -> int:
    """Evaluate against a throwaway registry; print the report; 1 when a target is missed."""
    from bot.app import prepare_database
    from bot.content import Content
    from db.agencies import AgencyRepository

    content = Content(content_dir)
    rules = load_rules(content_dir / RULES_FILE)
    cases = load_cases(cases_path)
    with tempfile.TemporaryDirectory(prefix="offers-eval-") as folder:
        db_engine, sessions = prepare_database(f"sqlite:///{Path(folder) / 'registry.sqlite3'}")
        try:
            report = evaluate(cases, rules, AgencyRegistry(AgencyRepository(sessions)), content.countries)
        finally:
            db_engine.dispose()
    print(render(report, verbose), file=out)
    failures = report.failures()
    for failure in failures:
        print(f"TARGET MISSED: {failure}", file=out)
    return 1 if failures else 0
