"""The numbers of a period, from the anonymous counters and the reports' plain columns (never decrypted).

`build_summary` returns exact numbers; whatever is posted or written for people shows counts under 5 as "< 5"
(`shown()`), and the charts draw them as a hatched bar of one height.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from bot.content import WITA, Content
from bot.yaml_files import parse_yaml
from db.insights import CountRow, InsightRepository, ReportFacts

SMALL = 5  # counts 1..SMALL-1 are shown as "< 5"
TOP_TOPICS = 8
TOP_PLACES = 8
TOP_UNKNOWN_AGENCIES = 8
TOP_SIGNS = 8
MAX_WEEKLY_BARS = 10  # longer periods are shown by month
SMALL_TALK = frozenset({"greet", "goodbye", "thanks", "affirm", "deny", "menu", "bot_challenge"})
MISSED = ("unsure", "clarify", "not_understood")
# The names in content/templates/insights_labels.j2: section ("titles", "topics", "verdicts", ...) -> key -> name.
Labels = dict[str, dict[str, str]]


def shown(n: int) -> str:
    """A count as people see it: "< 5" for 1 to 4."""
    return f"< {SMALL}" if 0 < n < SMALL else f"{n:,}".replace(",", ".")


def labels_of(content: Content) -> Labels:
    """The Indonesian names used in charts and summaries (content/templates/insights_labels.j2, YAML)."""
    labels: Labels = parse_yaml(content.render("insights_labels")) or {}
    return labels


@dataclass(frozen=True)
class Bucket:
    """A week (Monday start) or a month of the period; `label` as shown under a bar."""

    start: date
    end: date  # exclusive
    label: str


@dataclass
class Summary:
    start: date
    end: date  # inclusive
    buckets: list[Bucket]
    answered: list[int]  # per bucket
    missed: list[int]  # per bucket: not understood, asked back, or answered unsure
    outcomes: dict[str, int]
    topics: list[tuple[str, int]]  # (label, typed questions and buttons), most asked first
    topics_by_bucket: dict[str, list[int]]  # the same top topics, per week or month
    agency_verdicts: list[tuple[str, int]]
    agency_checks: int
    unknown_agencies: list[tuple[str, int]]
    offers_checked: int
    offer_verdicts: list[tuple[str, int]]
    offer_signs: list[tuple[str, int]]
    reports: int
    reports_by_bucket: list[int]
    reports_by_category: list[tuple[str, int]]
    reports_by_place: list[tuple[str, int]]
    reports_by_status: list[tuple[str, int]]
    urgent_reports: int
    response_median_hours: float | None
    response_p90_hours: float | None
    responded: int
    waiting: int
    labels: Labels = field(default_factory=dict, repr=False)

    @property
    def questions(self) -> int:
        return sum(self.answered) + sum(self.missed)

    @property
    def missed_share(self) -> float | None:
        return sum(self.missed) / self.questions if self.questions else None


def buckets_of(start: date, end: date) -> list[Bucket]:
    """Weeks (from Monday) covering start..end, or months when there would be more than MAX_WEEKLY_BARS weeks."""
    from bot.content import MONTHS_ID

    monday = start - timedelta(days=start.weekday())
    weeks = []
    while monday <= end:
        weeks.append(Bucket(monday, monday + timedelta(days=7), f"{monday.day} {MONTHS_ID[monday.month - 1][:3]}"))
        monday += timedelta(days=7)
    if len(weeks) <= MAX_WEEKLY_BARS:
        return weeks
    months = []
    first = start.replace(day=1)
    while first <= end:
        following = (first + timedelta(days=32)).replace(day=1)
        months.append(Bucket(first, following, f"{MONTHS_ID[first.month - 1][:3]} {first.year % 100:02d}"))
        first = following
    return months


def _bucket_index(buckets: list[Bucket], day: date) -> int | None:
    for index, bucket in enumerate(buckets):
        if bucket.start <= day < bucket.end:
            return index
    return None


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (median = 0.5)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def topic_label(content: Content, labels: Labels, key: str) -> str:
    if key.startswith("faq/") and key[4:] in content.topics:
        return content.topics[key[4:]].title
    if key.startswith("country:"):
        country = content.countries.get(key.split(":", 1)[1])
        if country:
            return f"Negara: {country.name}"
    return (labels.get("topics") or {}).get(key, key)


@dataclass
class _Tally:
    """The period's counters added up by kind; `answered`, `missed` and `topic_buckets` also per bucket."""

    buckets: list[Bucket]
    answered: list[int]
    missed: list[int]
    outcomes: Counter[str] = field(default_factory=Counter)
    topics: Counter[str] = field(default_factory=Counter)
    topic_buckets: dict[str, list[int]] = field(default_factory=dict)
    agencies: Counter[str] = field(default_factory=Counter)
    unknown_agencies: Counter[str] = field(default_factory=Counter)
    offers: Counter[str] = field(default_factory=Counter)
    signs: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, rows: Iterable[CountRow], buckets: list[Bucket]) -> _Tally:
        tally = cls(buckets, [0] * len(buckets), [0] * len(buckets))
        for row in rows:
            tally.add(row)
        return tally

    def add(self, row: CountRow) -> None:
        plain = {"agency": self.agencies, "agency_unknown": self.unknown_agencies, "offer": self.offers,
                 "offer_sign": self.signs}
        if row.kind == "outcome":
            self._add_outcome(row)
        elif row.kind in ("topic", "button") and row.key not in SMALL_TALK:
            self._add_topic(row)
        elif row.kind in plain:
            plain[row.kind][row.key] += row.count

    def _add_outcome(self, row: CountRow) -> None:
        self.outcomes[row.key] += row.count
        index = _bucket_index(self.buckets, row.day)
        if index is not None:
            if row.key == "answered":
                self.answered[index] += row.count
            elif row.key in MISSED:
                self.missed[index] += row.count

    def _add_topic(self, row: CountRow) -> None:
        self.topics[row.key] += row.count
        index = _bucket_index(self.buckets, row.day)
        if index is not None:
            self.topic_buckets.setdefault(row.key, [0] * len(self.buckets))[index] += row.count


