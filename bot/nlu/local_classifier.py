"""The local classifier: a linear model over the word and character n-grams of the training examples and their
sentence vectors (bot/nlu/sentence_vectors.py), in the bot's own process. It answers beside Rasa, with the sentence
vector Rasa sends back (bot/nlu/service.py adds the two opinions up), and alone, from the n-grams, while the Rasa
server is down or slow.

Why a second model: on messages it never saw (tests/nlu/dev.yml, label level) it picks the right label more often
than Rasa's DIET (84.7% against 76.2%), and the two together more often than either (85.4%); on the old held-out
file 93.3% and 92.5%, together 94.4%. The fuzzy matcher it replaced got 63.2% and 79.5% there. (Figures from before
the sentence vectors; for those see MEANING_WEIGHT.)

Training (scikit-learn and the sentence encoder, about 15 seconds for ~5,000 examples) happens once per set of
examples: `python -m bot train` keeps the weights in var/models/local-<hash>.npz, and a process that finds them there
never imports scikit-learn or the encoder (about 100 and 120 MB of memory). Answering is a few NumPy operations on
the message's own n-grams and the vector Rasa sent.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bot.nlu.sentence_vectors import DIMENSIONS, ENCODER, sentence_vectors
from bot.nlu.understanding import UNSURE, Matcher, Understanding

log = logging.getLogger(__name__)
# Regularisation: 5-fold cross-validation on the training examples gave 79.4-80.0% for 1e-5 to 1e-4 (3e-6: 76.3%);
# tests/nlu/dev.yml 84.7% at 1e-5, 83.9% at 3e-5.
ALPHA = 2e-5
EPOCHS = 50
CHAR_MIN_DF = 2  # character n-grams seen in one example only are noise (typos)
# How much the sentence vector counts beside the n-grams (each block has unit length). 3-fold CV, label level:
# 0 (the model alone) -> 80.3%, 0.6 -> 82.2%, 0.8 -> 82.2%, 1.0 -> 82.4%, 1.3 -> 82.1%, 2.0 -> 81.1%; the vectors
# alone 73.7%.
MEANING_WEIGHT = 1.0
VERSION = 3  # bump when the features or the model change: saved weights of another version are not used
TOP = 10  # labels kept in a ranking
_WORD = re.compile(r"\b\w\w+\b")

Example = tuple[str, str]  # (label, normalised text)


def word_grams(text: str) -> list[str]:
    """Words of two letters or more, and pairs of neighbouring words."""
    words = _WORD.findall(text)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def char_grams(text: str) -> list[str]:
    """Character 2- to 5-grams inside each word padded with a space (robust to typos and affixes)."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        for n in range(2, min(5, len(padded)) + 1):
            grams.extend(padded[i:i + n] for i in range(len(padded) - n + 1))
    return grams


@dataclass(frozen=True)
class _Block:
    """One kind of feature: its vocabulary (feature -> column) and inverse document frequencies."""

    vocabulary: dict[str, int]
    idf: NDArray[np.float32]

    def vector(self, grams: list[str]) -> tuple[list[int], NDArray[np.float32]]:
        """Columns and TF-IDF weights (sublinear counts, unit length) of one message's grams."""
        counts = Counter(g for g in grams if g in self.vocabulary)
        columns = [self.vocabulary[g] for g in counts]
        weights = np.array([1.0 + math.log(c) for c in counts.values()], dtype=np.float32) * self.idf[columns]
        norm = float(np.linalg.norm(weights))
        return columns, weights / norm if norm else weights

    @classmethod
    def fit(cls, documents: list[list[str]], min_df: int) -> _Block:
        frequency = Counter(g for grams in documents for g in set(grams))
        kept = sorted(g for g, df in frequency.items() if df >= min_df)
        idf = np.array([math.log((1 + len(documents)) / (1 + frequency[g])) + 1.0 for g in kept], dtype=np.float32)
        return cls({g: i for i, g in enumerate(kept)}, idf)


