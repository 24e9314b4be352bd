"""The NLU interface the engine uses: Rasa when it answers, the local fallback matcher otherwise."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from bot.content import ContentStore
from bot.nlu.fallback import FallbackMatcher
from bot.nlu.normalise import normalise
from bot.nlu.training_data import matcher_examples
from bot.nlu.understanding import NOTHING, NluServer, NluUnavailable, Understanding

log = logging.getLogger(__name__)
WARN_EVERY_SECONDS = 60


class Nlu:
    def __init__(self, content: ContentStore, nlu_data_dir: Path, rasa: NluServer | None):
        self._content = content
        self._nlu_data_dir = nlu_data_dir
        self._rasa = rasa
        self._matcher_for: object | None = None
        self._matcher: FallbackMatcher | None = None
        self._last_warning = 0.0

    def understand(self, text: str) -> Understanding:
        """What the message means; `NOTHING` when no word is left after normalisation (emoji, punctuation)."""
        query = normalise(text)
        if not query:
            return NOTHING
        if self._rasa is not None:
            try:
                return self._rasa.parse(query)
            except NluUnavailable as exc:
                now = time.monotonic()
                if now - self._last_warning > WARN_EVERY_SECONDS:
                    log.warning("NLU server unavailable, answering with the fallback matcher: %s", exc)
                    self._last_warning = now
        return self._fallback().parse(query)

    def _fallback(self) -> FallbackMatcher:
        content = self._content.current()
        if self._matcher is None or self._matcher_for is not content:
            self._matcher = FallbackMatcher(matcher_examples(content, self._nlu_data_dir))
            self._matcher_for = content
        return self._matcher
