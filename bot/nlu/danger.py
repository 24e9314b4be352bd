"""The danger net: does a message say that someone is in danger? Rules in `nlu_data/danger.yml`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.nlu.normalise import normalise
from bot.settings import PROJECT_ROOT
from bot.yaml_files import read_yaml

DANGER_FILE = PROJECT_ROOT / "nlu_data" / "danger.yml"

SITUATION = "situation"  # someone describes a danger: the emergency contacts come first
QUESTION = "question"  # a danger asked about in general ("kalau paspor ditahan ..."): offered beside the answer
WEAK = "weak"  # a word that may mean danger: the contacts first unless a topic was understood, beside it if one was
_SENTENCE = re.compile(r"([^.!?\n]+)([.!?\n]*)")  # a sentence and what ends it


@dataclass(frozen=True)
class DangerRules:
    situations: dict[str, re.Pattern[str]]
    always: frozenset[str]  # situations that stay situations after a hypothetical word (threats)
    hypothetical: re.Pattern[str]
    general: re.Pattern[str]  # a worry, a definition, a film: a general question even for the `always` situations
    conditional: re.Pattern[str]  # "kalau" before the person's own act: a threat follows, not a general question
    over: re.Pattern[str]  # the danger is past and the person safe
    not_over: re.Pattern[str]  # words that say it is not over for everyone ("adiknya masih disekap")
    past: re.Pattern[str]  # before the danger words, a word that puts them in the past ("dulu")
    present: re.Pattern[str]  # after a danger word, words that say it goes on now ("tiap hari")
    still_now: frozenset[str]  # situations that stay situations even then (a threat outlives the danger)
    asked_alone: dict[str, re.Pattern[str]]  # a situation told alone and asked about as a rule: a question
    in_trouble: re.Pattern[str]  # fear, a plea, hunger, the police...: no question about a rule beside them
    aside: re.Pattern[str]  # after that question: "sa belum berangkat", "pertanyaan umum saja"
    weak_words: frozenset[str]


def _with_words(pattern: str, words: dict[str, str]) -> str:
    """The pattern with each `<name>` of the file's `words` replaced by that word list."""
    for name, alternatives in words.items():
        pattern = pattern.replace(f"<{name}>", alternatives)
    return pattern


def _word_lists(raw: dict[str, object]) -> dict[str, str]:
    """The file's `words`, each written out in full: a list may use the lists above it (`not_us` uses `relative`)."""
    words: dict[str, str] = {}
    for name, alternatives in raw.items():
        words[str(name)] = _with_words(str(alternatives), words)
    return words


@lru_cache(maxsize=2)
def load_danger_rules(path: Path = DANGER_FILE) -> DangerRules:
    raw = read_yaml(path) or {}
    words = _word_lists(raw.get("words") or {})
    return DangerRules(
        situations={name: re.compile(_with_words(pattern, words))
                    for name, pattern in (raw.get("situations") or {}).items()},
        always=frozenset(raw.get("always") or ()),
        hypothetical=re.compile(_with_words(raw.get("hypothetical") or r"(?!)", words)),
        general=re.compile(_with_words(raw.get("general") or r"(?!)", words)),
        conditional=re.compile(raw.get("conditional") or r"(?!)"),
        over=re.compile(raw.get("over") or r"(?!)"),
        not_over=re.compile(raw.get("not_over") or r"(?!)"),
        past=re.compile(raw.get("past") or r"(?!)"),
        present=re.compile(raw.get("present") or r"(?!)"),
        still_now=frozenset(raw.get("still_now") or ()),
        asked_alone={name: re.compile(pattern) for name, pattern in (raw.get("asked_alone") or {}).items()},
        in_trouble=re.compile(raw.get("in_trouble") or r"(?!)"),
        aside=re.compile(_with_words(raw.get("aside") or r"(?!)", words)),
        weak_words=frozenset(str(w).lower() for w in raw.get("weak_words") or ()),
    )


def danger_level(text: str, rules: DangerRules | None = None) -> str | None:
    """SITUATION, QUESTION, WEAK, or None when the message has no sign of danger."""
    rules = rules or load_danger_rules()
    normalised = normalise(text)
    found = _dangers(normalised, rules)
    if not found:
        return WEAK if not rules.weak_words.isdisjoint(normalised.split()) else None
    if _told_over(normalised, rules, found) and rules.always.isdisjoint(found):
        return QUESTION  # "dulu dipukul majikan, sekarang sudah di rumah": the contacts are offered, not forced
    if any(_told_plainly(normalise(sentence.group(1)), rules) for sentence in _SENTENCE.finditer(text)
           if "?" not in sentence.group(2)):
        return SITUATION  # "blh ga sy minta gaji? majikan kurung sy di rumah": a question, then what happens
    if _asked_about_alone(text, normalised, rules, found):
        return QUESTION  # "majikan pegang paspor adik sy dr awal kerja, itu boleh ya?"
    first = min(found.values())
    goes_on = rules.present.search(normalised, first) is not None
    if _general_before(normalised, rules, first) and not goes_on:
        return QUESTION  # "takut nanti dijual kalau lewat calo", "apa itu TPPO ... disekap lalu dijual"
    if not rules.always.isdisjoint(found) or not _asked_before(normalised, rules, first):
        return SITUATION
    # "gimana cara lapor polisi, saya dipukul majikan tiap hari": asked, but it goes on now.
    return SITUATION if goes_on else QUESTION


