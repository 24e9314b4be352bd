"""`python -m bot train`: assemble Rasa training data, fingerprint it, and train in `.venv-rasa` when it changed."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import TextIO

from bot.content import Content
from bot.logsafety import minimal_environment
from bot.nlu.local_classifier import keep_weights
from bot.nlu.training_data import matcher_examples, rasa_training_files, training_problems
from bot.settings import PROJECT_ROOT

RASA_VERSION = "3.6.21"
RASA_VENV = Path(os.environ.get("RASA_VENV") or PROJECT_ROOT / ".venv-rasa")
CONFIG_FILE = PROJECT_ROOT / "config.yml"
NLU_DATA_DIR = PROJECT_ROOT / "nlu_data"


def rasa_executable() -> Path:
    return RASA_VENV / "bin" / "rasa"


def rasa_environment(var_dir: Path) -> dict[str, str]:
    """Rasa's environment: only what a process needs (none of the bot's secrets), no telemetry, caches inside var/,
    quiet TensorFlow; the project on its path for the pipeline's own component (bot/nlu/rasa_sentence_vectors.py)."""
    env = minimal_environment()
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        RASA_CACHE_DIRECTORY=str(var_dir / "rasa-cache"),
        MPLCONFIGDIR=str(var_dir / "matplotlib"),
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONPATH=str(PROJECT_ROOT),
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    return env


def training_inputs(content: Content) -> dict[str, str]:
    """The exact files Rasa trains on, by name."""
    files = rasa_training_files(content, NLU_DATA_DIR)
    files["config.yml"] = CONFIG_FILE.read_text(encoding="utf-8")
    return files


def fingerprint(files: dict[str, str]) -> str:
    digest = hashlib.sha256(RASA_VERSION.encode())
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()[:16]


def models_dir(var_dir: Path) -> Path:
    return var_dir / "models"


def model_path(var_dir: Path, content: Content) -> Path:
    """Where the model for the current training data lives (it may not exist yet)."""
    return models_dir(var_dir) / f"nlu-{fingerprint(training_inputs(content))}.tar.gz"


def latest_model(var_dir: Path) -> Path | None:
    """The newest trained model, used when the data changed but nobody retrained yet."""
    models = sorted(models_dir(var_dir).glob("nlu-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def train(content: Content, var_dir: Path, force: bool = False, out: TextIO = sys.stdout) -> Path:
    """Train unless a model for exactly these inputs exists; return the model path. The local classifier's
    weights are made too, so the bot process does not train it (or load scikit-learn) itself."""
    keep_weights(matcher_examples(content, NLU_DATA_DIR), models_dir(var_dir))
    files = training_inputs(content)
    target = models_dir(var_dir) / f"nlu-{fingerprint(files)}.tar.gz"
    if target.exists() and not force:
        print(f"NLU model is up to date: {target}", file=out)
        return target
    if not rasa_executable().exists():
        raise RuntimeError(f"Rasa is not installed in {RASA_VENV}; run `make setup` first")
    problems = training_problems(content, NLU_DATA_DIR)
    if problems:
        raise RuntimeError("the training data is not fit for training:\n  " + "\n  ".join(problems))
    work = var_dir / "training" / target.stem.removesuffix(".tar")
    work.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (work / name).write_text(text, encoding="utf-8")
    print("Validating the training data with `rasa data validate`...", file=out, flush=True)
    validate = [str(rasa_executable()), "data", "validate", "--data", str(work / "nlu.yml"),
                "--domain", str(work / "domain.yml"), "--config", str(work / "config.yml"), "--fail-on-warnings"]
    result = subprocess.run(validate, cwd=work, env=rasa_environment(var_dir))
    if result.returncode != 0:
        raise RuntimeError("`rasa data validate` found problems; see the output above")
    print(
        f"Training the NLU model ({len(content.topics)} FAQ topics); this takes one to a few minutes...",
        file=out,
        flush=True,
    )
    command = [
        str(rasa_executable()), "train", "nlu",
        "--nlu", str(work / "nlu.yml"),
        "--domain", str(work / "domain.yml"),
        "--config", str(work / "config.yml"),
        "--out", str(models_dir(var_dir)),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]
    result = subprocess.run(command, cwd=work, env=rasa_environment(var_dir))
    if result.returncode != 0 or not target.exists():
        raise RuntimeError(f"Rasa training failed (exit code {result.returncode}); see the output above")
    print(f"NLU model written: {target}", file=out)
    return target
