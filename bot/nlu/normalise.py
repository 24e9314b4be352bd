"""Text normalisation applied before NLU, before the local classifier, and to training examples alike."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from bot.settings import PROJECT_ROOT
from bot.yaml_files import read_yaml

MAX_NLU_CHARS = 500
SLANG_FILE = PROJECT_ROOT / "nlu_data" / "slang.yml"

_REPEATED_LETTERS = re.compile(r"([a-z])\1{2,}")
_REDUPLICATION = re.compile(r"\b([a-z]{2,})2\b")
_NOT_WORD = re.compile(r"[^\w\s/-]|_")
_PLACE_BEFORE = frozenset({"di", "ke", "dari", "dr"})


def load_slang(path: Path = SLANG_FILE) -> dict[str, str]:
    """The informal-Indonesian and Kupang-Malay word map (one word -> standard words)."""
    return _word_maps(path)[0]


def load_places(path: Path = SLANG_FILE) -> dict[str, str]:
    """Abbreviated place names that are other words elsewhere ("di kl" is Kuala Lumpur, "kl" alone is "kalau")."""
    return _word_maps(path)[1]


@lru_cache(maxsize=4)
def _word_maps(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    raw = read_yaml(path) or {}

    def word_map(key: str) -> dict[str, str]:
        return {str(k).lower(): str(v).lower() for k, v in (raw.get(key) or {}).items()}

    return word_map("words"), word_map("places")


def normalise(text: str, slang: dict[str, str] | None = None) -> str:
    """Lower-case, keep the first MAX_NLU_CHARS characters, squeeze repeated letters, drop punctuation
    and emoji, expand reduplication ("pulang2") and map slang words to standard ones (and "di kl" to the place)."""
    slang = load_slang() if slang is None else slang
    places = load_places()
    text = unicodedata.normalize("NFKC", text)[:MAX_NLU_CHARS].lower()
    text = _REPEATED_LETTERS.sub(r"\1", text)
    text = _REDUPLICATION.sub(r"\1 \1", text)
    text = _NOT_WORD.sub(" ", text)
    words = text.split()
    return " ".join(places[word] if word in places and i and words[i - 1] in _PLACE_BEFORE else slang.get(word, word)
                    for i, word in enumerate(words))
