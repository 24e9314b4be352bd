"""`python -m bot content check`: validate everything in content/ the way the running bot will use it."""
from __future__ import annotations

import html
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO
from urllib.parse import urlparse

import jinja2

from bot.content import AUDIENCES, Content, FaqTopic
from bot.content_models import CONTACT_FIELDS, ContentError, CountryStatus
from bot.dialogue import actions
from bot.nlu.normalise import normalise
from bot.nlu.training import model_path
from bot.nlu.training_data import MIN_QUESTIONS
from bot.offers.check import check_offer_rules
from bot.yaml_files import read_yaml

MAX_ANSWER_CHARS = 3500
SHORT_ANSWER_CHARS = 1000  # as read (no HTML); longer only when a list needs it, so it is a warning
STALE_AFTER = timedelta(days=180)
RELATED_MENU_ENTRIES = (actions.MENU_FAQ, actions.MENU_AGENCY, actions.MENU_REPORT, actions.MENU_EMERGENCY,
                        actions.MENU_OFFER)
MAX_GROUP_TOPICS = 8


def _line_of(path: Path, needle: str) -> int:
    """The first line of `path` that contains `needle` (1-based), or 1."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    return 1


def check_topic(content: Content, topic: FaqTopic) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []

    def where(needle: str) -> str:
        return f"{topic.path}:{_line_of(topic.path, needle)}"

    try:
        rendered = content.render_answer(topic.id)
        if len(rendered) > MAX_ANSWER_CHARS:
            errors.append(f"{where('answer:')}: answer is {len(rendered)} characters, at most {MAX_ANSWER_CHARS}")
        read = len(plain_text(content.answer_body(topic.id)).strip())
        if read > SHORT_ANSWER_CHARS:
            warnings.append(f"{where('answer:')}: answer is {read} characters as read, aim for at most "
                            f"{SHORT_ANSWER_CHARS} unless a list needs the room")
    except Exception as exc:  # noqa: BLE001 - Jinja errors, and filters given a bad value (a date typed as text)
        errors.append(f"{where('answer:')}: answer does not render: {exc}")
    if len(topic.questions) < MIN_QUESTIONS:
        errors.append(f"{where('questions:')}: {len(topic.questions)} question examples, at least {MIN_QUESTIONS}")
    errors += _reference_errors(content, topic, where)
    if date.today() - topic.last_verified > STALE_AFTER:
        warnings.append(f"{where('last_verified:')}: last verified {topic.last_verified}, more than 180 days ago")
    return errors, warnings


def _reference_errors(content: Content, topic: FaqTopic, where: Callable[[str], str]) -> list[str]:
    """Related topics, countries and sources that name nothing usable."""
    errors = []
    for related in topic.related:
        if related not in content.topics and related not in RELATED_MENU_ENTRIES:
            errors.append(f"{where('related:')}: related {related!r} is neither a topic nor a menu entry")
    for code in topic.countries:
        if code not in content.countries:
            errors.append(f"{where('countries:')}: country {code!r} has no file in content/countries/")
    for url in topic.sources:
        parsed = urlparse(str(url))
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            errors.append(f"{where(str(url))}: source {url!r} is not a well-formed http(s) URL")
    return errors


def check_duplicate_questions(content: Content) -> list[str]:
    seen: dict[str, FaqTopic] = {}
    errors = []
    for topic in content.topics.values():
        for question in topic.questions:
            key = normalise(question)
            other = seen.setdefault(key, topic)
            if other is not topic:
                errors.append(f"{topic.path}:{_line_of(topic.path, question)}: question {question!r} is also under "
                              f"topic {other.id!r}")
    return errors


def check_outdated_terms(content: Content) -> list[str]:
    """Outdated names from content/lint.yml must not appear in answers or templates (except where allowed)."""
    terms = _records(load_lint(content.root), "terms")
    texts: list[tuple[Path, str | None, str]] = [(t.path, t.id, t.answer) for t in content.topics.values()]
    texts += [(path, None, path.read_text(encoding="utf-8"))
              for path in sorted((content.root / "templates").glob("*.j2"))]
    errors = []
    for entry in terms:
        term = str(entry["term"])
        pattern = re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)
        age = re.search(r"\d+", term) if entry.get("unless_destination_rule") else None
        allowed_in = _strings(entry, "allowed_in")
        for path, topic_id, text in texts:
            if topic_id in allowed_in:
                continue
            haystack = plain_text(text) if age else text
            for match in pattern.finditer(haystack):
                if age and destination_allows(content, haystack, match.start(), int(age.group(0))):
                    continue  # a destination's own rule (countries/<code>.yml age_rules), not Indonesia's minimum
                errors.append(f"{path}:{_line_of(path, match.group(0))}: outdated term {match.group(0)!r}; "
                              f"use {entry['use_instead']}")
                break
    return errors


def check_contacts(content: Content) -> list[str]:
    """Every contact says where its number comes from and when it was seen (countries' missions are checked when
    content loads)."""
    errors = []
    contacts_path = content.root / "contacts.yml"
    for key, contact in content.contacts.items():
        missing = [name for name in CONTACT_FIELDS if not _fields(contact).get(name)]
        if missing:
            errors.append(f"{contacts_path}:{_line_of(contacts_path, key + ':')}: {key} lacks {', '.join(missing)}")
    return errors


def check_topic_menu(content: Content) -> list[str]:
    """Every topic sits in exactly one group of content/topic_menu.yml, and groups name real topics."""
    path = content.root / "topic_menu.yml"
    errors = []
    placed: dict[str, str] = {}
    for group in content.topic_menu:
        where = f"{path}:{_line_of(path, 'id: ' + group['id'])}"
        if len(group["topics"]) > MAX_GROUP_TOPICS:
            errors.append(f"{where}: {len(group['topics'])} topics, at most {MAX_GROUP_TOPICS}")
        for topic_id in group["topics"]:
            if topic_id not in content.topics:
                errors.append(f"{where}: topic {topic_id!r} does not exist")
            elif topic_id in placed:
                errors.append(f"{where}: topic {topic_id!r} is also in group {placed[topic_id]!r}")
            placed[topic_id] = group["id"]
    for topic_id in content.topics:
        if topic_id not in placed:
            errors.append(f"{path}:1: topic {topic_id!r} is in no group, so no button leads to it")
    return errors


def check_report_options(content: Content) -> list[str]:
    """content/report_options.yml: keys fit in button data (sections and statuses are checked when content loads)."""
    path = content.root / "report_options.yml"
    options = content.report_options
    errors = []
    for section in (options.categories, options.when, options.regencies):
        for key in section:
            if not re.fullmatch(r"[a-z0-9_]{1,20}", str(key)):
                errors.append(f"{path}:{_line_of(path, str(key))}: key {key!r} must be 1-20 of a-z, 0-9, _")
    return errors


# --- Claims that must agree with the rules kept in content/ (issue 11) -------------------------------------------
# Destination age rules live in countries/<code>.yml (`age_rules`), country statuses in `status`, Indonesia's
# minimum age and the phrases that make a claim in lint.yml. Answers, country notes and templates are read
# sentence by sentence; a claim belongs to the country named last before it in the sentence (or first after it).

_TAG_RE = re.compile(r"<[^>]+>")
_JINJA_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_UNIT_SPLIT_RE = re.compile(r"\n|•|;|[.!?](?=\s|$)")
_AGE_RANGE_RE = re.compile(
    r"\b(\d{2})\s*(?:sampai|hingga|s\.d\.|s/d|-|–)\s*(di bawah|kurang dari)?\s*(\d{2})\s*tahun\b", re.IGNORECASE
)
_AGE_MIN_RE = re.compile(
    r"\b(?:minimal|minimum|paling sedikit|paling rendah|sekurang-kurangnya|berumur|umur|usia|sudah|di bawah|"
    r"kurang dari)\s+(\d{2})\s*tahun\b",
    re.IGNORECASE,
)
MIN_PLAUSIBLE_AGE, MAX_PLAUSIBLE_AGE = 14, 70


def load_lint(root: Path) -> Mapping[str, object]:
    """content/lint.yml: what `content check` looks for, by section."""
    path = root / "lint.yml"
    lint = read_yaml(path) or {}
    if not isinstance(lint, dict):
        raise ContentError(f"{path}: expected a mapping of sections")
    return lint


def _section(data: Mapping[str, object], name: str) -> Mapping[str, object]:
    """A mapping inside lint.yml (empty when it is not there)."""
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def _strings(data: Mapping[str, object], name: str) -> list[str]:
    """A list of texts inside lint.yml (empty when it is not there)."""
    value = data.get(name)
    return [str(item) for item in value] if isinstance(value, list) else []


def _records(data: Mapping[str, object], name: str) -> list[Mapping[str, object]]:
    """A list of mappings inside lint.yml (empty when it is not there)."""
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ContentError(f"lint.yml: {name}: expected a list of mappings")
    return value


def _fields(entry: object) -> Mapping[str, object]:
    """A contact's fields (none when the entry is empty or not a mapping)."""
    return entry if isinstance(entry, dict) else {}


