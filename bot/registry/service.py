"""Agency lookup: tolerant matching of what people type against the registry, and the seed data."""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot.registry.contained import NameWords
from bot.registry.importer import parse_rows, read_table
from bot.registry.mentions import COMPANY_CUES, GENERIC_WORDS, NAME_WORDS, PLACE_WORDS, STOP_WORDS
from bot.registry.names import forms_around, initials, licence_key, normalise_name, registered_form
from db.agencies import AgencyRecord, AgencyRepository, AgencyRow

SEED_DIR = Path(__file__).resolve().parents[2] / "db" / "seed"
SANCTIONS_FILE = SEED_DIR / "p3mi_sanctions.csv"
DEMO_FILE = SEED_DIR / "demo_agencies.csv"
SANCTIONS_SOURCE = "berita tentang sanksi P3MI (lihat sumber tiap perusahaan)"
DEMO_SOURCE = "data contoh untuk uji coba"

# Words people add around a company name that are not part of it (the words that end a name in free text too).
QUERY_NOISE = STOP_WORDS | GENERIC_WORDS | {
    "cek", "check", "tolong", "apakah", "perusahaan", "agen", "agency", "penyalur", "p3mi", "pjtki", "nya",
    "terdaftar", "benar", "kak", "dong", "sih", "bukan", "gak", "ga", "gk", "ngga", "nggak", "kah", "ko",
}
# Two names this close (edits) are the same name typed with a slip: "sinar jaja" is "sinar jaya".
SLIP_EDITS = 1
SLIP_EDITS_LONG = 2
LONG_NAME = 14
MIN_QUERY_LETTERS = 3
MAX_TEXT = 600  # characters of a message searched for names and licence numbers
MAX_LICENCE_PARTS = 6
CLEAR_SCORE = 88.0
CLEAR_MARGIN = 6.0
CANDIDATE_SCORE = 70.0
MAX_CHOICES = 3
MAX_PARTIAL_CHARS = 80  # a message this short may name companies by a part of their names
MAX_OTHER_WORDS = 3  # words beside a partial name that no registered name has
MIN_LONE_WORD = 6  # letters a single word of a name needs to count alone ("alwihda"; not "intan", "tulus")
MIN_LONE_WORD_MARKED = 5  # after PT/agen ("pt ramzy")
# Words that join two companies in one question ("multi intan ato putri samawa", "elsafa vs tulus widodo").
NAME_SEPARATORS = re.compile(r"\b(?:atau|ato|atw|dan|vs|versus|sama|dengan|dgn|or|and)\b|[,/&+]")
# A part of a message that starts with a company marker and a word of a registered name ("pt ramzy ...").
MARKED_PART = re.compile(r"\W*(?:pt|p\.t|cv|agen|agensi|agency|perusahaan|penyalur|yayasan|lpk)\b\W*(\w+)")
# Words that are no part of a name after it: di-/ter- verbs ending in -kan or -i and words ending in -nya
# ("dihentikan", "sanksinya"), besides the stop words, places and noise of queries.
_VERB_LIKE = re.compile(r"(di|ter)\w{3,}(kan|i)|\w{3,}nya")
STALE_AFTER_DAYS = 30
PREFILTER = 20
VERSION_CHECK_SECONDS = 1.0  # how stale the in-memory index may be after an import by another process


class Found(StrEnum):
    """How clearly a query names registered agencies."""

    CLEAR = "clear"  # one agency
    SEVERAL = "several"  # up to three to choose from
    NONE = "none"  # no agency by that name (agency_ids: similar names, if any)
    TOO_SHORT = "too_short"  # too little of a name to search for


@dataclass(frozen=True)
class Lookup:
    kind: Found
    agency_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class DataStamp:
    """What the "Data per <tanggal>, sumber ..." line says, and whether the data may be out of date."""

    as_of: date
    source: str
    stale: bool


def _score(query: str, choice: str) -> float:
    # token_set_ratio forgives extra or missing words; token_sort_ratio keeps "Sinar Jaya" and
    # "Sinar Jaya Abadi" apart; WRatio forgives typos inside words.
    return 0.45 * fuzz.token_set_ratio(query, choice) + 0.35 * fuzz.token_sort_ratio(query, choice) \
        + 0.20 * fuzz.WRatio(query, choice)


