"""Typed views of the structured content files (`countries/<code>.yml`, `report_options.yml`, `topic_menu.yml`,
the button labels and command lists), validated on load.

A file that breaks the schema raises ContentError listing every problem with its file, so `content check` shows
them all and a hot reload keeps serving the previous version.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TypedDict, TypeVar

CONTACT_FIELDS = ("name", "number", "source", "seen")  # every phone number shown carries where and when it was seen
AGE_RULE_FIELDS = ("job", "min_age", "max_age", "source", "confidence")
REPORT_OPTION_SECTIONS = ("categories", "when", "statuses", "regencies")
UNORDERED = 99  # a country without `order` comes after the ordered ones


class ContentError(ValueError):
    """A content file is missing, unreadable or malformed; the message names the file."""


class CountryStatus(StrEnum):
    DESTINATION = "tujuan_penempatan"  # an official placement destination
    PARTIAL_MORATORIUM = "moratorium_sebagian"  # some jobs closed
    NOT_A_DESTINATION = "bukan_tujuan"  # no legal placement at all
    UNCLEAR = "belum_pasti"  # sources disagree: say where to check


@dataclass(frozen=True)
class Mission:
    """A phone line for people in that country (an embassy, a consulate, a hotline)."""

    name: str
    number: str
    source: str
    seen: date
    note: str = ""
    reach: str = "semua"  # semua (works from anywhere), indonesia, lokal
    as_seen: str = ""  # the source's exact text when `number` is written differently (e.g. +62 for 0...)


@dataclass(frozen=True)
class AgeRule:
    """A destination's own age limits for one kind of job (checked against what answers and offers say)."""

    job: str
    min_age: int
    max_age: int
    source: str
    confidence: str


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    names: tuple[str, ...]  # other ways people write it (places in it too: "sabah", "johor")
    status: CountryStatus
    notes: str
    last_verified: date
    sources: tuple[str, ...] = ()
    status_by: str = ""  # who says so, when not KP2MI itself ("pernyataan Menteri P2MI 2025 yang dikutip media")
    order: int = UNORDERED
    dial_code: str = ""
    missions: tuple[Mission, ...] = ()
    age_rules: tuple[AgeRule, ...] = ()

    @property
    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.names)


@dataclass(frozen=True)
class ReportOptions:
    """The report conversation's choices: key -> label (keys are stored in the database; labels are shown)."""

    categories: Mapping[str, str]
    when: Mapping[str, str]
    statuses: Mapping[str, str]
    regencies: Mapping[str, str]


class TopicGroup(TypedDict):
    """A group of FAQ topics in the "Tanya prosedur" menu (which topics exist is checked by `content check`)."""

    id: str
    title: str
    topics: tuple[str, ...]
    country_list: bool  # the group also offers the button to the country pages


T = TypeVar("T")


class _Problems:
    """Collects a file's schema problems so all of them are reported at once."""

    def __init__(self, path: Path):
        self.path = path
        self.found: list[str] = []

    def need(self, raw: Mapping[str, object], field: str, kind: Callable[[object], T], where: str = "") -> T | None:
        value = raw.get(field)
        if value in (None, ""):
            self.found.append(f"{where}missing field {field}")
            return None
        try:
            return kind(value)
        except (TypeError, ValueError):
            self.found.append(f"{where}{field} {value!r} is not valid")
            return None

    def raise_any(self) -> None:
        if self.found:
            raise ContentError(f"{self.path}: " + "; ".join(self.found))


def _date(value: object) -> date:
    if not isinstance(value, date):
        raise ValueError(value)
    return value


def _whole_number(value: object) -> int:
    if not isinstance(value, (int, float, str)):  # what int() reads among YAML's values (not a date, list, ...)
        raise TypeError(value)
    return int(value)


def _text(value: object) -> str:
    if isinstance(value, (dict, list)):
        raise ValueError(value)
    return str(value)


def _texts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(value)
    return tuple(str(item) for item in value)


def _mapping(value: object) -> Mapping[str, str]:
    if not isinstance(value, dict):
        raise ValueError(value)
    return {str(key): str(label) for key, label in value.items()}


def _mission(raw: object, problems: _Problems) -> Mission | None:
    if not isinstance(raw, dict):
        problems.found.append(f"a mission is not a mapping: {raw!r}")
        return None
    where = f"mission {raw.get('name')!r}: "
    name, number, source = (problems.need(raw, field, _text, where) for field in ("name", "number", "source"))
    seen = problems.need(raw, "seen", _date, where)
    if name is None or number is None or source is None or seen is None:
        return None
    return Mission(name, number, source, seen, note=_text(raw.get("note") or ""),
                   reach=_text(raw.get("reach") or "semua"), as_seen=_text(raw.get("as_seen") or ""))


