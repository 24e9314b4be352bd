"""`python -m bot nlu eval`: measure NLU on the held-out set (tests/nlu/heldout.yml).

Definitions (also printed in the report):
- intent accuracy: the predicted intent, with every FAQ topic counted as `faq`, equals the expected one; for an
  expected `out_of_scope`, Rasa's fallback (`nlu_fallback`) also counts as right, since the bot then does not answer.
- FAQ topic accuracy: over messages whose expected label is `faq/<topic>`, the predicted label is exactly that topic.
- out-of-scope recall: expected `out_of_scope` predicted as `out_of_scope` or `nlu_fallback`.
- confident wrong answers: the predicted label (topic-level) is wrong, is not the fallback, and its confidence is at or
  above the engine's threshold for acting on it, i.e. the bot would have answered the wrong thing.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.nlu.understanding import FAQ_PREFIX, UNSURE, Understanding
from bot.settings import PROJECT_ROOT
from bot.yaml_files import read_yaml

HELDOUT_FILE = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"
OUT_OF_SCOPE = "out_of_scope"
TARGETS = {
    "intent_accuracy": (0.93, ">="),
    "faq_topic_accuracy": (0.90, ">="),
    "out_of_scope_recall": (0.85, ">="),
    "confident_wrong_rate": (0.03, "<="),
}


def load_heldout(path: Path = HELDOUT_FILE) -> list[tuple[str, str]]:
    return [(str(item["text"]), str(item["intent"])) for item in read_yaml(path)]


def base_intent(label: str | None) -> str:
    if label is None:
        return UNSURE
    return "faq" if label.startswith(FAQ_PREFIX) else label


@dataclass
class Prediction:
    text: str
    expected: str
    predicted: str
    confidence: float
    source: str


@dataclass
class Report:
    predictions: list[Prediction]
    act_threshold: float
    metrics: dict[str, float] = field(default_factory=dict)

    def failures(self) -> list[str]:
        """Targets missed, as readable lines (empty when every target is met)."""
        failed = []
        for name, (target, op) in TARGETS.items():
            value = self.metrics[name]
            if (op == ">=" and value < target) or (op == "<=" and value > target):
                failed.append(f"{name} = {value:.1%} misses the target {op} {target:.0%}")
        return failed


def _intent_right(p: Prediction) -> bool:
    if p.expected == OUT_OF_SCOPE:
        return p.predicted in (OUT_OF_SCOPE, UNSURE)
    return base_intent(p.predicted) == base_intent(p.expected)


def _confident_wrong(p: Prediction, act_threshold: float) -> bool:
    if p.predicted == UNSURE or p.confidence < act_threshold:
        return False
    return p.predicted != p.expected


def evaluate(understand: Callable[[str], Understanding], examples: list[tuple[str, str]],
             act_threshold: float) -> Report:
    """Run `understand(text) -> Understanding` over the examples and compute the metrics."""
    predictions = []
    for text, expected in examples:
        result: Understanding = understand(text)
        predictions.append(Prediction(text, expected, result.intent or UNSURE, result.confidence, result.source))
    report = Report(predictions, act_threshold)
    faq = [p for p in predictions if p.expected.startswith(FAQ_PREFIX)]
    oos = [p for p in predictions if p.expected == OUT_OF_SCOPE]
    report.metrics = {
        "intent_accuracy": sum(map(_intent_right, predictions)) / len(predictions),
        "faq_topic_accuracy": sum(p.predicted == p.expected for p in faq) / max(1, len(faq)),
        "out_of_scope_recall": sum(p.predicted in (OUT_OF_SCOPE, UNSURE) for p in oos) / max(1, len(oos)),
        "confident_wrong_rate": sum(_confident_wrong(p, act_threshold) for p in predictions) / len(predictions),
    }
    return report


def per_intent_scores(report: Report) -> dict[str, tuple[float, float, float, int]]:
    """Precision, recall, F1 and support per expected intent (FAQ topics counted as `faq`)."""
    scores = {}
    labels = sorted({base_intent(p.expected) for p in report.predictions})
    for label in labels:
        predicted_as = [p for p in report.predictions if base_intent(p.predicted) == label]
        actual = [p for p in report.predictions if base_intent(p.expected) == label]
        true_positive = sum(_intent_right(p) for p in actual)
        precision = sum(_intent_right(p) for p in predicted_as) / len(predicted_as) if predicted_as else 0.0
        recall = true_positive / len(actual) if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = (precision, recall, f1, len(actual))
    return scores


def confused_pairs(report: Report, limit: int = 10) -> list[tuple[tuple[str, str], int]]:
    pairs = Counter((p.expected, p.predicted) for p in report.predictions if p.expected != p.predicted
                    and not (p.expected == OUT_OF_SCOPE and p.predicted == UNSURE))
    return pairs.most_common(limit)


SWEEP = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def threshold_sweep(report: Report) -> list[tuple[float, float, float]]:
    """For candidate thresholds: the share of messages the bot would act on, and the confident-wrong rate."""
    rows = []
    for threshold in SWEEP:
        acted = [p for p in report.predictions if p.predicted != UNSURE and p.confidence >= threshold]
        wrong = sum(_confident_wrong(p, threshold) for p in report.predictions)
        rows.append((threshold, len(acted) / len(report.predictions), wrong / len(report.predictions)))
    return rows


def render_markdown(report: Report, model_name: str) -> str:
    lines = [f"# NLU evaluation on the held-out set ({len(report.predictions)} messages)", "",
             f"Model: `{model_name}`; engine threshold for acting: {report.act_threshold}", "",
             "| metric | value | target |", "|---|---|---|"]
    for name, value in report.metrics.items():
        target, op = TARGETS[name]
        lines.append(f"| {name.replace('_', ' ')} | {value:.1%} | {op} {target:.0%} |")
    lines += ["", "## Threshold for acting (the engine uses the one marked *)", "",
              "| threshold | messages acted on | confident wrong |", "|---|---|---|"]
    for threshold, acted, wrong in threshold_sweep(report):
        mark = " *" if threshold == report.act_threshold else ""
        lines.append(f"| {threshold}{mark} | {acted:.1%} | {wrong:.1%} |")
    lines += ["", "## Per intent (FAQ topics counted as `faq`)", "", "| intent | precision | recall | F1 | n |",
              "|---|---|---|---|---|"]
    for label, (precision, recall, f1, support) in per_intent_scores(report).items():
        lines.append(f"| {label} | {precision:.2f} | {recall:.2f} | {f1:.2f} | {support} |")
    lines += ["", "## Most confused (expected → predicted)", "", "| expected | predicted | count |", "|---|---|---|"]
    for (expected, predicted), count in confused_pairs(report):
        lines.append(f"| {expected} | {predicted} | {count} |")
    lines += ["", "## Errors", "", "| text | expected | predicted | confidence |", "|---|---|---|---|"]
    for p in report.predictions:
        if p.predicted != p.expected and not (p.expected == OUT_OF_SCOPE and p.predicted == UNSURE):
            lines.append(f"| {p.text} | {p.expected} | {p.predicted} | {p.confidence:.2f} |")
    lines += ["", "Definitions: see `bot/nlu/evaluation.py`."]
    return "\n".join(lines) + "\n"


def write_confusion_png(report: Report, path: Path) -> None:
    """A confusion matrix over base intents (FAQ topics as `faq`, plus the fallback)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted({base_intent(p.expected) for p in report.predictions} | {UNSURE})
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for p in report.predictions:
        matrix[index[base_intent(p.expected)]][index.get(base_intent(p.predicted), index[UNSURE])] += 1
    figure, axes = plt.subplots(figsize=(9, 8))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("expected")
    for row, values in enumerate(matrix):
        for column, value in enumerate(values):
            if value:
                axes.text(column, row, str(value), ha="center", va="center", fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def print_summary(report: Report, out: TextIO) -> None:
    for name, value in report.metrics.items():
        target, op = TARGETS[name]
        print(f"{name.replace('_', ' '):<24} {value:6.1%}   (target {op} {target:.0%})", file=out)
    print("\nthreshold for acting: messages acted on / confident wrong", file=out)
    for threshold, acted, wrong in threshold_sweep(report):
        mark = " (engine)" if threshold == report.act_threshold else ""
        print(f"  {threshold:.1f}: {acted:6.1%} / {wrong:5.1%}{mark}", file=out)
    print("\nper intent (precision / recall / F1 / n):", file=out)
    for label, (precision, recall, f1, support) in per_intent_scores(report).items():
        print(f"  {label:<20} {precision:.2f} / {recall:.2f} / {f1:.2f} / {support}", file=out)
    print("\nmost confused (expected -> predicted):", file=out)
    for (expected, predicted), count in confused_pairs(report):
        print(f"  {expected} -> {predicted}: {count}", file=out)
