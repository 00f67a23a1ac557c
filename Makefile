# Puente Laboral: `make run` serves the platform with its worker; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: run setup test test-sqlite test-postgresql test-e2e lint translations db demo clean fuzz-api

run: setup db demo
	$(PY) -m app.devserver

setup: $(STAMP) translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

translations: $(STAMP)
	$(VENV)/bin/pybabel compile -f -d app/translations

db: setup
	$(FLASK) db upgrade

demo: db
	$(FLASK) seed-demo

test: setup
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgresql

# SQLite run: unit, integration and browser (Playwright + Debian's Chromium + axe-core).
test-sqlite:
	$(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

# PostgreSQL run: the same suite but the browser tests, on a database made for the run.
test-postgresql:
	TEST_DATABASE=postgresql $(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider -m "not e2e"

test-e2e: setup
	$(PY) -m pytest -p no:cacheprovider tests/e2e

# The API's property-based pass at length (the suite runs it with 4 examples per operation):
# every operation, anonymous and with a staff token, on SQLite then PostgreSQL.
FUZZ_EXAMPLES ?= 200
fuzz-api: setup
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_COVERAGE=1 $(PY) -m pytest -p no:cacheprovider -q tests/api/test_fuzz.py
	TEST_DATABASE=postgresql FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_COVERAGE=1 $(PY) -m pytest -p no:cacheprovider -q \
		tests/api/test_fuzz.py

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache
