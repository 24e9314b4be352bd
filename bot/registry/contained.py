"""Registered names inside free text: "alwihda jaya sentosa ni perusahaan bae ko?", "is PT Tulus Widodo Putra legit?".

Every word of a registered name (of two words or more) must appear in the message, in any order, each exactly or
with a slip ("mulya" for "mulia"); a name of four words or more may lack its last word ("multi intan amanah" for
"Multi Intan Amanah Internasional"). A name of two or three words may also be typed as one word, the way handles
and hashtags are ("sinarjaya jaktim aman?"). A name found inside a longer found name is dropped ("sinar jaya" inside
"sinar jaya abadi") unless it is also typed apart ("sinar jaya atau sinar jaya abadi"); a name with a company-name word
right before or after it is another company's ("bintang sinar jaya", "sinar jaya makmur"). Cost: one dictionary look-up
per word, a fuzzy look-up for unknown words of five letters or more, and a count over the names sharing the message's
words.
"""
from __future__ import annotations

from collections import Counter

from rapidfuzz import fuzz, process

from bot.registry.mentions import GENERIC_WORDS, NAME_WORDS, PERSON_WORDS, STOP_WORDS
from bot.registry.names import normalise_name

SLIP_SIMILARITY = 85
NOT_A_NAME_BEFORE = frozenset({"bersama"})  # a company-name word that is also "with" before a name
MIN_SLIP_WORD = 5
MIN_JOINED = 7  # letters a name typed as one word needs ("bumimas"): shorter run-together names may be plain words


class NameWords:
    def __init__(self, names: list[str], owners: list[int]):
        self._words: list[tuple[str, ...]] = []
        self._owners: list[int] = []
        self._postings: dict[str, list[int]] = {}
        self._joined: dict[str, list[int]] = {}  # "sinarjaya" -> the names "sinar jaya"
        for name, owner in zip(names, owners, strict=True):
            words = tuple(dict.fromkeys(name.split()))
            if len(words) < 2 or all(w in GENERIC_WORDS or w in STOP_WORDS for w in words):
                continue
            index = len(self._words)
            self._words.append(words)
            self._owners.append(owner)
            for word in words:
                self._postings.setdefault(word, []).append(index)
            if len(words) <= 3 and len("".join(words)) >= MIN_JOINED:
                self._joined.setdefault("".join(words), []).append(index)
        self._vocabulary = list(self._postings)

    def find(self, text: str) -> list[int]:
        """The owners of the registered names in the text, in the order they appear."""
        position: dict[str, int] = {}
        joined_at: dict[int, int] = {}  # names typed as one word, and where
        text_words = normalise_name(text).split()
        known_words = [self.known(word) for word in text_words]
        for at, word in enumerate(text_words):
            for index in self._joined.get(word, ()):
                joined_at.setdefault(index, at)
            known = known_words[at]
            if known is not None:
                position.setdefault(known, at)
        hits: Counter[int] = Counter()
        for word in position:
            hits.update(self._postings[word])
        found = [i for i, count in hits.items() if self._complete(i, count, position)
                 and not self._part_of_a_longer_name(i, position, text_words)]
        found += [i for i in joined_at if i not in found]
        kept = [i for i in found if not any(j != i and set(self._words[i]) < set(self._words[j])
                                            and not self._stands_alone(i, j, known_words) for j in found)]

        def first_at(i: int) -> int:
            return joined_at.get(i, min((position[w] for w in self._words[i] if w in position), default=0))

        kept.sort(key=first_at)
        return list(dict.fromkeys(self._owners[i] for i in kept))

    def pairs(self, text: str) -> list[tuple[str, int]]:
        """Two words side by side that are two neighbouring words of one registered name and of no other name, as
        (the two words, its owner): "putri samawa" for Putri Samawa Mandiri. Not after a word for a person ("om
        tulus widodo" is a sponsor) and not before another word of a company name ("elnusa prima sejahtera" is
        another company than Elnusa Prima Karya). The caller decides whether they are distinctive enough."""
        text_words = normalise_name(text).split()
        known = [self.known(word) for word in text_words]
        found: list[tuple[str, int]] = []
        for at in range(len(known) - 1):
            first, second = known[at], known[at + 1]
            if first is None or second is None or first == second or (at and text_words[at - 1] in PERSON_WORDS):
                continue
            following = text_words[at + 2] if at + 2 < len(text_words) else ""
            if following in NAME_WORDS or following in self._postings:
                continue
            names = [i for i in self._postings[first] if self._neighbours(i, first, second)]
            owners = {self._owners[i] for i in names}
            if len(owners) == 1:
                found.append((f"{first} {second}", owners.pop()))
        return found

    def _neighbours(self, index: int, first: str, second: str) -> bool:
        words = self._words[index]
        return second in words and words.index(second) == words.index(first) + 1

    def has_word(self, word: str) -> bool:
        """Whether a registered name (of two words or more) has this word."""
        return word in self._postings

    def known(self, word: str) -> str | None:
        """The word of a registered name that `word` is, exactly or with a slip ("elsava": "elsafa"); else None."""
        return word if word in self._postings else self._slip(word)

    def only_owner(self, words: list[str]) -> int | None:
        """The one owner whose registered name has every one of these words, exactly; None for none or several."""
        if not words:
            return None
        names = set(self._postings.get(words[0], ()))
        for word in words[1:]:
            names &= set(self._postings.get(word, ()))
        owners = {self._owners[i] for i in names}
        return owners.pop() if len(owners) == 1 else None

    def joined(self, word: str) -> list[int]:
        """The owners of the registered names that `word` is, typed as one word ("sinarjaya")."""
        return list(dict.fromkeys(self._owners[i] for i in self._joined.get(word, ())))

    def _stands_alone(self, inner: int, outer: int, known_words: list[str | None]) -> bool:
        """Whether the shorter name is typed, in order, somewhere not inside the longer one: "sinar jaya deng sinar
        jaya abadi" names both."""
        inner_words, outer_words = list(self._words[inner]), list(self._words[outer])
        covered: set[int] = set()
        for start in range(len(known_words) - len(outer_words) + 1):
            if known_words[start:start + len(outer_words)] == outer_words:
                covered.update(range(start, start + len(outer_words)))
        return any(known_words[start:start + len(inner_words)] == inner_words
                   and not covered.intersection(range(start, start + len(inner_words)))
                   for start in range(len(known_words) - len(inner_words) + 1))

    def _part_of_a_longer_name(self, index: int, position: dict[str, int], text_words: list[str]) -> bool:
        """Whether a name word the registered name lacks follows it or comes right before it: "sinar jaya abadi
        makmur" and "bintang sinar jaya" are other companies ("berangkat bersama sinar jaya" is not)."""
        words = self._words[index]
        at = [position[w] for w in words if w in position]
        after, before = max(at) + 1, min(at) - 1
        return any(0 <= i < len(text_words) and text_words[i] in NAME_WORDS and text_words[i] not in words
                   and not (i == before and text_words[i] in NOT_A_NAME_BEFORE) for i in (after, before))

    def _complete(self, index: int, count: int, position: dict[str, int]) -> bool:
        words = self._words[index]
        if count == len(words):
            return True
        return len(words) >= 4 and count == len(words) - 1 and words[-1] not in position

    def _slip(self, word: str) -> str | None:
        if len(word) < MIN_SLIP_WORD or word in STOP_WORDS or word in GENERIC_WORDS or word.isdigit():
            return None
        match = process.extractOne(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=SLIP_SIMILARITY)
        return match[0] if match else None
