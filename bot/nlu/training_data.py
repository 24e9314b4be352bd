"""The NLU examples: non-FAQ intents from `nlu_data/`, FAQ questions from `content/faq/`.

Used to assemble Rasa's training files and to build the local classifier, so both learn from
the same examples, normalised the same way.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from bot.content import Content
from bot.nlu.augment import variant
from bot.nlu.normalise import normalise
from bot.nlu.understanding import FAQ_PREFIX
from bot.yaml_files import dump_yaml, read_yaml

MIN_QUESTIONS = 15  # question examples a FAQ topic needs before the NLU can learn it
_ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")
# One item of a Rasa `nlu:` list: {"intent" | "synonym" | "regex" | "lookup": name, "examples": "- ...\n- ...\n"}.
NluItem = dict[str, str]


def strip_entity_markup(example: str) -> str:
    """'cek [PT Sinar Jaya](agency_name)' -> 'cek PT Sinar Jaya'."""
    return _ENTITY_MARKUP.sub(lambda m: m.group(1) or m.group(2), example)


def load_nlu_data(folder: Path) -> list[NluItem]:
    """All `nlu:` items of the Rasa YAML files in `folder` (intents, synonyms, regexes, lookups)."""
    items: list[NluItem] = []
    for path in sorted(folder.glob("*.yml")):
        if path.name in ("slang.yml", "danger.yml", "phrases.yml"):
            continue
        items.extend((read_yaml(path) or {}).get("nlu") or [])
    return items


def _example_lines(block: str) -> list[str]:
    return [line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")]


def labelled_examples(content: Content, nlu_data_dir: Path) -> list[tuple[str, str]]:
    """(label, raw example) pairs: intents from nlu_data and `faq/<topic>` from the FAQ files."""
    pairs: list[tuple[str, str]] = []
    for item in load_nlu_data(nlu_data_dir):
        if "intent" in item:
            pairs.extend((item["intent"], example) for example in _example_lines(item.get("examples", "")))
    for topic in content.topics.values():
        pairs.extend((FAQ_PREFIX + topic.id, question) for question in topic.questions)
    return pairs


@lru_cache(maxsize=4)
def matcher_examples(content: Content, nlu_data_dir: Path) -> tuple[tuple[str, str], ...]:
    """(label, normalised text without entity markup) pairs for the local classifier, once per content snapshot."""
    return tuple((label, normalise(strip_entity_markup(text)))
                 for label, text in labelled_examples(content, nlu_data_dir))


def rasa_training_files(content: Content, nlu_data_dir: Path,
                        keep: Callable[[tuple[str, str]], bool] | None = None) -> dict[str, str]:
    """The text of Rasa's `nlu.yml` and `domain.yml`, examples normalised as at run time (and augmented);
    `keep` selects (label, example) pairs, for cross-validation."""
    by_label: dict[str, list[str]] = {}
    examples = [pair for pair in labelled_examples(content, nlu_data_dir) if keep is None or keep(pair)]
    originals = {normalise(strip_entity_markup(text)) for _label, text in examples}
    for label, example in examples:
        normalised = _normalise_keeping_markup(example)
        by_label.setdefault(label, []).append(normalised)
        extra = variant(normalised) if normalised == strip_entity_markup(normalised) else None
        if extra is not None and extra not in originals:
            by_label[label].append(extra)
    nlu: list[NluItem] = [
        {"intent": label, "examples": "".join(f"- {e}\n" for e in dict.fromkeys(examples))}
        for label, examples in by_label.items()
    ]
    nlu.extend(item for item in load_nlu_data(nlu_data_dir) if "intent" not in item)
    country_names = sorted({normalise(n) for c in content.countries.values() for n in c.all_names})
    nlu.append({"lookup": "country", "examples": "".join(f"- {name}\n" for name in country_names)})
    intents = sorted({label.split("/")[0] for label in by_label})
    responses = {
        f"utter_{label}": [{"text": f"(answer kept in content/faq/{label[len(FAQ_PREFIX):]}.yml)"}]
        for label in sorted(by_label)
        if label.startswith(FAQ_PREFIX)
    }
    return {
        "nlu.yml": dump_yaml({"version": "3.1", "nlu": nlu}),
        "domain.yml": dump_yaml({"version": "3.1", "intents": intents, "responses": responses}),
    }


def _labels_by_text(content: Content, nlu_data_dir: Path) -> tuple[dict[str, str], list[str]]:
    """Every training example (normalised) with its label, and the examples found under two labels."""
    seen: dict[str, str] = {}
    clashes = []
    for label, example in labelled_examples(content, nlu_data_dir):
        other = seen.setdefault(normalise(strip_entity_markup(example)), label)
        if other != label:
            clashes.append(f"the example {example!r} is under both {other} and {label}")
    return seen, clashes


def training_problems(content: Content, nlu_data_dir: Path) -> list[str]:
    """What makes the training data unfit: a text under two intents, a FAQ topic with too few examples."""
    problems = _labels_by_text(content, nlu_data_dir)[1]
    for topic in content.topics.values():
        if len(topic.questions) < MIN_QUESTIONS:
            problems.append(f"FAQ topic {topic.id} has {len(topic.questions)} examples, at least {MIN_QUESTIONS}")
    return problems


def evaluation_leaks(content: Content, nlu_data_dir: Path, evaluation_texts: list[str]) -> list[str]:
    """Evaluation messages that are also training examples: a set the model learnt from measures nothing."""
    seen = _labels_by_text(content, nlu_data_dir)[0]
    return [f"the evaluation message {text!r} is also a training example ({seen[normalise(text)]})"
            for text in evaluation_texts if normalise(text) in seen]


def _normalise_keeping_markup(example: str) -> str:
    """Normalise the words around entity annotations, keeping `[value](entity)` intact for Rasa."""
    parts: list[str] = []
    last = 0
    for match in _ENTITY_MARKUP.finditer(example):
        parts.append(normalise(example[last:match.start()]))
        value = match.group(1) or match.group(2)
        parts.append(match.group(0).replace(f"[{value}]", f"[{normalise(value)}]", 1))
        last = match.end()
    parts.append(normalise(example[last:]))
    return " ".join(part for part in parts if part)
