"""What NLU understood from one message, whichever matcher produced it; what a remote NLU server offers."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypedDict

FAQ_PREFIX = "faq/"
UNSURE = "nlu_fallback"  # the label Rasa's FallbackClassifier uses; the local classifier uses it too


class Matcher(StrEnum):
    """What produced an understanding."""

    RASA = "rasa"
    FALLBACK = "fallback"  # the local classifier alone, when Rasa is down or not trained
    NONE = "none"  # nothing was asked of a matcher (empty text)


class NluMode(StrEnum):
    """How a running bot reaches NLU."""

    RASA = "rasa"  # a Rasa server given by RASA_URL
    MANAGED_RASA = "managed-rasa"  # a Rasa server the bot started itself
    FALLBACK_ONLY = "fallback-only"  # no Rasa: the local classifier only


class Entity(TypedDict):
    """An entity Rasa extracted: its name ("country", ...) and the value it found."""

    entity: str
    value: object


@dataclass(frozen=True)
class Understanding:
    intent: str | None
    confidence: float
    candidates: tuple[tuple[str, float], ...] = ()
    source: Matcher = Matcher.RASA
    entities: tuple[Entity, ...] = ()
    # The message's sentence vector when the NLU server sent one (bot/nlu/sentence_vectors.py), else empty.
    meaning: tuple[float, ...] = field(default=(), compare=False, repr=False)

    @property
    def faq_topic(self) -> str | None:
        return faq_topic_of(self.intent)


def faq_topic_of(label: str | None) -> str | None:
    """'faq/syarat' -> 'syarat'; None for any other label."""
    if label and label.startswith(FAQ_PREFIX):
        return label[len(FAQ_PREFIX):]
    return None


NOTHING = Understanding(intent=None, confidence=0.0, source=Matcher.NONE)


class NluUnavailable(RuntimeError):
    """The NLU server could not answer in time."""


class NluServer(Protocol):
    """A remote NLU (a RasaClient, or the circuit breaker around one)."""

    url: str

    def parse(self, text: str) -> Understanding:
        """What the (normalised) text means; raises NluUnavailable when the server cannot answer."""
        ...

    def is_ready(self) -> bool: ...

    def close(self) -> None: ...