def _best(scores: np.ndarray, limit: int) -> np.ndarray:
    """The positions of the `limit` highest scores, ties to the earlier name (as rapidfuzz's extract orders them)."""
    return np.argsort(-scores, kind="stable")[:limit]


def clean_query(text: str) -> str:
    """The distinctive name in a query: noise words dropped, then a trailing place ("... kupang", "di jakarta")."""
    words = normalise_name(text).split()
    kept = [w for w in words if w not in QUERY_NOISE]
    while len(kept) > 1 and kept[-1] in PLACE_WORDS and _place_may_go(kept):
        kept.pop()
    return " ".join(kept)


def _no_part_of_a_name(word: str) -> bool:
    normal = normalise_name(word)
    return not normal or normal in QUERY_NOISE or normal in PLACE_WORDS or (
        normal not in NAME_WORDS and _VERB_LIKE.fullmatch(normal) is not None)


def _place_may_go(words: list[str]) -> bool:
    # Keep a place word that is part of a two-word name ("bintang timur"): only a name of 3+ words loses it.
    return len(words) > 2 or words[-1] not in ("timur", "barat", "utara", "selatan", "nusa", "jawa")


class AgencyRegistry:
    """Matches queries against an in-memory index of names, rebuilt when the registry changes."""

    def __init__(self, repository: AgencyRepository):
        self.repository = repository
        self._lock = threading.Lock()
        self._version: tuple[int | None] | None = None
        self._checked_at = float("-inf")  # time.monotonic() of the last look at the registry's version
        self._names: list[str] = []
        self._owners: list[int] = []
        self._with_word: dict[str, list[int]] = {}  # a word -> the names (positions in _names) that have it
        self._unique_words: list[str] = []  # the names without repeated words (the same list when none has any)
        self._licences: dict[str, list[int]] = {}
        self._initials: dict[str, list[int]] = {}
        self._exact: dict[str, list[int]] = {}
        self._names_of: dict[int, list[str]] = {}
        self._by_length: dict[int, tuple[list[str], list[int]]] = {}  # names (and owners) by length
        self._name_words = NameWords([], [])

    def _refresh(self) -> None:
        """Rebuild the index when the registry changed. The database is asked at most once a second (a message
        looks names up several times; each look would otherwise be a round trip), so an import shows within a
        second everywhere."""
        if time.monotonic() - self._checked_at < VERSION_CHECK_SECONDS:
            return
        version = self.repository.version()
        with self._lock:
            self._checked_at = time.monotonic()
            if version == self._version:
                return
            names: list[str] = []
            owners: list[int] = []
            with_word: dict[str, list[int]] = {}
            licences: dict[str, list[int]] = {}
            acronyms: dict[str, list[int]] = {}
            exact: dict[str, list[int]] = {}
            names_of: dict[int, list[str]] = {}
            by_length: dict[int, tuple[list[str], list[int]]] = {}
            for entry in self.repository.match_entries():
                # Stored names are normalised again: rows imported before a change of the normal form still match.
                for name in (normalise_name(entry.normalized_name), *(normalise_name(a) for a in entry.aliases)):
                    if name:
                        for word in set(name.split()):
                            with_word.setdefault(word, []).append(len(names))
                        names.append(name)
                        owners.append(entry.id)
                        _add(exact, name, entry.id)
                        names_of.setdefault(entry.id, []).append(name)
                        bucket = by_length.setdefault(len(name), ([], []))
                        bucket[0].append(name)
                        bucket[1].append(entry.id)
                        if len(name.split()) >= 2:
                            _add(acronyms, initials(name), entry.id)
                if entry.licence_number and (key := licence_key(entry.licence_number)):
                    _add(licences, key, entry.id)
            self._names, self._owners, self._with_word = names, owners, with_word
            unique_words = [" ".join(dict.fromkeys(name.split())) for name in names]
            self._unique_words = names if unique_words == names else unique_words
            self._licences, self._initials, self._exact = licences, acronyms, exact
            self._names_of, self._by_length = names_of, by_length
            self._name_words = NameWords(names, owners)
            self._version = version

    def lookup(self, text: str) -> Lookup:
        self._refresh()
        by_licence = self.by_licence(text)
        if by_licence:
            return found_lookup(by_licence)
        query = clean_query(text[:300])
        if sum(ch.isalpha() for ch in query) < MIN_QUERY_LETTERS:
            return Lookup(Found.TOO_SHORT)
        if query in self._exact:
            return found_lookup(self._exact[query])
        if joined := self._name_words.joined(query):
            return found_lookup(joined)
        if " " not in query and query in self._initials:
            # An acronym is a guess ("SMK" is also a school, a recruiter's "PT TWP" any company): "did you mean".
            return Lookup(Found.SEVERAL, tuple(self._initials[query][:MAX_CHOICES]))
        best: dict[int, float] = {}
        shortlist = self._shortlist(query)
        for index in shortlist:
            owner = self._owners[index]
            best[owner] = max(best.get(owner, 0.0), _score(query, self._names[index]))
        ranked = sorted(best.items(), key=lambda pair: pair[1], reverse=True)
        ranked = [(owner, score) for owner, score in ranked if score >= CANDIDATE_SCORE]
        if not ranked:
            return Lookup(Found.NONE)
        slips = {self._owners[i] for i in shortlist if _is_slip(query, self._names[i])}
        if len(slips) == 1:
            return Lookup(Found.CLEAR, (slips.pop(),))
        top_owner, top_score = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if top_score >= CLEAR_SCORE and top_score - runner_up >= CLEAR_MARGIN and self._covers(top_owner, query):
            return self._part_of(top_owner, query)
        owners = tuple(owner for owner, _score in ranked[:MAX_CHOICES])
        if len(owners) == 1 and self._has_words(top_owner, query):
            return self._part_of(top_owner, query)  # "agen elsafa": words of one registered name, like no other
        if any(self._covers(owner, query) for owner in owners):
            return Lookup(Found.SEVERAL, owners)
        # The name has words no registered company has: a different company, whatever it resembles.
        return Lookup(Found.NONE, owners)

    def _shortlist(self, query: str) -> set[int]:
        """The names (positions in `_names`) most like the query by rapidfuzz's fast C scorers, for the finer
        composite score to rank."""
        # token_set_ratio is computed only for the names sharing a word with the query: for any other name it is
        # token_sort_ratio of the words without repeats, which one pass over the registry gives for every name.
        # (A question that names no company, "PT tagih 6 juta", then costs one scorer over the registry, not two.)
        by_sort = process.cdist([query], self._names, scorer=fuzz.token_sort_ratio)[0]
        unique_query = " ".join(dict.fromkeys(query.split()))
        if unique_query == query and self._unique_words is self._names:
            by_set = by_sort.copy()
        else:
            by_set = process.cdist([unique_query], self._unique_words, scorer=fuzz.token_sort_ratio)[0]
        sharing = sorted({index for word in set(query.split()) for index in self._with_word.get(word, ())})
        if sharing:
            by_set[sharing] = process.cdist([query], [self._names[i] for i in sharing], scorer=fuzz.token_set_ratio)[0]
        return {int(i) for scores in (by_set, by_sort) for i in _best(scores, PREFILTER)}

    def lookup_mention(self, text: str) -> Lookup:
        """A name as typed after PT/CV/agen (`bot/registry/mentions.py`), which may run on into the sentence. When
        the whole finds no company, the longest registered name it starts with (or a part of one name like no other)
        decides, by what follows it: a company-name word makes another company ("PT Sinar Jaya Makmur" is not PT
        Sinar Jaya); words that are no part of a name (particles, places, "dihentikan", "sanksinya") or any words
        after a name of three words or more make that company ("PT Alfa Nusantara Perdana termasuk ...", "PT Alwihda
        Jaya Sentosa pungut biaya ..."); other words after a shorter name leave a question ("pt sinar jaya gemilang":
        did you mean PT Sinar Jaya?)."""
        lookup = self.lookup(text)
        if lookup.kind in (Found.CLEAR, Found.SEVERAL):
            return lookup
        words = text.split()
        mixed_case = any(ch.isupper() for ch in text) and any(ch.islower() for ch in text)
        for end in range(len(words) - 1, 1, -1):
            following = normalise_name(words[end])
            capitalised = mixed_case and words[end][:1].isupper()
            if following in NAME_WORDS or self._name_words.has_word(following) or capitalised:
                break
            prefix = " ".join(words[:end])
            found = self.exact_lookup(prefix)
            if found is None and (owner := self._name_words.only_owner(clean_query(prefix).split())) is not None:
                found = self._part_of(owner, clean_query(prefix))  # "PT Ramzy Cahaya dihentikan ...": a part
            if found is None or found.kind == Found.NONE:
                continue
            if len(clean_query(prefix).split()) >= 3 or all(_no_part_of_a_name(word) for word in words[end:]):
                return found
            return Lookup(Found.SEVERAL, found.agency_ids)
        return lookup

    def partial_names(self, text: str) -> list[tuple[str, Lookup]]:
        """Parts of registered names in a short message, each as (the words, their lookup) ("multi intan ato putri
        samawa", "pt ramzy msh bs brangkatin?"): the words of each part that a registered name has (exactly or with a
        slip) are words of that one name and of no other; a part made only of common name words ("setia mulia
        aman?") is not found, that company shown as another one (`_part_of`). A part with one such word counts only
        right after PT/agen/perusahaan, as the whole message ("alwihda"), or beside a part with two ("alwihda sama
        alfa nusantara"): given names ("adik sy Intan ... lewat agen") and ordinary words ("izin keluarga") are not
        companies. Words no registered name has may stand beside them only in a part marked so, and never a
        company-name word ("Elsafa Tour")."""
        self._refresh()
        if len(text) > MAX_PARTIAL_CHARS:
            return []
        pieces = NAME_SEPARATORS.split(text.lower())
        marked = [self._marked(piece) for piece in pieces]
        resolved = [[(word, self._name_words.known(word)) for word in clean_query(piece).split()] for piece in pieces]
        others = [word for pairs in resolved for word, name_word in pairs if name_word is None]
        if others and (not any(marked) or len(others) > MAX_OTHER_WORDS or not NAME_WORDS.isdisjoint(others)):
            return []
        known = [[name_word for _word, name_word in pairs if name_word is not None] for pairs in resolved]
        two_words = any(len(words) >= 2 for words in known)
        only_a_word = len(normalise_name(text).split()) == 1
        parts: dict[int, tuple[str, Lookup]] = {}
        for words, part_marked in zip(known, marked, strict=True):
            if not words:
                continue
            if len(words) == 1:
                shortest = MIN_LONE_WORD_MARKED if part_marked else MIN_LONE_WORD
                if len(words[0]) < shortest or words[0] in NAME_WORDS or words[0] in PLACE_WORDS:
                    continue
                if not (part_marked or only_a_word or two_words):
                    continue
            owner = self._name_words.only_owner(words)
            if owner is not None and owner not in parts:
                parts[owner] = (" ".join(words).title(), self._part_of(owner, " ".join(words)))
        return list(parts.values())

    def _marked(self, piece: str) -> bool:
        """Whether a piece of a message starts with PT/agen/... and then a word of a registered name."""
        match = MARKED_PART.match(piece)
        return match is not None and self._name_words.known(normalise_name(match.group(1))) is not None

    def named_in(self, text: str) -> list[int]:
        """Agencies whose registered name appears whole in the text (see bot/registry/contained.py)."""
        self._refresh()
        return self._name_words.find(text[:MAX_TEXT])

    def pairs_in(self, text: str, found: set[int]) -> list[tuple[str, Lookup]]:
        """Companies other than `found` that a message about a company (PT, agen, resmi, daftar lewat ...) may name
        by two neighbouring words of their registered name, one of them a word of five letters or more that is no
        common name, place or question word ("daftar lwt alwihda jaya, aman?", "putri samawa ato ramzy cahaya
        karya"): a part is never the answer (another company may share it), so the user is asked "did you mean"."""
        self._refresh()
        if not COMPANY_CUES.search(text[:MAX_TEXT].lower()):
            return []
        parts: dict[int, tuple[str, Lookup]] = {}
        for words, owner in self._name_words.pairs(text[:MAX_TEXT]):
            distinctive = any(len(word) >= MIN_LONE_WORD_MARKED and word not in NAME_WORDS | PLACE_WORDS
                              | GENERIC_WORDS | STOP_WORDS for word in words.split())
            if owner not in found and owner not in parts and distinctive:
                parts[owner] = (words, Lookup(Found.SEVERAL, (owner,)))
        return list(parts.values())

    def exact_lookup(self, text: str) -> Lookup | None:
        """A message that may be nothing but a company's name: found only by its exact name (after normalisation)
        or with a one-letter slip, never by resemblance. Cheap enough to run on every message."""
        self._refresh()
        query = clean_query(text[:300])
        if sum(ch.isalpha() for ch in query) < MIN_QUERY_LETTERS:
            return None
        if query in self._exact:
            return found_lookup(self._exact[query])
        if joined := self._name_words.joined(query):
            return found_lookup(joined)
        if len(query) < 6:
            return None
        limit = SLIP_EDITS_LONG if len(query) >= LONG_NAME else SLIP_EDITS
        slips = set()
        for size in range(len(query) - limit, len(query) + limit + 1):
            names, owners = self._by_length.get(size, ((), ()))
            slips |= {owners[index] for _name, _distance, index in process.extract(
                query, names, scorer=Levenshtein.distance, score_cutoff=limit, limit=None)}
        return Lookup(Found.CLEAR, (slips.pop(),)) if len(slips) == 1 else None

    def written_whole(self, agency: AgencyRecord, text: str) -> bool:
        """Whether the text has one of the agency's registered names, word for word in order, or its licence
        number: a verdict found by a part of the name, a slip, an acronym or the words in another order ("Abadi
        Sinar Jaya" may be another company) was not asked as registered."""
        self._refresh()
        if agency.id in self.by_licence(text):
            return True
        written = f" {normalise_name(text[:MAX_TEXT])} "
        return any(f" {name} " in written for name in self._names_of.get(agency.id, ()))

    def named_exactly(self, agency: AgencyRecord, name: str) -> bool:
        """Whether a name typed alone is one of the agency's registered names (after normalisation) or its licence
        number: "PT Sinar Jaya Gemilang" is not PT Sinar Jaya, though it has all of that name's words."""
        self._refresh()
        query = clean_query(name[:300])
        return (agency.id in self.by_licence(name) or agency.id in self._exact.get(query, ())
                or agency.id in self._name_words.joined(query))

    def other_form(self, agency: AgencyRecord, text: str) -> str | None:
        """A legal form other than PT written with the agency's name (or the first two words of a longer one)
        in the text, when it is not the registered one: "CV Sinar Jaya" -> "cv" (a placement company must be a PT)."""
        registered = registered_form(agency.name) or "pt"
        return next((form for form in self._forms_written(agency, text) if form not in (None, "pt", registered)), None)

    def only_other_form(self, agency: AgencyRecord, text: str) -> bool:
        """Whether every place the text names the agency has another legal form with it ("CV Sinar Jaya resmi?";
        not "CV Sinar Jaya atau PT Sinar Jaya"): another company, since a placement company must be a PT."""
        registered = registered_form(agency.name) or "pt"
        forms = self._forms_written(agency, text)
        return bool(forms) and all(form not in (None, "pt", registered) for form in forms)

    def _forms_written(self, agency: AgencyRecord, text: str) -> list[str | None]:
        """The legal form (or None) before each place the text names the agency (its whole name, and the first two
        words of a longer one unless they are another company's name), not where the name runs on into a longer one
        ("Sinar Jaya Abadi")."""
        self._refresh()
        forms: list[str | None] = []
        for name in self._names_of.get(agency.id, ()):
            words = name.split()
            written = forms_around(text[:MAX_TEXT], name)
            start = " ".join(words[:2])
            if len(words) >= 3 and start not in self._exact:  # "CV Alwihda Jaya", not another company ("Sinar Jaya")
                written += [(form, following) for form, following in forms_around(text[:MAX_TEXT], start)
                            if following != words[2]]  # nor the start of "Alwihda Jaya Sentosa" written whole
            forms += [form for form, following in written if not self._runs_into_another(name, following)]
        return forms

    def _runs_into_another(self, name: str, following: str) -> bool:
        """Whether the word after a name makes it another name: a company-name word, or the next word of a longer
        registered name ("sinar jaya abadi" is not PT Sinar Jaya)."""
        return bool(following) and (following in NAME_WORDS or any(other.startswith(f"{name} {following}")
                                                                   for other in self._names))

    def _part_of(self, owner: int, query: str) -> Lookup:
        """The verdict for a query made of (nearly) the words of one registered name: that company when the query
        is its whole name or has a word few company names share ("pt ramzy", "multi intan"); otherwise not found,
        the company shown as a similar, other one. A part made only of common name words ("PT Jaya Abadi" beside
        the licensed PT Sinar Jaya Abadi) may be another company borrowing a licensed name: it must never be told
        that company's licence."""
        whole = any(_words_covered(name, query) for name in self._names_of.get(owner, ()))
        distinctive = any(word not in NAME_WORDS and word not in PLACE_WORDS for word in query.split())
        return Lookup(Found.CLEAR if whole or distinctive else Found.NONE, (owner,))

    def _has_words(self, owner: int, query: str) -> bool:
        """Whether every word of the query is, exactly, a word of one of the owner's names."""
        return any(set(query.split()) <= set(name.split()) for name in self._names_of.get(owner, ()))

    def _covers(self, owner: int, query: str) -> bool:
        """Whether every word of the query is (nearly) a word of one of the owner's names."""
        return any(_words_covered(query, name) for name in self._names_of.get(owner, ()))

    def by_licence(self, text: str) -> list[int]:
        """The agencies whose licence number appears in the text, written with any separators and case: every run
        of up to MAX_LICENCE_PARTS letter-or-digit groups is tried ("no izin DEMO 0004 - 2021 msh berlaku?")."""
        self._refresh()
        parts = re.findall(r"[A-Za-z0-9]+", text[:MAX_TEXT])
        for start in range(len(parts)):
            for end in range(start + 1, min(start + MAX_LICENCE_PARTS, len(parts)) + 1):
                key = licence_key(" ".join(parts[start:end]))
                if any(ch.isdigit() for ch in key) and key in self._licences:
                    return self._licences[key]
        return []

    def get(self, agency_id: int) -> AgencyRecord | None:
        return self.repository.get(agency_id)

    def stamp(self, agency: AgencyRecord) -> DataStamp:
        """The data behind a verdict: the demo list, or the latest import/seed."""
        latest = self.repository.latest_sync(("demo",) if agency.is_demo else ("import", "seed"))
        return _stamp(*(latest or (agency.source, agency.last_synced_at)))

    def registry_stamp(self) -> DataStamp | None:
        """The data a "not found" rests on: the latest import, seed or demo list."""
        latest = self.repository.latest_sync(("import", "seed", "demo"))
        return _stamp(*latest) if latest else None