def _asked_about_alone(text: str, normalised: str, rules: DangerRules, found: dict[str, int]) -> bool:
    """One question ("?" at its end and nowhere before, or only an `aside` after it) about situations that may be
    asked about as a rule, each asked about so, and no sign of trouble beside them."""
    question = text.strip()
    before, mark, after = question.rpartition("?")
    if mark and rules.aside.search(normalise(after)):
        question = before + mark
    return question.endswith("?") and "?" not in question.rstrip("?") \
        and all(name in rules.asked_alone and rules.asked_alone[name].search(normalised) for name in found) \
        and rules.present.search(normalised) is None and rules.in_trouble.search(normalised) is None


def _told_plainly(sentence: str, rules: DangerRules) -> bool:
    """A sentence (normalised; not one that ends in a question mark) that tells a danger with no word before it
    that makes it general or hypothetical."""
    found = _dangers(sentence, rules)
    if not found:
        return False
    first = min(found.values())
    return not _general_before(sentence, rules, first) and not _asked_before(sentence, rules, first)


def _dangers(normalised: str, rules: DangerRules) -> dict[str, int]:
    """The danger situations the (normalised) text tells, each with where its first sign starts."""
    return {name: match.start() for name, pattern in rules.situations.items() if (match := pattern.search(normalised))}


def _general_before(normalised: str, rules: DangerRules, first: int) -> bool:
    """A general question (a definition, a worry, a film) starts at or before the first danger word."""
    general = rules.general.search(normalised)
    return general is not None and general.start() <= first


def _asked_before(normalised: str, rules: DangerRules, first: int) -> bool:
    """A word that makes the danger hypothetical comes at or before the first danger word: "kalau paspor ditahan
    ..." asks in general; the condition of a threat ("bos ancam kalau lapor", "kalau protes, dia kurung di gudang")
    does not."""
    conditional = {match.start() for match in rules.conditional.finditer(normalised)}
    return any(m.start() <= first and m.start() not in conditional for m in rules.hypothetical.finditer(normalised))


def _past_before(normalised: str, rules: DangerRules, found: dict[str, int]) -> bool:
    """A word of the past ("dulu", "pernah", a year) before the first danger word."""
    past = rules.past.search(normalised)
    return past is not None and past.start() < min(found.values())


def told_over(text: str, rules: DangerRules | None = None) -> bool:
    """A danger told as past ("dulu", "pernah", "kasus lama", a year) and then said to be over, the person safe
    ("dulu dijual ke sawit, skrg sdh selamat di rumah"), for any kind of danger, also those `danger_level` never
    calls over by themselves: for a past case someone wants to report. Not "adik dikurung agen, sy sdh pulang"."""
    rules = rules or load_danger_rules()
    normalised = normalise(text)
    found = _dangers(normalised, rules)
    return bool(found) and _past_before(normalised, rules, found) and _told_over(normalised, rules, found)


def _told_over(normalised: str, rules: DangerRules, found: dict[str, int]) -> bool:
    """An `over` phrase after the last danger word (or after a "dulu" before the first), no `still_now` danger (a
    threat), and no word that says it goes on now ("agen datang ke rumah tiap malam")."""
    over_after = 0 if _past_before(normalised, rules, found) else max(found.values())
    return _over(normalised, rules, after=over_after) and rules.still_now.isdisjoint(found) \
        and rules.present.search(normalised) is None


def asks_generally(text: str, rules: DangerRules | None = None) -> bool:
    """The message asks in general (a definition, a film, a worry), whatever it is about."""
    return (rules or load_danger_rules()).general.search(normalise(text)) is not None


def is_over(text: str, rules: DangerRules | None = None) -> bool:
    """The message says a danger is past and the person safe ("sudah pulang", "sekarang sudah aman")."""
    return _over(normalise(text), rules or load_danger_rules())


def _over(normalised: str, rules: DangerRules, after: int = 0) -> bool:
    """An `over` phrase after position `after` (the last danger word), and no "masih" in the message."""
    return rules.over.search(normalised, after) is not None and rules.not_over.search(normalised) is None


def situations_in(text: str, rules: DangerRules | None = None) -> list[str]:
    """The names of the danger situations the message describes (for tests and evaluation reports)."""
    return list(_dangers(normalise(text), rules or load_danger_rules()))
