"""`python -m bot nlu eval --cv K`: K-fold cross-validation, on the training data, of the NLU the bot runs: Rasa
and the local classifier together (bot/nlu/service.py), each trained on the same folds.

Paraphrases of one question stay in one fold (examples of a label that are near-duplicates after normalisation are
grouped first), so a fold never tests on a rewording of what it trained on. Each fold trains both models on the
other folds, serves the Rasa model, and parses its own examples with both; the engine's decision rule
(bot/dialogue/decision.py) is applied to the combined ranking. The parses (Rasa's ranking and the local
classifier's scores) are written to var/nlu-eval/cv-parses.jsonl, so `--cv-parses` can calibrate the thresholds and
the local classifier's weight on them without training again (never on the held-out files). Slow: one Rasa
training per fold (about 10 minutes each on 2 cores).
"""
from __future__ import annotations

import json
import random
import secrets
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

from bot.content import Content
from bot.nlu.local_classifier import LocalClassifier
from bot.nlu.normalise import normalise
from bot.nlu.rasa_client import understanding_from_rasa
from bot.nlu.rasa_server import ManagedRasa
from bot.nlu.service import LOCAL_WEIGHT, combined
from bot.nlu.training import CONFIG_FILE, NLU_DATA_DIR, rasa_environment, rasa_executable
from bot.nlu.training_data import labelled_examples, rasa_training_files, strip_entity_markup
from bot.nlu.understanding import Understanding

# Two examples of a label are rewordings of one question when token_sort_ratio (the same words, reordered or a few
# letters changed) reaches this. Not token_set_ratio: it makes a short text a paraphrase of every longer one that
# contains it, so one fold would hold nearly every "terima kasih ..." of the thanks intent.
PARAPHRASE_SIMILARITY = 85
PARSES_FILE = Path("nlu-eval") / "cv-parses.jsonl"  # under the var folder


@dataclass(frozen=True)
class Parsed:
    """One training example parsed by the models of the folds it was not trained on."""

    text: str
    expected: str
    rasa: Understanding
    local: dict[str, float]

    def understanding(self, local_weight: float = LOCAL_WEIGHT) -> Understanding:
        """What the bot would make of the example: both rankings combined."""
        return combined(self.rasa, self.local, local_weight)


def folds_of(examples: list[tuple[str, str]], k: int, seed: int = 7) -> list[int]:
    """A fold number per example; near-duplicate examples of one label share a fold."""
    rng = random.Random(seed)
    fold = [0] * len(examples)
    by_label: dict[str, list[int]] = {}
    for index, (label, _text) in enumerate(examples):
        by_label.setdefault(label, []).append(index)
    for indices in by_label.values():
        groups: list[list[int]] = []
        for index in indices:
            text = normalise(strip_entity_markup(examples[index][1]))
            home = next((g for g in groups if fuzz.token_sort_ratio(text, normalise(strip_entity_markup(
                examples[g[0]][1]))) >= PARAPHRASE_SIMILARITY), None)
            if home is None:
                groups.append([index])
            else:
                home.append(index)
        rng.shuffle(groups)
        for number, group in enumerate(groups):
            for index in group:
                fold[index] = number % k
    return fold


def cross_validate(content: Content, var_dir: Path, k: int, log: Callable[[str], None]) -> list[Parsed]:
    examples = labelled_examples(content, NLU_DATA_DIR)
    fold = folds_of(examples, k)
    parsed: list[Parsed] = []
    for number in range(k):
        trained_on = {(label, text) for (label, text), f in zip(examples, fold, strict=True) if f != number}
        tested = [(label, text) for (label, text), f in zip(examples, fold, strict=True) if f == number]
        log(f"fold {number + 1}/{k}: training on {len(trained_on)} examples, testing on {len(tested)}")
        model = _train_fold(content, var_dir / "cv" / f"fold-{number}", trained_on.__contains__)
        local = LocalClassifier.train([(label, normalise(strip_entity_markup(text)))
                                       for label, text in examples if (label, text) in trained_on])
        parsed.extend(_parse_all(model, local, var_dir, tested))
    save_parses(parsed, var_dir / PARSES_FILE)
    return parsed


