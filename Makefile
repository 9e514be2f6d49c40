# servicedesk: `make run` serves the demo on the embedded SQLite; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
export SERVICEDESK_ENV ?= development

.PHONY: run test lint install lock bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Installs the project with its test tools, pinned by constraints.txt, again whenever they change.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/servicedesk db upgrade
	$(BIN)/servicedesk demo --if-empty
	$(BIN)/servicedesk serve --host $(HOST) --port $(PORT) --workers 2

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check servicedesk integrations tests bench

# Two processes by default: the machines have two cores, and every test has a database of its own.
PYTEST_WORKERS ?= 2
test: install lint
	$(BIN)/pytest -q -n $(PYTEST_WORKERS)

# Re-pin every dependency from a clean resolve (run after changing pyproject.toml).
lock:
	rm -rf /tmp/servicedesk-lock && $(PYTHON) -m venv /tmp/servicedesk-lock
	/tmp/servicedesk-lock/bin/pip install -q '.[test]'
	/tmp/servicedesk-lock/bin/pip freeze --exclude-editable | grep -v '^servicedesk' > constraints.txt

bench: install
	$(BIN)/python bench/ingest.py

# The long fault runs: repeated kill -9 and PostgreSQL restarts under load (bench/soak.py).
soak: install
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