@dataclass(frozen=True)
class _Linear:
    """One linear model's weights: a row per label, a column per feature."""

    coef: NDArray[np.float32]
    intercept: NDArray[np.float32]

    @classmethod
    def fit(cls, matrix: Any, labels: list[str]) -> tuple[list[str], _Linear]:
        """scikit-learn's SGD with logistic loss, fixed seed; the labels in the rows' order."""
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import SGDClassifier

        model = SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, random_state=0)
        with warnings.catch_warnings():  # EPOCHS passes are plenty here; sklearn asks for more by default
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(matrix, labels)
        if len(model.classes_) < 3:
            raise ValueError("the local classifier needs at least three labels")
        return [str(label) for label in model.classes_], cls(model.coef_.astype(np.float32),
                                                              model.intercept_.astype(np.float32))


class LocalClassifier:
    """Two linear models over the same n-grams: `alone` for when Rasa does not answer, `beside_rasa` with the sentence
    vector Rasa sends as well. (One model trained on each example with and without its vector ranked as well, 82.3% /
    80.1% in 3-fold CV, but without the vector its probabilities were flat, about 0.2 for a clear "syarat jadi pmi
    apa": too low to act on.)"""

    def __init__(self, labels: list[str], words: _Block, chars: _Block, alone: _Linear,
                 beside_rasa: _Linear | None):
        self.labels, self._words, self._chars = labels, words, chars
        self._alone, self._beside_rasa = alone, beside_rasa

    def scores(self, query: str, meaning: Sequence[float] = ()) -> dict[str, float]:
        """Every label's probability for an already normalised message (one-vs-rest, normalised to add up to 1);
        `meaning`: its sentence vector when the Rasa server sent one (without it, the n-grams alone decide). The
        encoder reads other scripts too, the examples are Indonesian: a message not in Latin letters is not matched
        by meaning ("أريد العمل في السعودية" got the Middle East topic as a best guess)."""
        columns, weights = _grams(self._words, self._chars, query)
        model = self._beside_rasa
        if model is not None and len(meaning) == DIMENSIONS and _in_latin_letters(query):
            vector = MEANING_WEIGHT * np.asarray(meaning, dtype=np.float32)
            decision = model.coef[:, columns] @ weights + model.coef[:, -DIMENSIONS:] @ vector + model.intercept
        else:
            decision = self._alone.coef[:, columns] @ weights + self._alone.intercept
        probabilities = 1.0 / (1.0 + np.exp(-decision))
        total = float(probabilities.sum())
        return {label: float(p) / total for label, p in zip(self.labels, probabilities, strict=True)}

    def parse(self, query: str) -> Understanding:
        """The classifier alone (Rasa down or not asked): no sentence vector."""
        ranked = ranking(self.scores(query))
        if not ranked:
            return Understanding(UNSURE, 0.0, source=Matcher.FALLBACK)
        return Understanding(ranked[0][0], ranked[0][1], ranked, source=Matcher.FALLBACK)

    # ---- training and the saved weights -----------------------------------------------------------------

    @classmethod
    def train(cls, examples: Sequence[Example], with_vectors: bool = True) -> LocalClassifier:
        """Fit both models on (label, normalised text) pairs; only the n-gram one without `with_vectors` (a bot
        process that finds no trained weights: the encoder would take 120 MB there, and about 10 s)."""
        from scipy.sparse import csr_matrix, hstack

        texts = [text for _label, text in examples]
        labels = [label for label, _text in examples]
        words = _Block.fit([word_grams(text) for text in texts], 1)
        chars = _Block.fit([char_grams(text) for text in texts], CHAR_MIN_DF)
        data: list[float] = []
        indices: list[int] = []
        indptr = [0]
        for text in texts:
            columns, weights = _grams(words, chars, text)
            indices += columns
            data += weights.tolist()
            indptr.append(len(indices))
        grams = csr_matrix((data, indices, indptr), shape=(len(texts), len(words.vocabulary) + len(chars.vocabulary)))
        in_order, alone = _Linear.fit(grams, labels)  # scikit-learn sorts the labels: the same order twice
        if not with_vectors:
            return cls(in_order, words, chars, alone, None)
        meaning = hstack([grams, csr_matrix(MEANING_WEIGHT * sentence_vectors(texts))], format="csr")
        return cls(in_order, words, chars, alone, _Linear.fit(meaning, labels)[1])

    def save(self, path: Path) -> None:
        if self._beside_rasa is None:
            raise ValueError("only a classifier trained with the sentence vectors is kept")
        path.parent.mkdir(parents=True, exist_ok=True)
        vocabularies = json.dumps({"labels": self.labels, "words": _ordered(self._words),
                                   "chars": _ordered(self._chars)})
        partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")
        np.savez(partial, vocabularies=np.array(vocabularies), word_idf=self._words.idf, char_idf=self._chars.idf,
                 coef=self._alone.coef, intercept=self._alone.intercept, coef_beside_rasa=self._beside_rasa.coef,
                 intercept_beside_rasa=self._beside_rasa.intercept)
        partial.replace(path)  # never half a file under the real name (several workers may save at once)

    @classmethod
    def load(cls, path: Path) -> LocalClassifier:
        with np.load(path) as saved:
            vocabularies = json.loads(str(saved["vocabularies"]))
            return cls(vocabularies["labels"],
                       _Block({g: i for i, g in enumerate(vocabularies["words"])}, saved["word_idf"]),
                       _Block({g: i for i, g in enumerate(vocabularies["chars"])}, saved["char_idf"]),
                       _Linear(saved["coef"], saved["intercept"]),
                       _Linear(saved["coef_beside_rasa"], saved["intercept_beside_rasa"]))


