# The two commands a newcomer needs: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
# One worker: the counts of failed sign-ins and of writes then live in its memory, with
# nothing else to install. More workers need them shared (gunicorn refuses otherwise):
#   JOURNAL_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 make run WORKERS=2
WORKERS ?= 1
PG_TEST_URL ?= postgresql://127.0.0.1:5432/test
JOBS ?= 2
BIN := $(VENV)/bin
# Bytecode is written (into the git-ignored __pycache__ folders) even where the shell
# says not to: the suite starts many Python processes (test workers, the CLI, the mail
# worker, gunicorn), and pytest rewrites every test module's asserts; cached, each
# starts seconds sooner.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run install system test checks lint typecheck test-sqlite test-postgres coverage bench test-review strings screenshots

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# The catalogues of the pages' languages (journal/translations), compiled for the app.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard journal/translations/*/LC_MESSAGES/messages.po))

%.mo: %.po $(BIN)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

install: $(BIN)/.installed $(CATALOGUES)

## After changing what a page says: extract the strings and update each catalogue
## (then translate what is new; tests/test_translations.py lists what is missing).
strings: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location --sort-output \
		--omit-header -o journal/translations/messages.pot .
	$(BIN)/pybabel update -i journal/translations/messages.pot -d journal/translations \
		--ignore-obsolete --no-fuzzy-matching

## Set up on first run (instance folder, keys, database, demo clinic) and serve the app.
run: install
	$(BIN)/flask --app journal init --demo
	@echo "Serving on http://$(HOST):$(PORT)/ with the worker that sends e-mail (Ctrl-C stops both)"
	@$(BIN)/flask --app journal worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --workers $(WORKERS) --worker-class journal.serving.SyncWorker --logger-class journal.serving.RedactingLogger --bind $(HOST):$(PORT) --access-logfile - 'journal:create_app()'

## Everything CI checks: lint, types, the whole suite on SQLite, then on PostgreSQL the
## tests that depend on the database (plus a smoke run of the rest); `JOBS` processes each.
## Installs or starts what the machine lacks first (.ci/system), and prints the time taken.
test: install
	@start=$$(date +%s); \
	bash .ci/system || exit 1; \
	ready=$$(date +%s); \
	$(MAKE) --no-print-directory checks; status=$$?; \
	end=$$(date +%s); \
	echo "make test: $$((end - ready)) s for lint, types and both passes ($$((ready - start)) s of system set-up before them)"; \
	exit $$status

checks: lint typecheck test-sqlite test-postgres

system:
	bash .ci/system

## The README's pictures, taken anew from the demo clinic into docs/screenshots.
screenshots: install
	bash .ci/system
	JOURNAL_SCREENSHOTS=docs/screenshots $(BIN)/pytest -m "" tests/browser/test_screenshots.py tests/test_export_preview.py

## The tests that replay the outside security review's findings (issue 15).
test-review: install
	$(BIN)/pytest -m security_review -n $(JOBS)

lint: install
	$(BIN)/ruff check journal tests migrations bench
	$(BIN)/ruff format --check journal tests migrations bench

typecheck: install
	$(BIN)/mypy

test-sqlite: install
	$(BIN)/pytest -n $(JOBS)

test-postgres: install
	JOURNAL_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(JOBS)

## Line coverage of journal/ over the SQLite pass, plus the code that runs only on
## PostgreSQL (its backup and restore), subprocesses included.
coverage: install
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest -p no:xdist
	JOURNAL_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/coverage run -m pytest -p no:xdist tests/test_postgres_backup.py
	$(BIN)/coverage combine -q
	$(BIN)/coverage report --precision=2 | tail -n 1

## The benchmark's short version (under two minutes); `python bench/run.py` runs the full one.
bench: install
	$(BIN)/python bench/run.py --quick
