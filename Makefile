# `make run` and `make test` work on a fresh machine with only Python 3.11+:
# both create .venv and install the project into it when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_AS ?= sam.okafor@example.com

.PHONY: run test lint warm bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mentorbot needs Python 3.11 or newer; set PYTHON=python3.12 (or similar) and try again")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/mentorbot demo
	$(BIN)/mentorbot shell --as $(DEMO_AS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Python's bytecode caches on, even where PYTHONDONTWRITEBYTECODE is set: without them
# every pytest worker compiles, and rewrites the asserts of, every module again.
TESTENV := env -u PYTHONDONTWRITEBYTECODE

# One pytest worker per core, at most 4 (each holds PostgreSQL connections). Tests take
# from milliseconds to seconds, so an idle worker steals from a busy one's queue
# (worksteal) instead of waiting at the end behind a slow chunk (load) or file (loadfile).
# While lint runs on one core, `warm` fills the caches on the other (a first collection),
# so the workers start from them.
test: $(STAMP)
	@$(MAKE) --no-print-directory -j2 lint warm
	$(TESTENV) $(BIN)/pytest -n auto --maxprocesses 4 --dist worksteal

warm: $(STAMP)
	@$(TESTENV) $(BIN)/pytest --collect-only -q -p no:cacheprovider >/dev/null 2>&1 || true

bench: $(STAMP)
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/slack_events.py
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/match_round.py
	$(BIN)/python bench/scheduler.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/delivery.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
