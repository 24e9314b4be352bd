"""Counting turns: the engine hands every turn to `InsightRecorder.record`, which only adds to in-memory counters
(a few microseconds); a background thread writes them to the database every few seconds and on close.

What is kept (see README "Insights"): per day, anonymous counters of meanings, outcomes, agency checks and job-offer
checks, and the text of missed messages after `scrub()` (normalised; digits, e-mail addresses, links and capitalised
words the bot does not know removed). Never a chat id, a user id, or a time finer than the day. A crash loses at most
the last `flush_seconds` of counts; the turn itself never waits for the database and never fails because of it.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.content import WITA, Content
from bot.nlu.normalise import load_slang, normalise
from bot.registry.mentions import company_mentions
from db.insights import InsightRepository

if TYPE_CHECKING:  # the engine's types, named here only for the type checker (insights sit below dialogue)
    from bot.dialogue.messages import Incoming, Turn
    from bot.offers.analyse import OfferCheck

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
MISSED_KEEP = timedelta(days=90)
MAX_BUFFERED_MISSED = 5000  # beyond this (the database is away for long), new missed messages are dropped
MISSED_OUTCOMES = ("not_understood", "clarify")
# Meanings that are not a question: a command, a report step, a typed option number, nothing typed.
NOT_A_QUESTION = frozenset({"command", "report_step", "option", "empty", "no_words"})
UNSURE_LABELS = ("nlu_fallback", "", None)
NAME_PLACEHOLDER = "[nama]"
_PLACEHOLDER_WORD = "qqnamaqq"  # survives normalise(), replaced by NAME_PLACEHOLDER afterwards
_EMAIL = re.compile(r"\S+@\S+")
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
_DIGITS = re.compile(r"\d+")


def today_wita(now: datetime | None = None) -> date:
    """Days are counted in NTT's time zone (WITA, UTC+8), the task force's working day."""
    return (now or datetime.now(UTC)).astimezone(WITA).date()


@dataclass(frozen=True)
class Observation:
    """What one turn adds: counter keys (kind, key) and, when missed, the raw text with its outcome and guess."""

    counts: tuple[tuple[str, str], ...]
    missed: tuple[str, str, str] | None = None  # (raw text, outcome, guess)


class Vocabulary:
    """Words the bot knows (training examples, FAQ answers, slang, countries, regencies): a capitalised word outside
    it may be a person's name and is not kept."""

    def __init__(self, content: Content, nlu_data_dir: Path):
        from bot.nlu.training_data import matcher_examples

        words: set[str] = set()
        for _label, text in matcher_examples(content, nlu_data_dir):
            words.update(text.split())
        for topic in content.topics.values():  # the answers' words too: editors' plain Indonesian
            words.update(normalise(re.sub(r"<[^>]+>|\{[{%#].*?[}%#]\}", " ", f"{topic.title} {topic.answer}")).split())
        for word, standard in load_slang().items():
            words.add(word)
            words.update(standard.split())
        for country in content.countries.values():
            for name in country.all_names:
                words.update(normalise(str(name)).split())
        for name in content.report_options.regencies.values():
            words.update(normalise(str(name)).split())
        lookups = nlu_data_dir / "lookups.yml"
        if lookups.exists():
            words.update(re.findall(r"[a-z]+", lookups.read_text(encoding="utf-8").lower()))
        self.words = frozenset(words)

    def __contains__(self, word: str) -> bool:
        return word in self.words


def scrub(text: str, vocabulary: Vocabulary | frozenset[str]) -> str:
    """The message as kept: links and e-mail addresses dropped, capitalised words the bot does not know replaced by
    [nama], normalised (lower case, slang), digits removed."""
    text = _LINK.sub(" ", _EMAIL.sub(" ", text))

    def maybe_name(match: re.Match[str]) -> str:
        word = match.group(0)
        if not word[:1].isupper():
            return word
        known = normalise(word)
        return word if known and all(part in vocabulary for part in known.split()) else _PLACEHOLDER_WORD

    text = _WORD.sub(maybe_name, text)
    words = [_DIGITS.sub("", word).strip("-/") for word in normalise(text).split()]
    kept: list[str] = []
    for word in words:
        word = NAME_PLACEHOLDER if word == _PLACEHOLDER_WORD else word
        repeated_name = word == NAME_PLACEHOLDER and kept and kept[-1] == NAME_PLACEHOLDER
        if any(ch.isalpha() for ch in word) and not repeated_name:
            kept.append(word)
    return " ".join(kept)


def unknown_company_names(text: str, parts: list[str]) -> list[str]:
    """The names typed after PT/CV that the registry did not find (`parts`: the meaning's verdicts, "?" = not
    found, in the order the engine looked the mentions up). Only strong markers: a bare word may be a person's
    name."""
    mentions = company_mentions(text)
    if len(mentions) == len(parts):
        mentions = [m for m, part in zip(mentions, parts, strict=True) if part == "?"]
    elif parts != ["?"]:
        return []  # cannot tell which name was not found
    names = []
    for mention in mentions:
        if mention.strong:
            name = " ".join(_DIGITS.sub("", normalise(mention.text)).split())
            if sum(ch.isalpha() for ch in name) >= 3:
                names.append(name)
    return names