def _in_latin_letters(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return sum(c.isascii() for c in letters) * 2 >= len(letters) > 0


def _grams(words: _Block, chars: _Block, text: str) -> tuple[list[int], NDArray[np.float32]]:
    """Columns and weights of a message's word and character n-grams (the sentence vector's columns follow them)."""
    word_columns, word_weights = words.vector(word_grams(text))
    char_columns, char_weights = chars.vector(char_grams(text))
    offset = len(words.vocabulary)
    return word_columns + [offset + c for c in char_columns], np.concatenate([word_weights, char_weights])


def _ordered(block: _Block) -> list[str]:
    return sorted(block.vocabulary, key=block.vocabulary.__getitem__)


def ranking(scores: dict[str, float]) -> tuple[tuple[str, float], ...]:
    """The best `TOP` labels, best first."""
    return tuple(sorted(scores.items(), key=lambda pair: pair[1], reverse=True)[:TOP])


def weights_file(models_dir: Path, examples: Sequence[Example]) -> Path:
    """Where the weights trained on exactly these examples are kept."""
    settings = [VERSION, ALPHA, EPOCHS, MEANING_WEIGHT, ENCODER]
    digest = hashlib.sha256(json.dumps([*settings, list(examples)]).encode()).hexdigest()[:16]
    return models_dir / f"local-{digest}.npz"


_trained: dict[tuple[Example, ...], LocalClassifier] = {}  # the last two content versions' classifiers
_training = threading.Lock()


def local_classifier(examples: tuple[Example, ...], models_dir: Path | None = None) -> LocalClassifier:
    """One classifier per set of examples (a content version), shared by everything in the process: the saved
    weights when `models_dir` holds them (`python -m bot train`), else the n-gram model trained here, not kept
    (content edited since training: it answers without the sentence vectors until the next training)."""
    found = _trained.get(examples)
    if found is not None:
        return found
    with _training:
        found = _trained.get(examples)
        if found is None:
            found = _load_or_train(examples, models_dir)
            if len(_trained) >= 2:
                del _trained[next(iter(_trained))]
            _trained[examples] = found
        return found


def keep_weights(examples: tuple[Example, ...], models_dir: Path) -> Path:
    """Train both models on these examples and keep them in `models_dir` unless they are there and readable
    (`python -m bot train`)."""
    path = weights_file(models_dir, examples)
    if _saved(path) is None:
        classifier = LocalClassifier.train(examples)
        classifier.save(path)
        with _training:
            _trained[examples] = classifier
    return path


def _load_or_train(examples: tuple[Example, ...], models_dir: Path | None) -> LocalClassifier:
    saved = _saved(weights_file(models_dir, examples)) if models_dir is not None else None
    if saved is not None:
        return saved
    log.info("no trained weights for this content in %s: the n-gram model is trained here, without the sentence "
             "vectors until `python -m bot train` runs", models_dir)
    return LocalClassifier.train(examples, with_vectors=False)


def _saved(path: Path) -> LocalClassifier | None:
    if not path.exists():
        return None
    try:
        return LocalClassifier.load(path)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("could not read the local classifier's weights %s (%s); training again", path, exc)
        return None
