"""Phrases that say outright what someone wants (`nlu_data/phrases.yml`), checked before the registry and NLU."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.nlu.normalise import normalise
from bot.settings import PROJECT_ROOT
from bot.yaml_files import read_yaml

PHRASES_FILE = PROJECT_ROOT / "nlu_data" / "phrases.yml"


@dataclass(frozen=True)
class Phrase:
    patterns: tuple[re.Pattern[str], ...]
    unless: re.Pattern[str] | None


@lru_cache(maxsize=2)
def load_phrases(path: Path = PHRASES_FILE) -> dict[str, Phrase]:
    raw = read_yaml(path) or {}
    return {name: Phrase(tuple(re.compile(p) for p in spec.get("patterns") or ()),
                         re.compile(spec["unless"]) if spec.get("unless") else None)
            for name, spec in raw.items()}


def says(text: str, name: str) -> bool:
    """Whether the message says the wish `name` outright (e.g. "report": "saya mau lapor calo di desa")."""
    phrase = load_phrases()[name]
    normalised = normalise(text)
    if phrase.unless is not None and phrase.unless.search(normalised):
        return False
    return any(pattern.search(normalised) for pattern in phrase.patterns)