def _age_rule(raw: object, problems: _Problems) -> AgeRule | None:
    if not isinstance(raw, dict):
        problems.found.append(f"an age rule is not a mapping: {raw!r}")
        return None
    where = "age rule: "
    job, source, confidence = (problems.need(raw, field, _text, where) for field in ("job", "source", "confidence"))
    low, high = (problems.need(raw, field, _whole_number, where) for field in ("min_age", "max_age"))
    if job is None or source is None or confidence is None or low is None or high is None:
        return None
    return AgeRule(job, low, high, source, confidence)


def parse_country(path: Path, raw: object) -> Country:
    """countries/<code>.yml as a Country; ContentError listing every problem."""
    problems = _Problems(path)
    if not isinstance(raw, dict):
        raise ContentError(f"{path}: expected a mapping of fields")
    name = problems.need(raw, "name", _text)
    notes = problems.need(raw, "notes", _text)
    verified = problems.need(raw, "last_verified", _date)
    status = CountryStatus(raw["status"]) if raw.get("status") in set(CountryStatus) else None
    if status is None:
        problems.found.append(f"status must be one of {', '.join(CountryStatus)}")
    missions = [_mission(item, problems) for item in raw.get("missions") or []]
    rules = [_age_rule(item, problems) for item in raw.get("age_rules") or []]
    problems.raise_any()
    assert name is not None and notes is not None and verified is not None and status is not None  # raise_any
    return Country(
        code=path.stem, name=name, names=_texts(raw.get("names") or []), status=status, notes=notes,
        last_verified=verified, sources=_texts(raw.get("sources") or []), status_by=_text(raw.get("status_by") or ""),
        order=int(raw.get("order", UNORDERED)), dial_code=_text(raw.get("dial_code") or ""),
        missions=tuple(m for m in missions if m is not None), age_rules=tuple(r for r in rules if r is not None),
    )


def parse_report_options(path: Path, raw: object, statuses: tuple[str, ...]) -> ReportOptions:
    """report_options.yml; every status the database uses needs a label."""
    problems = _Problems(path)
    if not isinstance(raw, dict):
        raise ContentError(f"{path}: expected a mapping of sections")
    sections = {name: problems.need(raw, name, _mapping) for name in REPORT_OPTION_SECTIONS}
    missing = [status for status in statuses if status not in (sections["statuses"] or {})]
    if sections["statuses"] is not None and missing:
        problems.found.append(f"statuses lacks {', '.join(missing)}")
    problems.raise_any()
    categories, when, labels, regencies = (sections[name] or {} for name in REPORT_OPTION_SECTIONS)
    return ReportOptions(categories=categories, when=when, statuses=labels, regencies=regencies)


def parse_topic_menu(path: Path, raw: object) -> list[TopicGroup]:
    """topic_menu.yml: the menu's groups in order, each with an id, a title and its topics; ContentError listing
    every problem."""
    if not isinstance(raw, list):
        raise ContentError(f"{path}: expected a list of groups")
    problems = _Problems(path)
    groups = [_topic_group(item, problems) for item in raw]
    problems.raise_any()
    return [group for group in groups if group is not None]


def _topic_group(raw: object, problems: _Problems) -> TopicGroup | None:
    if not isinstance(raw, dict):
        problems.found.append(f"a group is not a mapping: {raw!r}")
        return None
    where = f"group {raw.get('id')!r}: "
    group_id, title = (problems.need(raw, field, _text, where) for field in ("id", "title"))
    topics = problems.need(raw, "topics", _texts, where)
    if topics == ():
        problems.found.append(f"{where}missing field topics")
    if group_id is None or title is None or not topics:
        return None
    return TopicGroup(id=group_id, title=title, topics=topics, country_list=bool(raw.get("country_list")))


def parse_texts(path: Path, raw: object) -> dict[str, str]:
    """A file of texts by key (buttons.yml, commands.yml, staff_commands.yml); ContentError naming every key that
    has no text."""
    if not isinstance(raw, dict):
        raise ContentError(f"{path}: expected a mapping of keys to texts")
    wrong = [key for key, text in raw.items() if not isinstance(key, str) or not isinstance(text, str)]
    if wrong:
        raise ContentError(f"{path}: " + "; ".join(f"{key!r} needs a text" for key in wrong))
    return raw


def parse_entries(path: Path, raw: object) -> dict[str, object]:
    """A file of entries by key (contacts.yml: their fields are checked by `content check`)."""
    if not isinstance(raw, dict) or not all(isinstance(key, str) for key in raw):
        raise ContentError(f"{path}: expected a mapping of keys to entries")
    return raw
