"""What to do with NLU's ranked guesses: answer, answer with "Bukan ini?" alternatives, ask, or admit defeat.

A pure function of the ranking, so the evaluation (`bot nlu eval`) measures exactly what the engine does.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.nlu.understanding import UNSURE, Matcher, Understanding

# Per NLU source: (act: answer outright, suggest: worth offering, margin: ahead of the runner-up by this much,
# the best guess is answered even below `act`). RASA is Rasa and the local classifier together (bot/nlu/service.py),
# FALLBACK the local classifier alone. Calibrated at NLU level on tests/nlu/dev.yml and heldout.yml (never on
# tests/nlu/blind.yml), right answers / wrong answers: together dev 80.8% / 8.4%, heldout 90.3% / 4.9% (Rasa alone
# with its old thresholds: 73.6% / 13.0%, 91.4% / 6.7%); the local classifier alone dev 80.8% / 8.8%, heldout
# 89.6% / 4.1% (the fuzzy matcher it replaced: 23.8% / 6.1%, 47.8% / 3.4%). A suggest floor of 0.3 matters most;
# act and margin move these by about a point.
THRESHOLDS = {Matcher.RASA: (0.60, 0.30, 0.15), Matcher.FALLBACK: (0.60, 0.25, 0.15)}
MAX_ALTERNATIVES = 2
MAX_CLARIFY_OPTIONS = 3
DANGER = "emergency"

ANSWER = "answer"
CLARIFY = "clarify"
NOTHING_FOUND = "nothing"


@dataclass(frozen=True)
class Decision:
    """`kind` ANSWER: act on `labels[0]`, offer `labels[1:]` as "Bukan ini?"; CLARIFY: ask between `labels` (two or
    more, never one; a close call with the emergency among it answers the emergency); NOTHING_FOUND: no guess worth
    offering. `sure` is False when the answer is a best guess."""

    kind: str
    labels: tuple[str, ...] = ()
    sure: bool = True


def decide(understanding: Understanding, usable: frozenset[str] | set[str],
           thresholds: tuple[float, float, float] | None = None) -> Decision:
    """Decide on the labels the engine can act on (`usable`), best first; `thresholds` to try others."""
    act_at, suggest_at, margin = thresholds or THRESHOLDS.get(understanding.source, THRESHOLDS[Matcher.RASA])
    candidates = understanding.candidates or ((understanding.intent, understanding.confidence),)
    ranked = [(label, score) for label, score in candidates if label and label != UNSURE and label in usable]
    plausible = [(label, score) for label, score in ranked if score >= suggest_at]
    if not plausible:
        return Decision(NOTHING_FOUND)
    top_label, top_score = plausible[0]
    runner_up = plausible[1][1] if len(plausible) > 1 else 0.0
    others = tuple(label for label, _score in plausible[1:1 + MAX_ALTERNATIVES])
    if top_score >= act_at:
        return Decision(ANSWER, (top_label, *others))
    if top_score - runner_up >= margin or len(plausible) == 1:
        return Decision(ANSWER, (top_label, *others), sure=False)
    options = tuple(label for label, _score in plausible[:MAX_CLARIFY_OPTIONS])
    if DANGER in options:  # danger first: a close call with the emergency among it answers it, the others offered
        return Decision(ANSWER, (DANGER, *(label for label in options if label != DANGER)), sure=False)
    return Decision(CLARIFY, options)
