# Exosome-serum assistant: `make run` serves it, `make test` proves it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
RASA      := $(VENV)/bin/rasa
STAMP     := $(VENV)/.installed
SPACY_DIR := build/spacy-blank-en
MODEL_DIR := models
# What the trained model is made of; a change to any of them retrains. (Code and the knowledge base are
# read at start-up, so editing them needs no retraining.)
TRAIN_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null)
MODEL     := $(MODEL_DIR)/assistant.tar.gz

# A Python 3.10 that actually runs: PATH first, then pyenv's versions (a pyenv shim on PATH may not run).
PYTHON310 ?= $(shell for p in python3.10 $$(ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.10.*/bin/python 2>/dev/null | sort -rV); do \
                 "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)

.PHONY: help setup train run run-scaled shell test test-packages evaluate explain bench bench-scaled bench-insights widget clean

help:
	@echo "make run       set up, train when needed, serve the assistant (REST/socket.io :5005, actions :5055, demo :8080)"
	@echo "make run-scaled the same behind nginx :5005: 2 Rasa replicas, PostgreSQL, Redis (docs/deployment.md)"
	@echo "make shell     chat in the terminal, beside a running make run (its own Rasa server on a free port)"
	@echo "make test      set up, install the Debian packages the tests drive (chromium, postgresql, redis, nginx), train when needed, run the whole test suite"
	@echo "make train     retrain the model if data/config/domain/knowledge changed"
	@echo "make evaluate  NLU held-out + cross-validation report, core story report"
	@echo "make explain MSG=\"...\" [STATE='{\"skin_types\":[\"oily\"]}']  what one message is understood as, which step decided, the reply"
	@echo "make bench     load benchmark against this assistant and stock 'rasa init'"
	@echo "make bench-scaled the same load against make run and make run-scaled, side by side"
	@echo "make bench-insights the insights page's queries over 100,000 synthetic conversations, SQLite and PostgreSQL"
	@echo "make widget    rebuild the chat widget (web/dist/widget.js) and the insights charts (web/dist/insights.js) (needs npm)"

$(PY):
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "error: Rasa 3.6 needs Python 3.10, and none that runs was found on PATH or under pyenv." >&2; \
	  echo "       Install one (e.g. 'pyenv install 3.10') or pass PYTHON310=/path/to/python3.10." >&2; exit 1; fi
	@echo "==> creating $(VENV) with $(PYTHON310)"
	$(PYTHON310) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	@echo "==> installing the project and its dependencies (first time: a few minutes, ~2.7 GB)"
	$(PY) -m pip install --quiet --upgrade "pip<24.1"
	$(PY) -m pip install --progress-bar off -e ".[dev]"
	@touch $@

$(SPACY_DIR)/meta.json: $(STAMP)
	@echo "==> building the blank English spaCy pipeline in $(SPACY_DIR)"
	$(PY) -m addons.build_spacy $(SPACY_DIR)

setup: $(STAMP) $(SPACY_DIR)/meta.json

$(MODEL): $(STAMP) $(SPACY_DIR)/meta.json $(TRAIN_INPUTS)
	@echo "==> training the model (data, config, domain or knowledge changed)"
	$(RASA) train --fixed-model-name assistant --out $(MODEL_DIR)

train: $(MODEL)

run: setup $(MODEL)
	$(PY) -m scripts.serve

# Installs PostgreSQL, Redis and nginx (Debian packages, scripts/packages.py) if missing; data under var/scaled/.
run-scaled: setup $(MODEL)
	$(PY) -m scripts.serve_scaled $(SCALED_ARGS)

# rasa shell starts a Rasa server of its own: on a free port, so it works beside make run (scripts/shell.py).
shell: setup $(MODEL)
	$(PY) -m scripts.shell $(SHELL_ARGS)

# The tests drive Chromium, PostgreSQL, Redis and nginx for real: installed from Debian's packages when missing
# (as root), else make stops with the one command to run (scripts/packages.py). A missing tool fails, never skips.
test: test-packages setup $(MODEL)
	$(PY) -m pytest $(PYTEST_ARGS)

test-packages: | $(PY)
	@$(PY) -m scripts.packages test

evaluate: setup
	$(PY) -m scripts.evaluate

explain: setup $(MODEL)
	@$(PY) -m scripts.explain "$(MSG)" --state '$(or $(STATE),{})' 2>/dev/null

bench: setup $(MODEL)
	$(PY) -m scripts.bench $(BENCH_ARGS)

bench-scaled: setup $(MODEL)
	$(PY) -m scripts.bench_scaled $(BENCH_ARGS)

# 100,000 synthetic conversations (~2M events) in SQLite and in PostgreSQL; the insights page's query times.
bench-insights: setup
	@$(PY) -m scripts.packages scaled
	$(PY) -m scripts.bench_insights $(BENCH_ARGS)

# The widget bundle is committed, so `make run` needs no npm; rebuild it after changing web/src.
widget:
	cd web && npm ci --no-audit --no-fund && npm run build

clean:
	rm -rf $(MODEL_DIR) build .rasa results
