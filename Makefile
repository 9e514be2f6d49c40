# servicedesk: `make run` serves the demo on the embedded SQLite; `make test` runs the checks and
# every test but the long fuzz and fault runs; `make test-all` (what CI runs) runs those too.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
export SERVICEDESK_ENV ?= development

.PHONY: run test test-all lint typecheck install lock bench soak clean chromium translations

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
	$(BIN)/ruff format --check .

# mypy --strict over servicedesk/ and integrations/ (settings in pyproject.toml).
typecheck: install
	$(BIN)/mypy

# Two processes by default: the machines have two cores, and every test has a database of its own.
# `make test` leaves out the tests marked slow (fuzzing, fault injection, the long browser flows);
# `make test-all` runs every test, as CI does.
PYTEST_WORKERS ?= 2
test: install lint typecheck chromium
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) -m "not slow"

test-all: install lint typecheck chromium
	$(BIN)/pytest -q -n $(PYTEST_WORKERS)

# Debian's Chromium for the browser tests (tests/browser), installed once when missing.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" -eq 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: apt-get install chromium (as root)" >&2; exit 1; fi; }

# Messages of the web pages: extract, merge into sv/nb/en, compile (the .mo files are committed).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --ignore-dirs=".venv .git" -o servicedesk/translations/messages.pot .
	$(BIN)/pybabel update -i servicedesk/translations/messages.pot -d servicedesk/translations \
	  --no-fuzzy-matching --ignore-obsolete -w 100
	$(BIN)/pybabel compile -d servicedesk/translations

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
