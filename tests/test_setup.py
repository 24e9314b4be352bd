"""Set-up on a machine without Python 3.10 stops before installing anything and says what to install."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT


@pytest.mark.skipif(Path("/usr/bin/python3.10").exists(), reason="this machine has a system Python 3.10")
def test_make_setup_without_python310_installs_nothing(tmp_path: Path) -> None:
    for name in ("Makefile", "pyproject.toml", "requirements-rasa.txt"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    shutil.copytree(PROJECT_ROOT / "scripts", tmp_path / "scripts")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "no-pyenv"),
           "PYTHON": os.environ.get("PYTHON", "python3")}
    result = subprocess.run(["make", "setup"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Python 3.10 was not found" in result.stderr and "pyenv install 3.10" in result.stderr
    assert not (tmp_path / ".venv").exists() and not (tmp_path / ".venv-rasa").exists()


def test_python310_is_found_through_an_explicit_path() -> None:
    found = subprocess.run([str(PROJECT_ROOT / "scripts" / "find-python310")], capture_output=True, text=True)
    if found.returncode != 0:
        pytest.skip("no Python 3.10 on this machine")
    again = subprocess.run([str(PROJECT_ROOT / "scripts" / "find-python310")], capture_output=True, text=True,
                           env={"PATH": "/usr/bin:/bin", "PYTHON310": found.stdout.strip(),
                                "PYENV_ROOT": "/nonexistent"})
    assert again.returncode == 0 and again.stdout.strip() == found.stdout.strip()


def test_the_deployed_rasa_unit_gives_rasa_the_environment_the_bot_gives_it(tmp_path):
    """The systemd unit starts Rasa without the bot: it must set what `rasa_environment` sets (the project on
    PYTHONPATH above all: config.yml names a component of the project, and Rasa cannot load the model without it)."""
    from bot.logsafety import minimal_environment
    from bot.nlu.training import rasa_environment

    unit = (PROJECT_ROOT / "deploy" / "systemd" / "migrasi-rasa@.service").read_text(encoding="utf-8")
    in_unit = {line.split("=", 2)[1] for line in unit.splitlines() if line.startswith("Environment=")}
    assert set(rasa_environment(tmp_path)) - set(minimal_environment()) <= in_unit
