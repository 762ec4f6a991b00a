# The two commands a newcomer needs: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
PG_TEST_URL ?= postgresql://127.0.0.1:5432/test
BIN := $(VENV)/bin

.PHONY: run install test lint typecheck test-sqlite test-postgres bench

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(BIN)/.installed

## Set up on first run (instance folder, keys, database, demo clinic) and serve the app.
run: install
	$(BIN)/flask --app journal init --demo
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - 'journal:create_app()'

## Everything CI checks: lint, types, and the whole suite on SQLite and on PostgreSQL.
## The two passes run side by side (one per core); each one's output is shown when it ends.
test: install lint typecheck
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

lint: install
	$(BIN)/ruff check journal tests migrations bench
	$(BIN)/ruff format --check journal tests migrations bench

typecheck: install
	$(BIN)/mypy

test-sqlite: install
	$(BIN)/pytest

test-postgres: install
	JOURNAL_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest

## The benchmark's short version (under two minutes); `python bench/run.py` runs the full one.
bench: install
	$(BIN)/python bench/run.py --quick
