"""`python -m bot nlu eval --cv K`: K-fold cross-validation of the real Rasa pipeline on the training data.

Paraphrases of one question stay in one fold (examples of a label that are near-duplicates after normalisation are
grouped first), so a fold never tests on a rewording of what it trained on. Each fold trains a model on the other
folds, serves it, and parses its own examples; the engine's decision rule (bot/dialogue/decision.py) is applied to
the parses. The parses are written to var/nlu-eval/cv-parses.jsonl, so thresholds can be calibrated on them
(never on the held-out files). Slow: one training per fold (about 5-8 minutes each on 2 cores).
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
from bot.nlu.normalise import normalise
from bot.nlu.rasa_client import understanding_from_rasa
from bot.nlu.rasa_server import ManagedRasa
from bot.nlu.training import CONFIG_FILE, NLU_DATA_DIR, rasa_environment, rasa_executable
from bot.nlu.training_data import labelled_examples, rasa_training_files, strip_entity_markup
from bot.nlu.understanding import Understanding

PARAPHRASE_SIMILARITY = 85


@dataclass(frozen=True)
class Parsed:
    text: str
    expected: str
    understanding: Understanding


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
            home = next((g for g in groups if fuzz.token_set_ratio(text, normalise(strip_entity_markup(
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
        parsed.extend(_parse_all(model, var_dir, tested))
    out = var_dir / "nlu-eval" / "cv-parses.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for p in parsed:
            handle.write(json.dumps({"text": p.text, "expected": p.expected,
                                     "candidates": p.understanding.candidates}, ensure_ascii=False) + "\n")
    return parsed


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


def _parse_all(model: Path, var_dir: Path, tested: list[tuple[str, str]]) -> list[Parsed]:
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
                results.append(Parsed(text, label, understanding_from_rasa(payload)))
            return results
    finally:
        server.stop()


def load_parses(path: Path) -> list[Parsed]:
    parsed = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        candidates = tuple((label, float(score)) for label, score in item["candidates"])
        top = candidates[0] if candidates else (None, 0.0)
        parsed.append(Parsed(item["text"], item["expected"], Understanding(top[0], top[1], candidates)))
    return parsed


def figures(parsed: list[Parsed], usable: frozenset[str], thresholds: tuple[float, float, float]) -> dict[str, float]:
    """Intent accuracy of Rasa's top label, and what the engine's decision rule makes of the parses."""
    from bot.dialogue.decision import ANSWER, decide
    from bot.nlu.evaluation import base_intent

    total = max(1, len(parsed))
    top_right = answered_right = confident_wrong = 0
    for p in parsed:
        ranked = [label for label, _score in p.understanding.candidates]
        top_right += bool(ranked) and base_intent(ranked[0]) == base_intent(p.expected)
        decision = decide(p.understanding, usable, thresholds)
        if decision.kind == ANSWER:
            answered_right += decision.labels[0] == p.expected
            confident_wrong += decision.labels[0] != p.expected
    return {"intent accuracy (top label)": top_right / total, "answered right": answered_right / total,
            "acted on a wrong meaning": confident_wrong / total}
