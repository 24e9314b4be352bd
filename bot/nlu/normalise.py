"""Text normalisation applied before NLU, before the local classifier, and to training examples alike."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.settings import PROJECT_ROOT
from bot.yaml_files import read_yaml

MAX_NLU_CHARS = 500
SLANG_FILE = PROJECT_ROOT / "nlu_data" / "slang.yml"

_REPEATED_LETTERS = re.compile(r"([a-z])\1{2,}")
_REDUPLICATION = re.compile(r"\b([a-z]{2,})2\b")
_NOT_WORD = re.compile(r"[^\w\s/-]|_")
_PLACE_BEFORE = frozenset({"di", "ke", "dari", "dr", "bandara", "airport", "terminal", "sampai", "tiba"})


def load_slang(path: Path = SLANG_FILE) -> dict[str, str]:
    """The informal-Indonesian and Kupang-Malay word map (one word -> standard words)."""
    return _word_maps(path).words


@dataclass(frozen=True)
class _WordMaps:
    words: dict[str, str]
    places: dict[str, str]  # abbreviations that are places only after di/ke/... or before a clause end ("di kl")
    subjects: dict[str, str]  # "sa" -> "saya" before a word of `subject_before` or after one of `subject_after`
    subject_before: frozenset[str]
    subject_after: frozenset[str]
    subject_never_after: frozenset[str]  # "apa sa": "saja" whatever follows
    passive_stems: frozenset[str]  # verbs whose passive "di" people type apart ("di tahan": "ditahan")
    english_after: dict[str, frozenset[str]]  # "son" stays English after "my", "the"... ("my son", not "my tidak")


@lru_cache(maxsize=4)
def _word_maps(path: Path) -> _WordMaps:
    raw = read_yaml(path) or {}

    def word_map(key: str) -> dict[str, str]:
        return {str(k).lower(): str(v).lower() for k, v in (raw.get(key) or {}).items()}

    def word_set(key: str) -> frozenset[str]:
        return frozenset(str(w).lower() for w in raw.get(key) or [])

    english_after = {str(word).lower(): frozenset(str(w).lower() for w in before)
                     for word, before in (raw.get("english_after") or {}).items()}
    return _WordMaps(word_map("words"), word_map("places"), word_map("subjects"), word_set("subject_before"),
                     word_set("subject_after"), word_set("subject_never_after"), word_set("passive_stems"),
                     english_after)


@lru_cache(maxsize=4)
def _clause_end(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf"\b({'|'.join(map(re.escape, words))})\b(?=[ \t]*(?:[^\w\s]|\n|$))")


def normalise(text: str, slang: dict[str, str] | None = None) -> str:
    """Lower-case, keep the first MAX_NLU_CHARS characters, squeeze repeated letters, drop punctuation
    and emoji, expand reduplication ("pulang2") and map slang words to standard ones ("di kl" to the place, "sa mau"
    to "saya mau", a message that starts with it to "saya ...", but "apa sa" to "apa saja"), and join a passive "di"
    typed apart ("di tahan" to "ditahan")."""
    slang = load_slang() if slang is None else slang
    maps = _word_maps(SLANG_FILE)
    places = maps.places
    text = unicodedata.normalize("NFKC", text)[:MAX_NLU_CHARS].lower()
    text = _REPEATED_LETTERS.sub(r"\1", text)
    text = _REDUPLICATION.sub(r"\1 \1", text)
    if places:  # a place word before punctuation, an emoji or a line end ("di bandara kl, paspor ...") is the place:
        # "kalau" never ends a clause
        text = _clause_end(tuple(places)).sub(lambda found: places[found.group(1)], text)
    text = _NOT_WORD.sub(" ", text)
    words = text.split()
    mapped = [places[word] if word in places and i and words[i - 1] in _PLACE_BEFORE
              else word if i and words[i - 1] in maps.english_after.get(word, ())
              else slang.get(word, word)
              for i, word in enumerate(words)]
    for i, word in enumerate(words):
        if word not in maps.subjects:
            continue
        before = mapped[i - 1].split(" ")[-1] if i else ""
        after = mapped[i + 1].split(" ")[0] if i + 1 < len(words) else ""
        subject = not i or after in maps.subject_before or before in maps.subject_after
        if subject and before not in maps.subject_never_after:
            mapped[i] = maps.subjects[word]
    return re.sub(r"\bdi (\w+)", lambda found: f"di{found.group(1)}" if found.group(1) in maps.passive_stems
                  else found.group(0), " ".join(mapped))