def _stamp(source: str, synced_at: datetime) -> DataStamp:
    as_of = synced_at.date()
    stale = (datetime.now(UTC).date() - as_of).days > STALE_AFTER_DAYS
    return DataStamp(as_of=as_of, source=source, stale=stale)


def _is_slip(query: str, name: str) -> bool:
    limit = SLIP_EDITS_LONG if len(name) >= LONG_NAME else SLIP_EDITS
    return len(name) >= 6 and Levenshtein.distance(query, name, score_cutoff=limit) <= limit


def _words_covered(query: str, name: str) -> bool:
    name_words = name.split()
    return all(any(fuzz.ratio(word, other) >= 80 for other in name_words) for word in query.split())


def _add(index: dict[str, list[int]], key: str, agency_id: int) -> None:
    ids = index.setdefault(key, [])
    if agency_id not in ids:
        ids.append(agency_id)


def found_lookup(ids: list[int]) -> Lookup:
    """Agencies found by licence number or exact name: one is the answer, several are to choose from."""
    return Lookup(Found.CLEAR if len(ids) == 1 else Found.SEVERAL, tuple(ids[:MAX_CHOICES]))


def seed_registry(repository: AgencyRepository) -> int:
    """Load the sanction news (real rows, each with its source) and, until a real list is imported, the demo list.

    The seed's date is that of its newest decision, so answers show how old the news is."""
    rows = _read_seed(SANCTIONS_FILE)
    added = repository.seed(rows, SANCTIONS_SOURCE, "seed", as_of=max(r.status_date for r in rows if r.status_date))
    if repository.latest_sync(("import",)) is None:
        added += repository.seed(_read_seed(DEMO_FILE), DEMO_SOURCE, "demo")
    return added


def _read_seed(path: Path) -> list[AgencyRow]:
    rows, problems = parse_rows(read_table(path))
    if problems:
        raise ValueError(f"{path}: {problems[0]}")
    return rows