def observe(text: str | None, press: str | None, turn: Turn) -> Observation | None:
    """Classify one turn; None when it adds nothing (an attachment, a command, a report step ...)."""
    meaning = turn.meaning
    if press is not None:
        kind, _, arg = press.partition(":")
        if kind == "faq" and arg:
            return Observation((("button", f"faq/{arg}"),))
        if kind == "country" and arg:
            return Observation((("button", f"country:{arg}"),))
        return None
    if text is None or meaning is None or meaning in NOT_A_QUESTION:
        return None
    guess = turn.intent if turn.intent not in UNSURE_LABELS else ""
    if meaning in MISSED_OUTCOMES:
        return Observation((("outcome", meaning),), (text, meaning, guess or ""))
    counts: list[tuple[str, str]] = []
    topic = meaning
    if meaning.startswith("agency:"):
        topic = "check_agency"
        parts = meaning[len("agency:"):].split("|")
        counts += [("agency", part) for part in parts]
        if "?" in parts:
            counts += [("agency_unknown", name) for name in unknown_company_names(text, parts)[:3]]
    elif meaning.startswith("offer"):
        topic = "check_offer"  # the check itself is counted by InsightRecorder.offer_checked
    elif (asked := turn.after_emergency) is not None:  # the contacts and then the topic asked: each counted
        counts.append(("topic", "emergency"))
        topic = asked
    counts.append(("topic", topic))
    unsure = not turn.sure
    counts.append(("outcome", "unsure" if unsure else "answered"))
    return Observation(tuple(counts), (text, "unsure", meaning) if unsure else None)


def offer_check_counts(check: OfferCheck) -> list[tuple[str, str]]:
    """Counter keys for one job-offer check: the offer, its verdict, each sign found, the verdict of each company it
    names and each country it names. Nothing of the offer's text."""
    counts = [("offer", "checked"), ("offer", f"verdict:{check.verdict}")]
    counts += [("offer_sign", sign) for sign in sorted(check.sign_ids)]
    counts += [("offer_agency", str(agency.verdict)) for agency in check.agencies if agency.verdict]
    counts += [("offer_country", code) for code in check.countries]
    return counts


class InsightRecorder:
    """Counts turns in memory and writes them to the database from a background thread."""

    def __init__(self, repository: InsightRepository, nlu_data_dir: Path, flush_seconds: float = FLUSH_SECONDS,
                 background: bool = True, clock: Callable[[], datetime] | None = None):
        self._repository = repository
        self._last_error = 0.0
        self._clock = clock or (lambda: datetime.now(UTC))
        self._nlu_data_dir = nlu_data_dir
        self._lock = threading.Lock()
        self._counts: Counter[tuple[date, str, str]] = Counter()
        self._missed: list[tuple[date, str, str, str]] = []
        # Missed messages already scrubbed whose write failed.
        self._scrubbed: Counter[tuple[date, str, str, str]] = Counter()
        self._vocabulary: tuple[Content, Vocabulary] | None = None
        self._last_content: Content | None = None
        self._purged_on: date | None = None
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, args=(flush_seconds,), name="insights", daemon=True)
            self._thread.start()

    # ---- the hot path: called by the engine after every turn ----------------------------------

    def record(self, message: Incoming, turn: Turn, content: Content) -> None:
        """Add one turn to the counters (never raises; never touches the database)."""
        try:
            observation = observe(message.text, message.press, turn)
            if observation is None:
                return
            day = today_wita(self._clock())
            with self._lock:
                self._last_content = content
                for kind, key in observation.counts:
                    self._counts[(day, kind, key)] += 1
                if observation.missed is not None and len(self._missed) < MAX_BUFFERED_MISSED:
                    self._missed.append((day, *observation.missed))
        except Exception:  # noqa: BLE001 - counting must never break a conversation
            if time.monotonic() - self._last_error > 60:  # at most one traceback a minute
                self._last_error = time.monotonic()
                log.exception("could not count a turn for insights")

    def offer_checked(self, check: OfferCheck) -> None:
        """Count one job-offer check (the engine calls this with the `OfferCheck` whenever an offer is analysed,
        typed, forwarded or as a photo's caption)."""
        try:
            day = today_wita(self._clock())
            keys = offer_check_counts(check)
            with self._lock:
                for kind, key in keys:
                    self._counts[(day, kind, key)] += 1
        except Exception:  # noqa: BLE001 - counting must never break a conversation
            if time.monotonic() - self._last_error > 60:
                self._last_error = time.monotonic()
                log.exception("could not count an offer check for insights")

    # ---- the background side ------------------------------------------------------------------

    def flush(self) -> None:
        """Write what was counted so far (scrubbing missed messages first); keep it for later if the database fails."""
        with self._flush_lock:
            with self._lock:
                counts, self._counts = self._counts, Counter()
                missed, self._missed = self._missed, []
                content = self._last_content
            scrubbed, self._scrubbed = self._scrubbed, Counter()
            if not counts and not missed and not scrubbed:
                return
            if missed and content is not None:
                vocabulary = self._vocabulary_for(content)
                for day, text, outcome, guess in missed:
                    kept = scrub(text, vocabulary)
                    if kept:
                        scrubbed[(day, kept, outcome, guess)] += 1
            try:
                self._repository.add(dict(counts), dict(scrubbed))
                self._purge()
            except Exception:  # noqa: BLE001 - the database may be away for a moment: try again next time
                log.exception("could not write insight counters; keeping them for the next attempt")
                with self._lock:
                    self._counts.update(counts)
                if len(scrubbed) <= MAX_BUFFERED_MISSED:
                    self._scrubbed.update(scrubbed)  # raw text is never kept past the first attempt

    def _vocabulary_for(self, content: Content) -> Vocabulary:
        if self._vocabulary is None or self._vocabulary[0] is not content:
            self._vocabulary = (content, Vocabulary(content, self._nlu_data_dir))
        return self._vocabulary[1]

    def _purge(self) -> None:
        today = today_wita(self._clock())
        if self._purged_on != today:
            self._repository.forget_missed_before(today - MISSED_KEEP)
            self._purged_on = today

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - e.g. unreadable NLU data for the vocabulary: keep the thread alive
                log.exception("insights flush failed; these missed messages are dropped")

    def close(self) -> None:
        """Stop the background thread and write the rest."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
