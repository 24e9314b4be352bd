# The two commands: `make run` and `make test`. Both set everything up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
RASA_VENV := .venv-rasa
RASA_VERSION := 3.6.21
BOT := $(VENV)/bin/python -m bot
export RASA_TELEMETRY_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint setup train check-python310 bench clean

run: setup
	@$(BOT) reports init-key
	@$(BOT) db upgrade
	@$(BOT) train
	@$(BOT) run

test: setup lint
	@$(BOT) content check
	@$(BOT) train
	$(VENV)/bin/python -m pytest

# Style and types (configured in pyproject.toml): ruff over everything, mypy --strict over bot/ and db/.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The quick loop while editing: every test except those that start Rasa or the bot process (README, "Tests").
# Needs only the bot's virtualenv: no Rasa install, no training.
.PHONY: test-fast
test-fast: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -n auto -m "not rasa and not e2e and not slow"

setup: check-python310 $(VENV)/.installed $(RASA_VENV)/.installed

# Checked before anything is installed, so a machine without Python 3.10 is left untouched.
check-python310:
	@scripts/find-python310 >/dev/null

$(VENV)/.installed: pyproject.toml
	@echo "==> Installing the bot's virtualenv ($(VENV))..."
	@$(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --upgrade pip
	@set -o pipefail; $(VENV)/bin/pip install --progress-bar off -e '.[test]' 2>&1 \
	  | grep --line-buffered -E '^(Collecting|Successfully|ERROR)' \
	  || { echo "Installing the bot's dependencies failed; see the messages above." >&2; exit 1; }
	@touch $@

# Rasa lives in its own Python 3.10 virtualenv (see README: two processes, two Pythons).
# A failed install removes the half-made virtualenv.
$(RASA_VENV)/.installed: requirements-rasa.txt
	@echo "==> Installing Rasa $(RASA_VERSION) into $(RASA_VENV) (Python 3.10; about 2 minutes, 2.7 GB)..."
	@rm -rf $(RASA_VENV)
	@set -o pipefail; py310="$$(scripts/find-python310)" && "$$py310" -m venv $(RASA_VENV) \
	  && $(RASA_VENV)/bin/pip install --quiet --upgrade pip \
	  && $(RASA_VENV)/bin/pip install --progress-bar off -r requirements-rasa.txt 2>&1 \
	     | grep --line-buffered -E '^(Collecting|Installing|Successfully|ERROR)' \
	  && $(RASA_VENV)/bin/rasa --version >/dev/null \
	  || { echo "Rasa installation failed; removed $(RASA_VENV). See the messages above." >&2; rm -rf $(RASA_VENV); exit 1; }
	@touch $@

train: setup
	@$(BOT) train

bench: setup
	@$(BOT) train
	$(VENV)/bin/python bench/engine_latency.py
	$(VENV)/bin/python bench/nlu_latency.py

clean:
	rm -rf $(VENV) $(RASA_VENV) var