def build_summary(repository: InsightRepository, content: Content, start: date, end: date) -> Summary:
    """The figures for start..end inclusive (days in WITA)."""
    labels = labels_of(content)
    buckets = buckets_of(start, end)
    tally = _Tally.of(repository.counts(start, end), buckets)
    top_topics = _top(_relabel(tally.topics, lambda k: topic_label(content, labels, k)), TOP_TOPICS)
    by_label = _topic_buckets_by_label(content, labels, tally)
    reports = repository.reports(_start_of(start), _start_of(end + timedelta(days=1)))
    responses = [(r.first_response_at - r.created_at).total_seconds() / 3600 for r in reports
                 if r.first_response_at is not None]
    categories = content.report_options.categories
    status_names = content.report_options.statuses
    return Summary(
        start=start, end=end, buckets=buckets, answered=tally.answered, missed=tally.missed,
        outcomes=dict(tally.outcomes),
        topics=top_topics,
        topics_by_bucket={label: by_label[label] for label, _n in top_topics},
        agency_verdicts=_top(_agency_verdicts(repository, tally.agencies, labels.get("verdicts") or {}), None),
        agency_checks=sum(tally.agencies.values()),
        unknown_agencies=_top(tally.unknown_agencies, TOP_UNKNOWN_AGENCIES),
        offers_checked=tally.offers.get("checked", 0),
        offer_verdicts=_top(_offer_verdicts(tally.offers, labels.get("offer_verdicts") or {}), None),
        offer_signs=_top(_relabel(tally.signs, sign_titles(content)), TOP_SIGNS),
        reports=len(reports), reports_by_bucket=_reports_by_bucket(reports, buckets),
        reports_by_category=_top(Counter(_category_label(categories, r.category) for r in reports), None),
        reports_by_place=_top(Counter(place_label(content, labels, r) for r in reports), TOP_PLACES),
        reports_by_status=_top(Counter(status_names.get(r.status, r.status) for r in reports), None),
        urgent_reports=sum(1 for r in reports if r.urgent),
        response_median_hours=percentile(responses, 0.5), response_p90_hours=percentile(responses, 0.9),
        responded=len(responses), waiting=len(reports) - len(responses), labels=labels,
    )


