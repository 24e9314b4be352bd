"""Training-time augmentation: misspelt and abbreviated copies of some examples, the way people type on phones.

Applied to Rasa's training data only (never to evaluation sets, never to what users send). Slang in
`nlu_data/slang.yml` is mapped before NLU, so the variants here are the slips that map cannot undo: a dropped,
doubled or swapped letter, words run together, and vowel-less abbreviations ("bagaimana" -> "bgmn").
Deterministic: the same example always gets the same variant, so the training fingerprint is stable.
"""
from __future__ import annotations

import random
import zlib

# Share of examples that get one variant; more makes training slower for little gain.
AUGMENT_SHARE = 0.35
MIN_WORD = 5
VOWELS = set("aeiou")


def variant(example: str) -> str | None:
    """A misspelt or abbreviated copy of an example (already normalised, no entity markup), or None."""
    rng = random.Random(zlib.crc32(example.encode("utf-8")))
    if rng.random() >= AUGMENT_SHARE:
        return None
    words = example.split()
    long_words = [i for i, w in enumerate(words) if len(w) >= MIN_WORD and w.isalpha()]
    if not long_words:
        return None
    index = rng.choice(long_words)
    words[index] = rng.choice((_drop_letter, _double_letter, _swap_letters, _abbreviate))(words[index], rng)
    if len(words) > 2 and rng.random() < 0.25:
        join = rng.randrange(len(words) - 1)
        words[join:join + 2] = [words[join] + words[join + 1]]
    changed = " ".join(words)
    return changed if changed != example else None


def _drop_letter(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word))
    return word[:i] + word[i + 1:]


def _double_letter(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word))
    return word[:i] + word[i] + word[i:]


def _swap_letters(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _abbreviate(word: str, _rng: random.Random) -> str:
    return word[0] + "".join(ch for ch in word[1:] if ch not in VOWELS)
