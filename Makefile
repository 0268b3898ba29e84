# Two commands on a fresh machine with only Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov (tests/integration/test_deploy_files.py) in a venv of its own inside .venv: it pins
# packaging<24, pytest needs packaging>=24, so the two cannot share the `test` extra.
CHECKOV := checkov==3.3.30
CHECKOV_STAMP := $(VENV)/checkov/.installed

.PHONY: demo up test lint types unit integration e2e browser chaos debian-packages bench asyncapi clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Only the tests need it (make demo does not).
$(CHECKOV_STAMP): $(STAMP)
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/python -m pip install --quiet "$(CHECKOV)"
	touch $(CHECKOV_STAMP)

demo: $(STAMP)
	$(BIN)/tournees demo

up: $(STAMP)
	$(BIN)/tournees up

test: lint types $(CHECKOV_STAMP) debian-packages
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

integration: $(CHECKOV_STAMP)
	$(BIN)/python -m pytest -q tests/integration

e2e: $(STAMP)
	$(BIN)/python -m pytest -q tests/e2e

# The coordinator page in a real browser: Debian's Chromium, installed where it is missing.
browser: $(STAMP) debian-packages
	$(BIN)/python -m pytest -q tests/browser

# The fault suite's full profile (a shorter one runs in `make test`): prints the table of docs/reliability.md.
chaos: $(STAMP) debian-packages
	$(BIN)/python -m tests.chaos --profile full

# Chromium for the browser tests, libfaketime for the fault suite's clock moves.
debian-packages:
	bash tests/install_debian_packages.sh chromium libfaketime

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	$(BIN)/python -m benchmarks

# The services' AsyncAPI documents, generated from the code (tests/unit/test_asyncapi.py checks they are current).
asyncapi: $(STAMP)
	$(BIN)/tournees asyncapi

clean:
	rm -rf $(VENV) .tournees .pytest_cache .mypy_cache .ruff_cache
