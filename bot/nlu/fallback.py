"""Local fallback matcher used while the Rasa server is down or slow: fuzzy matching over the examples."""
from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz import fuzz, process

from bot.nlu.understanding import UNSURE, Matcher, Understanding


def _score(query: str, choice: str, **_kwargs: object) -> float:
    # token_set_ratio alone rates any subset as 100 ("apa" ~ "apa saja syaratnya"); averaging it with
    # token_sort_ratio keeps word-order freedom but asks for most of the words to be there.
    return (fuzz.token_set_ratio(query, choice) + fuzz.token_sort_ratio(query, choice)) / 2


class FallbackMatcher:
    def __init__(self, examples: Sequence[tuple[str, str]]):
        self._labels = [label for label, _text in examples]
        self._texts = [text for _label, text in examples]

    def parse(self, query: str) -> Understanding:
        """Match an already normalised message against the examples."""
        best: dict[str, float] = {}
        for _choice, score, index in process.extract(query, self._texts, scorer=_score, limit=30):
            label = self._labels[index]
            best[label] = max(best.get(label, 0.0), score / 100)
        ranked = tuple(sorted(best.items(), key=lambda pair: pair[1], reverse=True)[:5])
        if not ranked:
            return Understanding(UNSURE, 0.0, source=Matcher.FALLBACK)
        return Understanding(ranked[0][0], ranked[0][1], ranked, source=Matcher.FALLBACK)