def save_parses(parsed: list[Parsed], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for p in parsed:
            handle.write(json.dumps({"text": p.text, "expected": p.expected, "rasa": p.rasa.candidates,
                                     "local": {label: round(score, 6) for label, score in p.local.items()}},
                                    ensure_ascii=False) + "\n")


def _train_fold(content: Content, work: Path, keep: Callable[[tuple[str, str]], bool]) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    files = rasa_training_files(content, NLU_DATA_DIR, keep=keep)
    for name, text in files.items():
        (work / name).write_text(text, encoding="utf-8")
    (work / "config.yml").write_text(CONFIG_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    command = [str(rasa_executable()), "train", "nlu", "--nlu", str(work / "nlu.yml"), "--domain",
               str(work / "domain.yml"), "--config", str(work / "config.yml"), "--out", str(work),
               "--fixed-model-name", "model"]
    subprocess.run(command, cwd=work, env=rasa_environment(work), check=True, capture_output=True)
    return work / "model.tar.gz"


def _parse_all(model: Path, local: LocalClassifier, var_dir: Path, tested: list[tuple[str, str]]) -> list[Parsed]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_urlsafe(16)
    server = ManagedRasa(model, port, token, var_dir)
    server.start()
    try:
        if not server.wait_ready(300):
            raise RuntimeError(f"the Rasa server for {model} did not start")
        import httpx

        with httpx.Client(base_url=server.url, timeout=30) as http:
            results = []
            for label, text in tested:
                query = normalise(strip_entity_markup(text))
                payload = http.post("/model/parse", params={"token": token}, json={"text": query}).json()
                rasa = understanding_from_rasa(payload)
                results.append(Parsed(text, label, rasa, local.scores(query, rasa.meaning)))
            return results
    finally:
        server.stop()


def load_parses(path: Path) -> list[Parsed]:
    """The parses a `--cv` run kept."""
    parsed = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        candidates = tuple((label, float(score)) for label, score in item["rasa"])
        top = candidates[0] if candidates else (None, 0.0)
        parsed.append(Parsed(item["text"], item["expected"], Understanding(top[0], top[1], candidates),
                             {label: float(score) for label, score in item["local"].items()}))
    return parsed


def _top(understanding: Understanding) -> str | None:
    return understanding.candidates[0][0] if understanding.candidates else understanding.intent


def figures(parsed: list[Parsed], usable: frozenset[str], thresholds: tuple[float, float, float],
            local_weight: float = LOCAL_WEIGHT) -> dict[str, float]:
    """Intent accuracy (FAQ topics counted as one intent) and exact-label accuracy of Rasa alone, the local
    classifier alone and the two combined as the bot combines them; what the engine's decision rule makes of the
    combined ranking."""
    from bot.dialogue.decision import ANSWER, decide
    from bot.nlu.evaluation import base_intent

    total = max(1, len(parsed))
    counts = dict.fromkeys(("rasa", "local", "combined"), 0)
    intent_counts = dict(counts)
    answered_right = confident_wrong = 0
    for p in parsed:
        local_top = max(p.local, key=p.local.__getitem__) if p.local else None
        understanding = p.understanding(local_weight)
        for name, top in (("rasa", _top(p.rasa)), ("local", local_top), ("combined", _top(understanding))):
            counts[name] += top == p.expected
            intent_counts[name] += top is not None and base_intent(top) == base_intent(p.expected)
        decision = decide(understanding, usable, thresholds)
        if decision.kind == ANSWER:
            answered_right += decision.labels[0] == p.expected
            confident_wrong += decision.labels[0] != p.expected
    result = {f"intent accuracy, {name}": intent_counts[name] / total for name in intent_counts}
    result |= {f"exact label, {name}": counts[name] / total for name in counts}
    return result | {"answered right": answered_right / total, "acted on a wrong meaning": confident_wrong / total}
