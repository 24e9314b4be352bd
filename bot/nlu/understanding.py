"""What NLU understood from one message, whichever matcher produced it."""
from __future__ import annotations

from dataclasses import dataclass

FAQ_PREFIX = "faq/"
UNSURE = "nlu_fallback"  # the label Rasa's FallbackClassifier uses; the fallback matcher uses it too


@dataclass(frozen=True)
class Understanding:
    intent: str | None
    confidence: float
    candidates: tuple[tuple[str, float], ...] = ()
    source: str = "rasa"
    entities: tuple[dict, ...] = ()

    @property
    def faq_topic(self) -> str | None:
        return faq_topic_of(self.intent)


def faq_topic_of(label: str | None) -> str | None:
    """'faq/syarat' -> 'syarat'; None for any other label."""
    if label and label.startswith(FAQ_PREFIX):
        return label[len(FAQ_PREFIX):]
    return None


NOTHING = Understanding(intent=None, confidence=0.0, source="none")


class NluUnavailable(RuntimeError):
    """The NLU server could not answer in time."""
