# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint format typecheck unit system-packages bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-packages:
	bash scripts/ensure-system-packages.sh chromium

## Set up and run the product on the embedded defaults (SQLite file + embedded Graph emulator).
demo: $(STAMP)
	$(BIN)/calsync demo

## Set up and run the whole test suite (lint, types, tests on SQLite and PostgreSQL).
test: $(STAMP) system-packages check unit

check: lint typecheck

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Browser tests run in their own pytest process: Playwright's sync API drives an event loop in the
# main thread, which must not meet the asyncio tests of the rest of the suite.
unit: $(STAMP)
	$(BIN)/pytest --ignore=tests/browser
	$(BIN)/pytest tests/browser

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