def _topic_buckets_by_label(content: Content, labels: Labels, tally: _Tally) -> dict[str, list[int]]:
    """The per-bucket counts of each topic, added up by the label shown (two keys may share a title)."""
    by_label: dict[str, list[int]] = {}
    for key, values in tally.topic_buckets.items():
        merged = by_label.setdefault(topic_label(content, labels, key), [0] * len(tally.buckets))
        for index, n in enumerate(values):
            merged[index] += n
    return by_label


def _agency_verdicts(repository: InsightRepository, agencies: Counter[str],
                     verdict_names: dict[str, str]) -> Counter[str]:
    """Agency checks by what the answer said; a company's checks count under its status now."""
    statuses = repository.agency_statuses(int(key) for key in agencies if key.isdigit())
    verdicts: Counter[str] = Counter()
    for key, n in agencies.items():
        if key == "?":
            verdict = "not_found"
        elif key == "choose":
            verdict = "several"
        elif key.isdigit():
            verdict = statuses.get(int(key), "not_found")  # a company deleted since (demo rows) counts as not found
        else:
            continue
        verdicts[verdict_names.get(verdict, verdict)] += n
    return verdicts


def _offer_verdicts(offers: Counter[str], verdict_names: dict[str, str]) -> Counter[str]:
    """Checked offers by verdict (counter keys "verdict:<verdict>")."""
    return Counter({verdict_names.get(k.split(":", 1)[1], k.split(":", 1)[1]): n
                    for k, n in offers.items() if k.startswith("verdict:")})


def _reports_by_bucket(reports: list[ReportFacts], buckets: list[Bucket]) -> list[int]:
    by_bucket = [0] * len(buckets)
    for report in reports:
        index = _bucket_index(buckets, report.created_at.astimezone(WITA).date())
        if index is not None:
            by_bucket[index] += 1
    return by_bucket


def _category_label(categories: Mapping[str, str], category: str | None) -> str:
    return categories.get(category, category) if category else "-"


def sign_titles(content: Content) -> Callable[[str], str]:
    """Sign id -> its title in content/offer_rules.yml (the id itself when the rules cannot be read)."""
    titles: dict[str, str] = {}
    try:
        from bot.offers.rules import RULES_FILE, load_rules

        titles = {rule.id: rule.title for rule in load_rules(content.root / RULES_FILE).signs}
    except Exception:  # noqa: BLE001 - no offer checker, or a broken rules file: show the ids
        pass
    return lambda sign_id: titles.get(sign_id, sign_id)


def place_label(content: Content, labels: Labels, report: ReportFacts) -> str:
    places = labels.get("places") or {}
    if report.location_kind == "ntt":
        regencies = content.report_options.regencies
        if report.location:
            return regencies.get(report.location, report.location)
        return places.get("unknown", "-")
    if report.location_kind in ("indonesia", "abroad"):
        return places.get(report.location_kind, report.location_kind)
    return places.get("unknown", "-")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=WITA)


def _relabel(counter: Counter[str], label: Callable[[str], str]) -> Counter[str]:
    result: Counter[str] = Counter()
    for key, n in counter.items():
        result[label(key)] += n
    return result


def _top(counter: Counter[str], limit: int | None) -> list[tuple[str, int]]:
    ranked = sorted(((k, n) for k, n in counter.items() if n > 0), key=lambda pair: (-pair[1], str(pair[0])))
    return ranked[:limit] if limit else ranked


def parse_day(text: str) -> date:
    return date.fromisoformat(text)


def parse_since(text: str, today: date) -> date:
    """'30d' -> the day 30 days ago; '2026-11-01' -> that day."""
    text = text.strip().lower()
    if text.endswith("d") and text[:-1].isdigit():
        return today - timedelta(days=int(text[:-1]))
    return date.fromisoformat(text)
