"""The job-offer rules: `content/offer_rules.yml` loaded, validated and compiled into typed dataclasses.

Editors add scams there without Python. A bad file raises `RulesError` naming the file and the rule; the running
bot then keeps serving the previous rules (`RuleStore`), and `python -m bot content check` reports the problem.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

import yaml

from bot.yaml_files import read_yaml

log = logging.getLogger(__name__)

RULES_FILE = "offer_rules.yml"
SEVERITIES = ("serious", "weak")
KINDS = ("phrases", "agency", "destination", "job_in_country", "min_age", "destination_age", "high_pay", "missing")
AGENCY_VERDICTS = ("sanctioned", "inactive", "not_found", "several", "active")
# Placeholders a reason may use, per kind (filled with the country's name, the age, the amount found).
PLACEHOLDERS = {
    "destination": {"country"}, "job_in_country": {"country"}, "destination_age": {"country", "age"},
    "high_pay": {"amount"}, "min_age": {"age"},
}
MAX_TITLE = 60
MAX_REASON = 260
MAX_LEGAL_BASIS = 160
_ID = re.compile(r"^[a-z][a-z0-9_]{2,39}$")
_MACRO = re.compile(r"%([A-Z_]+)%")
_PLACEHOLDER = re.compile(r"\{([a-z_]*)\}")
T = TypeVar("T")


class RulesError(ValueError):
    """The rules file is missing or malformed; the message names the file and the rule."""


_Fail = Callable[[str], RulesError]  # the error for one rule, naming the file and the rule


@dataclass(frozen=True)
class Place:
    """A country or region an offer may name that has no file in content/countries/ (Laos, Qatar, ...)."""

    code: str
    name: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class SignRule:
    id: str
    severity: str  # "serious": one is enough for BAHAYA; "weak": HATI-HATI
    title: str
    reason: str
    legal_basis: str
    kind: str
    patterns: re.Pattern[str] | None = None  # found in one clause ...
    unless: re.Pattern[str] | None = None  # ... unless the same clause also says this ("tanpa biaya")
    # ... or the same sentence does (advice: "waspada", "jangan percaya")
    unless_sentence: re.Pattern[str] | None = None
    needs: tuple[str, ...] = ()  # vocabulary groups that must appear somewhere in the offer
    patterns_alone: re.Pattern[str] | None = None  # found in one clause, counted without `needs`
    # found in one clause (with `needs`), counted only when the clause's sentence also says `when_sentence`:
    # "biaya urus 3jt, bayar sebelum berangkat" is money asked (patterns_when) paid up front (when_sentence)
    patterns_when: re.Pattern[str] | None = None
    when_sentence: re.Pattern[str] | None = None
    hints: re.Pattern[str] | None = None  # min_age: counted only when no stated age reaches `below`
    absent: re.Pattern[str] | None = None  # missing: the sign holds when none of these appear
    job: str | None = None  # vocabulary group of the job (job_in_country, destination_age, high_pay)
    statuses: tuple[str, ...] = ()  # country statuses from content/countries/ (destination, job_in_country)
    also: dict[str, str | None] = field(default_factory=dict)  # more places: code -> own reason (or None)
    verdicts: tuple[str, ...] = ()  # agency: registry verdicts that make the sign
    below: int = 18  # min_age
    age_rule_job: str = "pekerja rumah tangga"  # destination_age: the `job` of countries/<code>.yml age_rules
    no_company: bool = False  # missing: only when the offer names no company
    min_chars: int = 0  # missing: only for offers at least this long
    monthly_idr: dict[str, dict[str, float]] = field(default_factory=dict)  # high_pay thresholds per country
    examples: tuple[str, ...] = ()
    not_examples: tuple[str, ...] = ()

    @property
    def serious(self) -> bool:
        return self.severity == "serious"


@dataclass(frozen=True)
class Implied:
    """Words that name no job by themselves but usually mean one ("TKW": a woman working abroad, most often as a
    domestic worker). They count for the vocabulary `group` only when the offer names no job of `unless`."""

    group: str
    words: re.Pattern[str]
    unless: str | None = None


@dataclass(frozen=True)
class OfferRules:
    path: Path
    signs: tuple[SignRule, ...]
    vocabulary: dict[str, re.Pattern[str]]
    currencies: dict[str, float]
    places: dict[str, Place]
    wage: re.Pattern[str]
    fee: re.Pattern[str]
    implied: tuple[Implied, ...] = ()

    def sign(self, sign_id: str) -> SignRule:
        return next(rule for rule in self.signs if rule.id == sign_id)


def load_rules(path: Path) -> OfferRules:
    """Read, validate and compile the rules file; raise RulesError naming the file and rule on bad content."""
    try:
        raw = read_yaml(path)
    except FileNotFoundError:
        raise RulesError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise RulesError(f"{path}: expected sections macros, currencies, places, vocabulary, signs")
    return _Compiler(path, raw).rules()


class RuleStore:
    """Hands out the current rules, reloading when the file changes; a broken edit keeps the previous rules."""

    def __init__(self, path: Path):
        self.path = path
        self._signature = self._stat()
        self._rules = load_rules(path)

    def current(self) -> OfferRules:
        signature = self._stat()
        if signature != self._signature:
            self._signature = signature
            try:
                self._rules = load_rules(self.path)
            except RulesError as exc:
                log.error("offer rules not reloaded, still using the previous version: %s", exc)
        return self._rules

    def _stat(self) -> tuple[int, ...]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return ()
        return stat.st_mtime_ns, stat.st_size


class _Compiler:
    def __init__(self, path: Path, raw: dict[object, object]):
        self.path = path
        self.raw = raw
        self.macros = self._mapping("macros", str)
        for name in self.macros:
            if not re.fullmatch(r"[A-Z_]+", str(name)):
                raise RulesError(f"{path}: macros: name {name!r} must be upper case letters and _")

    def rules(self) -> OfferRules:
        currencies = {str(code): float(rate) for code, rate in self._mapping("currencies", (int, float)).items()}
        if "IDR" not in currencies:
            raise RulesError(f"{self.path}: currencies: IDR (rate 1) is required")
        places: dict[str, Place] = {}
        for code, entry in self._mapping("places", dict).items():
            if not entry.get("name") or not entry.get("names"):
                raise RulesError(f"{self.path}: places: {code!r} needs name and names")
            places[str(code)] = Place(str(code), str(entry["name"]), tuple(str(n) for n in entry["names"]))
        vocabulary = {str(name): self._regex(f"vocabulary: {name}", patterns)
                      for name, patterns in self._mapping("vocabulary", list).items()}
        for required in ("wage", "fee"):
            if required not in vocabulary:
                raise RulesError(f"{self.path}: vocabulary: group {required!r} is required (used to read amounts)")
        implied = self._implied(vocabulary)
        signs = self.raw.get("signs")
        if not isinstance(signs, list) or not signs:
            raise RulesError(f"{self.path}: signs: expected a list of rules")
        compiled: list[SignRule] = []
        seen: set[str] = set()
        for entry in signs:
            rule = self._sign(entry, vocabulary)
            if rule.id in seen:
                raise RulesError(f"{self.path}: rule {rule.id!r}: the id is used twice")
            seen.add(rule.id)
            compiled.append(rule)
        return OfferRules(self.path, tuple(compiled), vocabulary, currencies, places, vocabulary["wage"],
                          vocabulary["fee"], implied)

    def _implied(self, vocabulary: Mapping[str, re.Pattern[str]]) -> tuple[Implied, ...]:
        raw = self.raw.get("implied") or {}
        if not isinstance(raw, dict):
            raise RulesError(f"{self.path}: implied: expected a mapping of vocabulary groups to {{words, unless}}")
        implied = []
        for group, entry in raw.items():
            where = f"implied: {group}"
            if group not in vocabulary:
                raise RulesError(f"{self.path}: {where}: vocabulary group {group!r} does not exist")
            if not isinstance(entry, dict) or not entry.get("words") or set(entry) - {"words", "unless"}:
                raise RulesError(f"{self.path}: {where}: expected words (patterns) and optionally unless (a group)")
            unless = entry.get("unless")
            if unless is not None and str(unless) not in vocabulary:
                raise RulesError(f"{self.path}: {where}: unless: vocabulary group {unless!r} does not exist")
            implied.append(Implied(str(group), self._regex(f"{where}: words", entry["words"]),
                                   str(unless) if unless is not None else None))
        return tuple(implied)

    def _mapping(self, section: str, value_type: type[T] | tuple[type[T], ...]) -> dict[object, T]:
        value = self.raw.get(section) or {}
        if not isinstance(value, dict) or not all(isinstance(v, value_type) for v in value.values()):
            raise RulesError(f"{self.path}: {section}: expected a mapping of names to values")
        return value

    def _regex(self, where: str, patterns: object) -> re.Pattern[str]:
        if isinstance(patterns, str) or not isinstance(patterns, list) or not patterns:
            raise RulesError(f"{self.path}: {where}: expected a non-empty list of patterns")
        parts = []
        for item in patterns:
            pattern = str(item)
            expanded = _MACRO.sub(lambda m: self._macro(where, m.group(1)), pattern)
            try:
                re.compile(expanded)
            except re.error as exc:
                raise RulesError(f"{self.path}: {where}: pattern {pattern!r} is not a valid regex: {exc}") from None
            if re.search(r"\(\?P?<\w", expanded) or re.search(r"\(\?P", expanded):
                raise RulesError(f"{self.path}: {where}: pattern {pattern!r}: named groups are not allowed")
            parts.append(f"(?:{expanded})")
        # Whole words only: "art" must not match inside "party".
        return re.compile(rf"(?<!\w)(?:{'|'.join(parts)})(?!\w)")

    def _macro(self, where: str, name: str, using: tuple[str, ...] = ()) -> str:
        """The macro's pattern, with the macros it uses expanded in turn (%ASKED% uses %PAY% and %AMOUNT%)."""
        if name not in self.macros:
            raise RulesError(f"{self.path}: {where}: unknown macro %{name}%")
        if name in using:
            raise RulesError(f"{self.path}: {where}: macro %{name}% uses itself ({' -> '.join([*using, name])})")
        body = _MACRO.sub(lambda m: self._macro(where, m.group(1), (*using, name)), str(self.macros[name]))
        return f"(?:{body})"

    def _sign(self, entry: object, vocabulary: Mapping[str, re.Pattern[str]]) -> SignRule:
        if not isinstance(entry, dict):
            raise RulesError(f"{self.path}: signs: every rule must be a mapping with an id")
        sign_id = str(entry.get("id") or "")
        where = f"rule {sign_id!r}"
        fail: _Fail = partial(self._rule_error, where)
        if not _ID.match(sign_id):
            raise fail("id must be 3-40 of a-z, 0-9, _ starting with a letter")
        kind = str(entry.get("kind") or "phrases")
        if kind not in KINDS:
            raise fail(f"kind must be one of {', '.join(KINDS)}")
        if entry.get("severity") not in SEVERITIES:
            raise fail(f"severity must be one of {', '.join(SEVERITIES)}")
        title, reason, legal_basis = self._shown_texts(entry, fail)
        also = self._also(entry, fail)
        self._check_reasons(kind, [reason, *(r for r in also.values() if r)], fail)
        needs = tuple(str(n) for n in entry.get("needs") or ())
        job = entry.get("job")
        for group in [*needs, *([job] if job else [])]:
            if group not in vocabulary:
                raise fail(f"vocabulary group {group!r} does not exist")
        regex = partial(self._optional_regex, where, entry)
        rule = SignRule(
            id=sign_id, severity=str(entry["severity"]), kind=kind, title=title, reason=reason,
            legal_basis=legal_basis,
            patterns=regex("patterns"), unless=regex("unless"), unless_sentence=regex("unless_sentence"), needs=needs,
            patterns_alone=regex("patterns_alone"), patterns_when=regex("patterns_when"),
            when_sentence=regex("when_sentence"), hints=regex("hints"), absent=regex("absent"),
            job=str(job) if job else None, statuses=tuple(str(s) for s in entry.get("statuses") or ()),
            also=also, verdicts=tuple(str(v) for v in entry.get("verdicts") or ()),
            below=int(entry.get("below") or 18), no_company=bool(entry.get("no_company")),
            age_rule_job=str(entry.get("age_rule_job") or "pekerja rumah tangga"),
            min_chars=int(entry.get("min_chars") or 0),
            monthly_idr=self._thresholds(fail, entry.get("monthly_idr")),
            examples=self._texts(fail, entry, "examples"), not_examples=self._texts(fail, entry, "not_examples"),
        )
        self._check_kind(rule, fail)
        return rule

    def _rule_error(self, where: str, problem: str) -> RulesError:
        return RulesError(f"{self.path}: {where}: {problem}")

    def _optional_regex(self, where: str, entry: Mapping[object, object], name: str) -> re.Pattern[str] | None:
        return self._regex(f"{where}: {name}", entry[name]) if entry.get(name) else None

    @staticmethod
    def _shown_texts(entry: Mapping[object, object], fail: _Fail) -> tuple[str, str, str]:
        """The rule's title, reason and legal basis, each required and within its length."""
        texts = []
        for name, limit in (("title", MAX_TITLE), ("reason", MAX_REASON), ("legal_basis", MAX_LEGAL_BASIS)):
            value = " ".join(str(entry.get(name) or "").split())
            if not value:
                raise fail(f"{name} is required")
            if len(value) > limit:
                raise fail(f"{name} is {len(value)} characters, at most {limit}")
            texts.append(value)
        title, reason, legal_basis = texts
        return title, reason, legal_basis

    @staticmethod
    def _also(entry: Mapping[object, object], fail: _Fail) -> dict[str, str | None]:
        """More places: code -> the reason to give for it (None: the rule's own reason)."""
        also = entry.get("also") or {}
        if not isinstance(also, dict):
            raise fail("also must map place codes to a reason (or to nothing)")
        return {str(code): (" ".join(str(reason).split()) if reason else None) for code, reason in also.items()}

    @staticmethod
    def _check_reasons(kind: str, reasons: list[str], fail: _Fail) -> None:
        for reason in reasons:
            unknown = set(_PLACEHOLDER.findall(reason)) - PLACEHOLDERS.get(kind, set())
            if unknown:
                raise fail(f"reason uses unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}")
            if len(reason) > MAX_REASON:
                raise fail(f"a reason is {len(reason)} characters, at most {MAX_REASON}")

    @staticmethod
    def _texts(fail: _Fail, entry: Mapping[object, object], name: str) -> tuple[str, ...]:
        value = entry.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise fail(f"{name} must be a list of texts")
        return tuple(value)

    @staticmethod
    def _thresholds(fail: _Fail, value: object) -> dict[str, dict[str, float]]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise fail("monthly_idr must map country codes to {job: ..., other: ...}")
        thresholds: dict[str, dict[str, float]] = {}
        for code, pair in value.items():
            if not isinstance(pair, dict) or set(pair) != {"job", "other"} \
                    or not all(isinstance(v, (int, float)) and v > 0 for v in pair.values()):
                raise fail(f"monthly_idr: {code!r} needs positive amounts for job and other")
            thresholds[str(code)] = {k: float(v) for k, v in pair.items()}
        if "default" not in thresholds:
            raise fail("monthly_idr needs a default entry")
        return thresholds

    def _check_kind(self, rule: SignRule, fail: _Fail) -> None:
        kind = rule.kind
        if kind == "phrases" and not (rule.patterns or rule.patterns_alone or rule.patterns_when):
            raise fail("a phrases rule needs patterns (or patterns_alone, patterns_when)")
        if (rule.patterns_when is None) != (rule.when_sentence is None):
            raise fail("patterns_when and when_sentence go together")
        if kind == "agency" and (not rule.verdicts or set(rule.verdicts) - set(AGENCY_VERDICTS)):
            raise fail(f"verdicts must be some of {', '.join(AGENCY_VERDICTS)}")
        if kind in ("destination", "job_in_country") and not (rule.statuses or rule.also):
            raise fail("needs statuses (from content/countries/) or also (place codes)")
        if kind in ("job_in_country", "destination_age", "high_pay") and not rule.job:
            raise fail("needs job (a vocabulary group)")
        if kind == "high_pay" and not rule.monthly_idr:
            raise fail("needs monthly_idr thresholds")
        if kind == "min_age" and not (rule.patterns or rule.hints or rule.below):
            raise fail("needs below, patterns or hints")
        if kind == "missing" and not rule.absent:
            raise fail("a missing rule needs absent (what a proper offer has)")
        for code in rule.also:  # that the code exists (countries/ or places) is checked by `content check`
            if not re.fullmatch(r"[a-z]{2,3}", code):
                raise fail(f"also: {code!r} is not a place code")