def plain_text(text: str) -> str:
    """Answer or template text as a reader sees it: no HTML tags, no Jinja markup."""
    return html.unescape(_TAG_RE.sub("", _JINJA_RE.sub(" ", text)))


def _units(text: str) -> list[str]:
    return [unit for unit in _UNIT_SPLIT_RE.split(text) if unit.strip()]


def _country_patterns(content: Content) -> list[tuple[str, re.Pattern[str]]]:
    patterns = []
    for code, country in content.countries.items():
        names = sorted(set(country.all_names), key=len, reverse=True)
        patterns.append((code, re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)", re.I)))
    return patterns


def _mentions(unit: str, patterns: list[tuple[str, re.Pattern[str]]]) -> list[tuple[int, str]]:
    """(position, country code) of every country named in a sentence."""
    found: list[tuple[int, str]] = []
    for code, pattern in patterns:
        found.extend((match.start(), code) for match in pattern.finditer(unit))
    return sorted(found)


AFTER_WINDOW = 40  # "minimal 21 tahun untuk Malaysia": a country named just after the claim


def _country_for(position: int, mentions: list[tuple[int, str]]) -> str | None:
    before = [code for start, code in mentions if start < position]
    if before:
        return before[-1]
    after = [code for start, code in mentions if position <= start <= position + AFTER_WINDOW]
    return after[0] if after else None


def age_claims(unit: str) -> list[tuple[int, int, int | None]]:
    """(position, minimum, maximum or None) of each age limit stated in a sentence."""
    claims: list[tuple[int, int, int | None]] = []
    taken: list[tuple[int, int]] = []
    for match in _AGE_RANGE_RE.finditer(unit):
        low, high = int(match.group(1)), int(match.group(3))
        if MIN_PLAUSIBLE_AGE <= low <= MAX_PLAUSIBLE_AGE and low < high <= MAX_PLAUSIBLE_AGE:
            claims.append((match.start(), low, high - 1 if match.group(2) else high))
            taken.append(match.span())
    for match in _AGE_MIN_RE.finditer(unit):
        if any(start <= match.start() < end for start, end in taken):
            continue
        age = int(match.group(1))
        if MIN_PLAUSIBLE_AGE <= age <= MAX_PLAUSIBLE_AGE:
            claims.append((match.start(), age, None))
    return sorted(claims)


def _claim_texts(content: Content) -> list[tuple[Path, str]]:
    """Every text a reader sees, with the file it comes from: rendered answers, country notes, templates."""
    texts = []
    for topic in content.topics.values():
        try:
            texts.append((topic.path, content.answer_body(topic.id)))
        except Exception:  # noqa: BLE001 - reported by check_topic
            continue
    for code, country in content.countries.items():
        texts.append((content.root / "countries" / f"{code}.yml", country.notes))
    for path in sorted((content.root / "templates").glob("*.j2")):
        texts.append((path, path.read_text(encoding="utf-8")))
    return texts


def check_country_rules(content: Content) -> list[str]:
    """Age rules kept per destination are plausible ranges (their fields are checked when content loads)."""
    errors = []
    for code, country in content.countries.items():
        path = content.root / "countries" / f"{code}.yml"
        for rule in country.age_rules:
            if not (MIN_PLAUSIBLE_AGE <= rule.min_age < rule.max_age <= MAX_PLAUSIBLE_AGE):
                errors.append(f"{path}:{_line_of(path, 'age_rules:')}: age rule {rule.min_age}-{rule.max_age} is not "
                              "a plausible range")
    return errors


@dataclass(frozen=True)
class _ClaimLint:
    """lint.yml's part for claims: Indonesia's minimum age and its legal basis, the phrases that say one age limit
    holds everywhere, and the phrases that call a country a non-destination or an official destination."""

    indonesia_min: int
    indonesia_basis: str
    universal: tuple[str, ...]
    negative: tuple[str, ...]
    positive: tuple[str, ...]

    @classmethod
    def of(cls, root: Path) -> _ClaimLint:
        lint = load_lint(root)
        age, claims = _section(lint, "age"), _section(lint, "status_claims")
        minimum = age.get("indonesia_min", 18)
        if not isinstance(minimum, (int, float, str)):
            raise ContentError(f"{root / 'lint.yml'}: age: indonesia_min {minimum!r} is not a number")
        return cls(
            indonesia_min=int(minimum),
            indonesia_basis=str(age.get("indonesia_basis", "UU 18/2017 Pasal 5")),
            universal=tuple(p.lower() for p in _strings(age, "universal_phrases")),
            negative=tuple(p.lower() for p in _strings(claims, "bukan_tujuan")),
            positive=tuple(p.lower() for p in _strings(claims, "tujuan_penempatan")),
        )


def check_claims(content: Content) -> list[str]:
    """Age limits and country statuses stated in text must agree with the rules kept in content/."""
    lint = _ClaimLint.of(content.root)
    patterns = _country_patterns(content)
    errors = []
    for path, text in _claim_texts(content):
        for unit in _units(plain_text(text)):
            mentions = _mentions(unit, patterns)
            quoted = f"{path}:{_line_of(path, unit.strip()[:40])}: {' '.join(unit.split())[:90]!r}"
            errors += _age_claim_errors(content, lint, unit, mentions, quoted)
            errors += _status_claim_errors(content, lint, unit, mentions, quoted)
    return errors


def _age_claim_errors(content: Content, lint: _ClaimLint, unit: str, mentions: list[tuple[int, str]],
                      quoted: str) -> list[str]:
    """Each age limit the sentence states is its country's kept rule, or Indonesia's minimum when it names none."""
    errors = []
    for position, low, high in age_claims(unit):
        code = _country_for(position, mentions)
        country = content.countries[code] if code else None
        if country is not None and country.age_rules:
            if not any(r.min_age == low and (high is None or r.max_age == high) for r in country.age_rules):
                limits = ", ".join(f"{r.job} {r.min_age}-{r.max_age}" for r in country.age_rules)
                errors.append(f"{quoted} states an age limit for {country.name} that countries/{code}.yml does not "
                              f"keep ({limits})")
        elif low != lint.indonesia_min:
            named = f"for {country.name} " if country is not None else ""
            errors.append(f"{quoted} states a minimum age of {low} {named}but Indonesia's minimum is "
                          f"{lint.indonesia_min} ({lint.indonesia_basis}) and no destination rule for {low} is kept "
                          f"in countries/")
        lowered = unit.lower()
        if any(phrase in lowered for phrase in lint.universal) and any(
                r.min_age != low for kept in content.countries.values() for r in kept.age_rules):
            errors.append(f"{quoted} says one age limit holds everywhere, but destinations keep their own (see "
                          f"age_rules in countries/)")
    return errors


def _status_claim_errors(content: Content, lint: _ClaimLint, unit: str, mentions: list[tuple[int, str]],
                         quoted: str) -> list[str]:
    """A country the sentence calls a non-destination (or an official destination) has that status."""
    errors = []
    lowered = unit.lower()
    for phrase in lint.negative:
        for match in re.finditer(rf"(?<!\w){re.escape(phrase)}(?!\w)", lowered):
            code = _country_for(match.start(), mentions)
            if code and content.countries[code].status != CountryStatus.NOT_A_DESTINATION:
                errors.append(f"{quoted} calls {content.countries[code].name} a non-destination,"
                              f" but countries/{code}.yml has status {content.countries[code].status}")
        lowered = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", lambda m: " " * len(m.group(0)), lowered)
    for phrase in lint.positive:
        for match in re.finditer(rf"(?<!\w){re.escape(phrase)}(?!\w)", lowered):
            code = _country_for(match.start(), mentions)
            if code and content.countries[code].status != CountryStatus.DESTINATION:
                errors.append(f"{quoted} calls {content.countries[code].name} an official "
                              f"destination, but countries/{code}.yml has status "
                              f"{content.countries[code].status}")
    return errors


def destination_allows(content: Content, text: str, position: int, age: int) -> bool:
    """Whether the sentence around `position` attributes a limit of `age` to a destination that keeps it."""
    start = max((m.end() for m in _UNIT_SPLIT_RE.finditer(text, 0, position)), default=0)
    end_match = _UNIT_SPLIT_RE.search(text, position)
    unit = text[start:end_match.start() if end_match else len(text)]
    code = _country_for(position - start, _mentions(unit, _country_patterns(content)))
    return code is not None and any(r.min_age == age for r in content.countries[code].age_rules)


# --- Legal basis names the article ---------------------------------------------------------------------------------

def check_legal_basis(content: Content) -> list[str]:
    """Each regulation in `legal_basis` (items separated by ';') names its article, unless it is a decree or
    circular (listed in lint.yml), which has no articles."""
    lint = _section(load_lint(content.root), "legal_basis")
    needs = _strings(lint, "needs_article")
    exempt = _strings(lint, "no_article")
    errors = []
    for topic in content.topics.values():
        where = f"{topic.path}:{_line_of(topic.path, 'legal_basis:')}"
        for item in (part.strip() for part in topic.legal_basis.split(";")):
            if not item:
                continue
            if any(re.match(rf"{re.escape(prefix)}\b", item, re.I) for prefix in exempt):
                continue
            if not any(re.match(rf"{re.escape(prefix)}\b", item, re.I) for prefix in needs):
                errors.append(f"{where}: legal basis {item!r} names no regulation; write e.g. 'UU 18/2017 Pasal 5'")
            elif not re.search(r"\bPasal\s+\d+", item):
                errors.append(f"{where}: legal basis {item!r} names no article (Pasal); cite the article, or leave "
                              f"the regulation out of legal_basis and name it in the answer")
    return errors


# --- Phone numbers work for the reader ----------------------------------------------------------------------------

_DOMESTIC_RE = re.compile(r"(?<![\w+/])\(?0\d[\d ().-]{4,}\d")
_INTERNATIONAL_RE = re.compile(r"(?<![\w])\+\d[\d ().-]{5,}\d")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def domestic_numbers(line: str) -> list[str]:
    """Numbers written the way they are dialled inside one country (leading 0), which fail from abroad."""
    return [m.group(0).strip() for m in _DOMESTIC_RE.finditer(line) if len(_digits(m.group(0))) >= 7]


def _short_codes(content: Content) -> dict[str, re.Pattern[str]]:
    """Numbers of contacts that work only inside Indonesia (`reach: indonesia`), e.g. 110 or 0800-1000."""
    codes = {}
    for contact in content.contacts.values():
        if _fields(contact).get("reach") == "indonesia":
            number = str(_fields(contact).get("number"))
            codes[number] = re.compile(rf"(?<![\w.,+-]){re.escape(number)}(?![\w.,-])")
    return codes


def _audience_texts(content: Content) -> list[tuple[Path, str, str]]:
    """(file, audience, text as rendered) for every answer and template that can show a phone number."""
    template_audience = _section(_section(load_lint(content.root), "phone_audience"), "templates")
    texts = []
    for topic in content.topics.values():
        try:
            texts.append((topic.path, topic.audience, content.answer_body(topic.id)))
        except Exception:  # noqa: BLE001 - reported by check_topic
            continue
    env = _lenient_env(content)
    for path in sorted((content.root / "templates").glob("*.j2")):
        try:
            rendered = env.get_template(path.name).render()
        except Exception:  # noqa: BLE001 - a template that needs its context cannot be previewed; check its raw text
            rendered = path.read_text(encoding="utf-8")
        texts.append((path, str(template_audience.get(path.stem, "semua")), rendered))
    for code, country in content.countries.items():
        path = content.root / "countries" / f"{code}.yml"
        lines = [f"{m.name}: {m.number}" for m in country.missions]
        texts.append((path, "luar_negeri", "\n".join(lines)))
    return texts


def _lenient_env(content: Content) -> jinja2.Environment:
    """The templates' environment, but missing variables render as nothing, so a template can be previewed."""
    env = content.env.overlay(undefined=jinja2.ChainableUndefined)
    for name, function in list(content.env.filters.items()):
        if name in ("tanggal", "bulan", "lama", "waktu"):
            env.filters[name] = lambda value, _f=function: "" if isinstance(value, jinja2.Undefined) else _f(value)
    return env


def check_phone_audience(content: Content) -> list[str]:
    """A number shown to people abroad works from abroad: no domestic format (0...) and no Indonesia-only line
    in text for them, and an Indonesia-only line is never the only number a reader abroad is offered."""
    lint = _section(load_lint(content.root), "phone_audience")
    abroad = [marker.lower() for marker in _strings(lint, "abroad_markers")]
    home = [marker.lower() for marker in _strings(lint, "indonesia_markers")]
    short_codes = _short_codes(content)
    errors = []
    for path, audience, text in _audience_texts(content):
        if audience == "abaikan":
            continue  # the numbers there are examples of how to type one, not lines to call
        indonesia_only_shown = works_abroad_shown = False
        for line in plain_text(text).splitlines():
            lowered = line.lower()
            if any(marker in lowered for marker in abroad):
                line_audience = "luar_negeri"
            elif any(marker in lowered for marker in home):
                line_audience = "indonesia"
            else:
                line_audience = audience
            found = domestic_numbers(line) + [n for n, pattern in short_codes.items() if pattern.search(line)]
            if _INTERNATIONAL_RE.search(line):
                works_abroad_shown = True
            if not found:
                continue
            indonesia_only_shown = True
            if line_audience == "indonesia":
                continue
            quote = " ".join(line.split())[:90]
            reader = "people abroad" if line_audience == "luar_negeri" else "readers in and outside Indonesia"
            for number in dict.fromkeys(found):
                errors.append(f"{path}:{_line_of(path, line.strip()[:30])}: "
                              f"{number!r} does not work from abroad, yet {quote!r} is for {reader}: show the "
                              f"international form (+62 ...), or put an Indonesia-only number on a line that says "
                              f"'dari Indonesia'")
        if audience != "indonesia" and indonesia_only_shown and not works_abroad_shown:
            errors.append(f"{path}:1: the only numbers offered work inside Indonesia only; add one that works from "
                          f"abroad (e.g. contacts.kp2mi_from_abroad)")
    return errors


def stale_countries(content: Content) -> list[str]:
    """Country files not verified for 180 days (a warning, like stale topics)."""
    warnings = []
    for code, country in content.countries.items():
        path = content.root / "countries" / f"{code}.yml"
        verified = country.last_verified
        if date.today() - verified > STALE_AFTER:
            warnings.append(f"{path}:{_line_of(path, 'last_verified:')}: last verified {verified}, more than 180 days "
                            f"ago")
    return warnings


def check_country_templates(content: Content) -> list[str]:
    """Every country page and emergency help renders with that country's data (a field missing from one
    country's file must not break its page)."""
    errors = []
    for code, country in content.countries.items():
        path = content.root / "countries" / f"{code}.yml"
        for template, context in (("country", {"country": country}),
                                  ("report_country_help", {"country": country, "missions": country.missions})):
            if not (content.root / "templates" / f"{template}.j2").exists():
                continue
            try:
                content.render(template, **context)
            except Exception as exc:  # noqa: BLE001 - a bad value (e.g. a date typed as text) breaks a filter too
                errors.append(f"{path}:1: templates/{template}.j2 does not render for this country: {exc}")
    return errors


def check_topic_audience(content: Content) -> list[str]:
    return [f"{t.path}:{_line_of(t.path, 'audience:')}: audience must be one of {', '.join(AUDIENCES)}"
            for t in content.topics.values() if t.audience not in AUDIENCES]


def check_number_forms(content: Content) -> list[str]:
    """`number` is what the bot shows; `as_seen` keeps the source's exact text when it differs. Both must be the
    same number, and a number meant to work from abroad must be in international form."""
    errors = []
    # (file, name, number, as seen in the source, reach, dial code, is a mission abroad)
    entries: list[tuple[Path, str, str, object, object, str, bool]] = [
        (content.root / "contacts.yml", key, str(_fields(c).get("number") or ""), _fields(c).get("as_seen"),
         _fields(c).get("reach", "semua"), "+62", False) for key, c in content.contacts.items()]
    for code, country in content.countries.items():
        entries += [(content.root / "countries" / f"{code}.yml", m.name, m.number, m.as_seen or None, m.reach,
                     country.dial_code, True) for m in country.missions]
    for path, key, number, as_seen, reach, dial, mission in entries:
        where = f"{path}:{_line_of(path, key)}"
        if reach not in ("semua", "indonesia", "lokal"):
            errors.append(f"{where}: {key}: reach must be semua, indonesia or lokal")
        if as_seen:
            seen_digits = _digits(str(as_seen).split("/")[0].split("atau")[0])
            shown_digits = _digits(number.split("/")[0].split("atau")[0])
            expected = _digits(dial) + seen_digits[1:] if seen_digits.startswith("0") else seen_digits
            if shown_digits != expected:
                errors.append(f"{where}: {key}: number {number!r} is not the same number as as_seen {as_seen!r}")
        if reach == "semua" and (domestic_numbers(number) or re.fullmatch(r"0[\d -]+", number.strip())
                                 or (mission and not number.startswith("+"))):
            errors.append(f"{where}: {key}: {number!r} must work from abroad: write it as +<country code> ... and keep "
                          f"the source's text in as_seen")
    return errors


def check_templates(content: Content) -> list[str]:
    errors = []
    for path in sorted((content.root / "templates").glob("*.j2")):
        try:
            content.env.parse(path.read_text(encoding="utf-8"))
        except jinja2.TemplateSyntaxError as exc:
            errors.append(f"{path}:{exc.lineno}: {exc.message}")
    return errors


def training_is_stale(content: Content, var_dir: Path) -> bool:
    return not model_path(var_dir, content).exists()


def check_content(root: Path, var_dir: Path, out: TextIO = sys.stdout) -> int:
    """Print every problem; return 0 when there is no error (warnings allowed)."""
    try:
        content = Content(root)
    except ContentError as exc:
        print(f"ERROR {exc}", file=out)
        return 1
    errors = (
        check_templates(content)
        + check_duplicate_questions(content)
        + check_outdated_terms(content)
        + check_contacts(content)
        + check_topic_menu(content)
        + check_report_options(content)
        + check_topic_audience(content)
        + check_legal_basis(content)
        + check_country_rules(content)
        + check_claims(content)
        + check_number_forms(content)
        + check_phone_audience(content)
        + check_country_templates(content)
        + check_offer_rules(root, content.countries)
    )
    warnings: list[str] = []
    for topic in content.topics.values():
        topic_errors, topic_warnings = check_topic(content, topic)
        errors += topic_errors
        warnings += topic_warnings
    warnings += stale_countries(content)
    for warning in warnings:
        print(f"WARNING {warning}", file=out)
    for error in errors:
        print(f"ERROR {error}", file=out)
    if training_is_stale(content, var_dir):
        print("NOTE question examples or NLU data changed: run `python -m bot train` so the bot learns them.", file=out)
    status = "FAILED" if errors else "OK"
    print(f"content check {status}: {len(content.topics)} topics, {len(errors)} errors, {len(warnings)} warnings",
          file=out)
    return 1 if errors else 0
