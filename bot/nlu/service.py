"""The NLU interface the engine uses: Rasa and the local classifier together when Rasa answers, the local classifier
alone otherwise."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from bot.content import Content, ContentStore
from bot.nlu.local_classifier import LocalClassifier, local_classifier, ranking
from bot.nlu.normalise import normalise
from bot.nlu.training_data import matcher_examples
from bot.nlu.understanding import NOTHING, UNSURE, Matcher, NluServer, NluUnavailable, Understanding

log = logging.getLogger(__name__)
WARN_EVERY_SECONDS = 60
# How much the local classifier counts beside Rasa. On tests/nlu/dev.yml (label level) Rasa alone picked the right
# label for 76.2%, the local classifier alone 84.7%, 0.5 of each 82.0%, 0.85 local 85.4%; on the old held-out file
# 92.5%, 93.3%, 93.7%, 94.4%.
LOCAL_WEIGHT = 0.85


class Nlu:
    def __init__(self, content: ContentStore, nlu_data_dir: Path, rasa: NluServer | None,
                 models_dir: Path | None = None):
        """`models_dir`: where `python -m bot train` keeps the local classifier's weights (else trained here)."""
        self._content = content
        self._nlu_data_dir = nlu_data_dir
        self._models_dir = models_dir
        self._rasa = rasa
        self._local_for: Content | None = None  # the content snapshot the classifier below was made for
        self._local_classifier: LocalClassifier | None = None
        self._last_warning = 0.0

    def understand(self, text: str, content: Content | None = None) -> Understanding:
        """What the message means; `NOTHING` when no word is left after normalisation (emoji, punctuation).
        `content`: the snapshot the caller already holds (looking for changed files costs about 0.6 ms)."""
        query = normalise(text)
        if not query:
            return NOTHING
        local = self._local(content or self._content.current())
        if self._rasa is not None:
            try:
                rasa = self._rasa.parse(query)
                return combined(rasa, local.scores(query, rasa.meaning))
            except NluUnavailable as exc:
                now = time.monotonic()
                if now - self._last_warning > WARN_EVERY_SECONDS:
                    log.warning("NLU server unavailable, answering with the local classifier alone: %s", exc)
                    self._last_warning = now
        return local.parse(query)

    def _local(self, content: Content) -> LocalClassifier:
        """The classifier for this content, looked up again only when content changes (finding it by its examples
        hashes thousands of them: more than answering takes)."""
        if self._local_classifier is None or self._local_for is not content:
            examples = matcher_examples(content, self._nlu_data_dir)
            self._local_classifier = local_classifier(examples, self._models_dir)
            self._local_for = content
        return self._local_classifier


def combined(rasa: Understanding, local: dict[str, float], local_weight: float = LOCAL_WEIGHT) -> Understanding:
    """Rasa's ranking and the local classifier's, the local one counting `local_weight`; the entities Rasa found."""
    scores = {label: local_weight * probability for label, probability in local.items()}
    for label, confidence in rasa.candidates:
        if label != UNSURE:
            scores[label] = scores.get(label, 0.0) + (1 - local_weight) * confidence
    ranked = ranking(scores)
    if not ranked:
        return rasa
    return Understanding(ranked[0][0], ranked[0][1], ranked, source=Matcher.RASA, entities=rasa.entities)
