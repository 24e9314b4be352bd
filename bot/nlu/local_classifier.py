"""The local classifier: a linear model over the word and character n-grams of the training examples, in the bot's
own process. It answers alone while the Rasa server is down or slow, and beside Rasa otherwise (bot/nlu/service.py
adds the two opinions up).

Why a second model: on messages it never saw (tests/nlu/dev.yml, label level) it picks the right label more often
than Rasa's DIET (84.7% against 76.2%), and the two together more often than either (85.4%); on the old held-out
file 93.3% and 92.5%, together 94.4%. The fuzzy matcher it replaced got 63.2% and 79.5% there.

Training (scikit-learn, about two seconds) happens once per set of examples: `python -m bot train` keeps the weights in
var/models/local-<hash>.npz, and a process that finds them there never imports scikit-learn (which costs about
100 MB of memory). Answering is a few NumPy operations on the message's own n-grams.
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

import numpy as np
from numpy.typing import NDArray

from bot.nlu.understanding import UNSURE, Matcher, Understanding

log = logging.getLogger(__name__)
# Regularisation: 5-fold cross-validation on the training examples gave 79.4-80.0% for 1e-5 to 1e-4 (3e-6: 76.3%);
# tests/nlu/dev.yml 84.7% at 1e-5, 83.9% at 3e-5.
ALPHA = 2e-5
EPOCHS = 50
CHAR_MIN_DF = 2  # character n-grams seen in one example only are noise (typos)
VERSION = 1  # bump when the features or the model change: saved weights of another version are not used
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


class LocalClassifier:
    def __init__(self, labels: list[str], words: _Block, chars: _Block, coef: NDArray[np.float32],
                 intercept: NDArray[np.float32]):
        self.labels, self._words, self._chars = labels, words, chars
        self._coef, self._intercept = coef, intercept

    def _features(self, text: str) -> tuple[list[int], NDArray[np.float32]]:
        word_columns, word_weights = self._words.vector(word_grams(text))
        char_columns, char_weights = self._chars.vector(char_grams(text))
        offset = len(self._words.vocabulary)
        return word_columns + [offset + c for c in char_columns], np.concatenate([word_weights, char_weights])

    def scores(self, query: str) -> dict[str, float]:
        """Every label's probability for an already normalised message (one-vs-rest, normalised to add up to 1)."""
        columns, weights = self._features(query)
        decision = self._coef[:, columns] @ weights + self._intercept
        probabilities = 1.0 / (1.0 + np.exp(-decision))
        total = float(probabilities.sum())
        return {label: float(p) / total for label, p in zip(self.labels, probabilities, strict=True)}

    def parse(self, query: str) -> Understanding:
        ranked = ranking(self.scores(query))
        if not ranked:
            return Understanding(UNSURE, 0.0, source=Matcher.FALLBACK)
        return Understanding(ranked[0][0], ranked[0][1], ranked, source=Matcher.FALLBACK)

    # ---- training and the saved weights -----------------------------------------------------------------

    @classmethod
    def train(cls, examples: Sequence[Example]) -> LocalClassifier:
        """Fit on (label, normalised text) pairs (scikit-learn's SGD with logistic loss, fixed seed)."""
        import warnings

        from scipy.sparse import csr_matrix
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import SGDClassifier

        word_docs = [word_grams(text) for _label, text in examples]
        char_docs = [char_grams(text) for _label, text in examples]
        words, chars = _Block.fit(word_docs, 1), _Block.fit(char_docs, CHAR_MIN_DF)
        offset = len(words.vocabulary)
        data: list[float] = []
        indices: list[int] = []
        indptr = [0]
        for word_doc, char_doc in zip(word_docs, char_docs, strict=True):
            word_columns, word_weights = words.vector(word_doc)
            char_columns, char_weights = chars.vector(char_doc)
            indices += word_columns + [offset + c for c in char_columns]
            data += [*word_weights.tolist(), *char_weights.tolist()]
            indptr.append(len(indices))
        matrix = csr_matrix((data, indices, indptr), shape=(len(examples), offset + len(chars.vocabulary)))
        model = SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, random_state=0)
        with warnings.catch_warnings():  # EPOCHS passes are plenty here; sklearn asks for more by default
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(matrix, [label for label, _text in examples])
        if len(model.classes_) < 3:
            raise ValueError("the local classifier needs at least three labels")
        return cls([str(label) for label in model.classes_], words, chars, model.coef_.astype(np.float32),
                   model.intercept_.astype(np.float32))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        vocabularies = json.dumps({"labels": self.labels, "words": _ordered(self._words),
                                   "chars": _ordered(self._chars)})
        partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")
        np.savez(partial, vocabularies=np.array(vocabularies), word_idf=self._words.idf, char_idf=self._chars.idf,
                 coef=self._coef, intercept=self._intercept)
        partial.replace(path)  # never half a file under the real name (several workers may save at once)

    @classmethod
    def load(cls, path: Path) -> LocalClassifier:
        with np.load(path) as saved:
            vocabularies = json.loads(str(saved["vocabularies"]))
            return cls(vocabularies["labels"],
                       _Block({g: i for i, g in enumerate(vocabularies["words"])}, saved["word_idf"]),
                       _Block({g: i for i, g in enumerate(vocabularies["chars"])}, saved["char_idf"]),
                       saved["coef"], saved["intercept"])


def _ordered(block: _Block) -> list[str]:
    return sorted(block.vocabulary, key=block.vocabulary.__getitem__)


def ranking(scores: dict[str, float]) -> tuple[tuple[str, float], ...]:
    """The best `TOP` labels, best first."""
    return tuple(sorted(scores.items(), key=lambda pair: pair[1], reverse=True)[:TOP])


def weights_file(models_dir: Path, examples: Sequence[Example]) -> Path:
    """Where the weights trained on exactly these examples are kept."""
    digest = hashlib.sha256(json.dumps([VERSION, ALPHA, EPOCHS, list(examples)]).encode()).hexdigest()[:16]
    return models_dir / f"local-{digest}.npz"


_trained: dict[tuple[Example, ...], LocalClassifier] = {}  # the last two content versions' classifiers
_training = threading.Lock()


def local_classifier(examples: tuple[Example, ...], models_dir: Path | None = None) -> LocalClassifier:
    """One classifier per set of examples (a content version), shared by everything in the process: the saved
    weights when `models_dir` holds them, else trained here (and saved there for the next process)."""
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
    """Save the weights trained on these examples in `models_dir` unless they are there (`python -m bot train`)."""
    classifier = local_classifier(examples, models_dir)  # saves them when it has to train
    path = weights_file(models_dir, examples)
    if not path.exists():  # found in this process's cache, trained earlier without models_dir
        classifier.save(path)
    return path


def _load_or_train(examples: tuple[Example, ...], models_dir: Path | None) -> LocalClassifier:
    path = weights_file(models_dir, examples) if models_dir is not None else None
    if path is not None and path.exists():
        try:
            return LocalClassifier.load(path)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("could not read the local classifier's weights %s (%s); training again", path, exc)
    classifier = LocalClassifier.train(examples)
    if path is not None:
        try:
            classifier.save(path)
        except OSError as exc:
            log.warning("could not keep the local classifier's weights in %s: %s", path, exc)
    return classifier
