# completion_aggregator — developer commands. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test
MYSQL_STAMP := $(VENV)/.installed-mysql
PG_STAMP := $(VENV)/.installed-postgresql
QUALITY_STAMP := $(VENV)/.installed-quality
# Branch coverage of completion_aggregator the whole suite must keep (92.36 % on 2026-11-25, rounded down).
COVERAGE_FLOOR := 92
MYSQL_ENV := COMPLETION_AGGREGATOR_DB=mysql DB_HOST=$${DB_HOST:-127.0.0.1} DB_USER=$${DB_USER:-root}
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install demo test test-platform test-mysql test-concurrency test-postgresql test-integration test-browser test-fuzz bench bench-freshness bench-parallel requirements quality docs coverage upgrade clean

help: ## list the targets
	@grep -E '^[a-z][a-z0-9_-]*:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 20

$(STAMP): requirements/test.txt requirements/base.txt setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements/test.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

install: $(STAMP) ## create .venv and install the app with its test requirements

$(MYSQL_STAMP): $(STAMP) requirements/mysql.txt
	$(BIN)/python -m pip install -q -r requirements/mysql.txt
	touch $@

demo: $(STAMP) ## migrate a SQLite database, load the demo course, serve on http://$(HOST):$(PORT) (make demo PORT=8001)
	$(BIN)/python manage.py migrate -v 0
	$(BIN)/python manage.py load_demo --url http://$(HOST):$(PORT)
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# `make test` runs every step even when one fails, then reports each step and the time it took
# (exit status 1 if any failed). PYTEST and COVERAGE may be overridden (tests/docs/test_makefile.py).
PYTEST ?= $(BIN)/python -m pytest
COVERAGE ?= $(BIN)/coverage
test: $(STAMP) ## the test suite on SQLite (tests/ and, against the fake edx-platform, tests_platform/), with branch coverage; every step runs, failures are reported at the end
	@start=$$(date +%s); failed=""; \
	echo "== make test: tests/ (SQLite)"; \
	$(PYTEST) --cov=completion_aggregator --cov-branch --cov-report= --cov-fail-under=0 || failed="$$failed tests/"; \
	echo "== make test: tests_platform/ (the fake edx-platform)"; \
	$(PYTEST) --ds=devsite.settings_platform tests_platform \
	  --cov=completion_aggregator --cov-branch --cov-append --cov-report= --cov-fail-under=0 || failed="$$failed tests_platform/"; \
	echo "== make test: branch coverage (floor $(COVERAGE_FLOOR) %)"; \
	$(COVERAGE) report --precision=2 --skip-covered --fail-under=$(COVERAGE_FLOOR) || failed="$$failed coverage"; \
	took=$$(( $$(date +%s) - start )); \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed (took $${took} s)"; exit 1; fi; \
	echo "make test: passed: tests/ tests_platform/ coverage (took $${took} s)"

test-platform: $(STAMP) ## the edx-platform adapter, plugin wiring and receivers, against the fake platform
	$(BIN)/python -m pytest --ds=devsite.settings_platform tests_platform

test-mysql: $(MYSQL_STAMP) ## run the test suite on MariaDB/MySQL (127.0.0.1:3306, root, fresh test database)
	$(MYSQL_ENV) $(BIN)/python -m pytest --create-db

test-concurrency: $(MYSQL_STAMP) ## the MariaDB concurrency tests (marked mysql), three runs in a row (a fresh test database, then reused)
	for run in 1 2 3; do \
	  echo "concurrency tests, run $$run of 3"; \
	  db=--reuse-db; [ $$run = 1 ] && db=--create-db; \
	  $(MYSQL_ENV) DB_TEST_NAME=$${DB_TEST_NAME:-test_completion_aggregator_concurrency} \
	    $(BIN)/python -m pytest -m mysql $$db -q tests/api || exit 1; \
	done

$(PG_STAMP): $(STAMP) requirements/postgresql.txt
	$(BIN)/python -m pip install -q -r requirements/postgresql.txt
	touch $@

test-postgresql: $(PG_STAMP) ## run the test suite on PostgreSQL (127.0.0.1:5432, user postgres, fresh test database)
	COMPLETION_AGGREGATOR_DB=postgresql DB_HOST=$${DB_HOST:-127.0.0.1} DB_USER=$${DB_USER:-postgres} \
	  $(BIN)/python -m pytest --create-db

test-integration: $(MYSQL_STAMP) ## MariaDB + a real Celery worker over Redis (127.0.0.1:6379)
	$(MYSQL_ENV) DB_TEST_NAME=test_completion_aggregator_it CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \
	  REDIS_CACHE_URL=redis://127.0.0.1:6379/15 CELERY_VISIBILITY_TIMEOUT=5 \
	  $(BIN)/python -m pytest -m integration --create-db -p no:randomly tests/integration tests/bench

test-browser: $(STAMP) ## headless Chromium against a live server (apt-get install chromium chromium-driver); screenshots under pytest's tmp folders (paths printed with -s)
	$(BIN)/python -m pytest -m browser tests/browser

FUZZ_EXAMPLES ?= 2000
test-fuzz: $(STAMP) ## property-based fuzzing of every endpoint's path and query parameters (FUZZ_EXAMPLES, default 2000; bounded to 10 minutes)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) timeout 600 $(BIN)/python -m pytest -m fuzz -p no:randomly -s tests/rest_api/test_fuzz_endpoints.py

bench: $(STAMP) ## run the benchmark (see benchmarks/README.rst)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

bench-freshness: $(MYSQL_STAMP) ## lag from a completion's commit to its stored course row at 50, 200, 500/s (MariaDB, Redis db 4-5, a real worker; FRESHNESS_ARGS, see benchmarks/README.rst)
	$(MYSQL_ENV) $(BIN)/python benchmarks/freshness.py $(FRESHNESS_ARGS)

bench-parallel: $(MYSQL_STAMP) ## backfill one course with 1 and 2 worker processes on MariaDB, as a ratio (PARALLEL_ARGS, see benchmarks/README.rst)
	$(MYSQL_ENV) $(BIN)/python benchmarks/parallel.py $(PARALLEL_ARGS)

requirements: $(STAMP) ## recompile requirements/*.txt from requirements/*.in
	$(BIN)/python -m pip install -q pip-tools
	cd requirements && for f in base test mysql postgresql xapi dev; do ../$(BIN)/pip-compile -q --no-emit-index-url --no-emit-find-links --strip-extras --allow-unsafe $$f.in -o $$f.txt; done

$(QUALITY_STAMP): $(STAMP) requirements/quality.txt
	$(BIN)/python -m pip install -q -r requirements/quality.txt
	touch $@

quality: $(QUALITY_STAMP) ## lint (ruff), import contracts (lint-imports: layers, no cycles; ADR 0023), types (mypy), Django checks, migrations in sync, packaging (twine check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check docs tests/docs
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy completion_aggregator
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(BIN)/python -m build --outdir "$$tmp" >"$$tmp/build.log" 2>&1 || { cat "$$tmp/build.log"; exit 1; }; \
	  $(BIN)/twine check --strict "$$tmp"/*.tar.gz "$$tmp"/*.whl

docs: $(QUALITY_STAMP) ## build the documentation into docs/_build/html (warnings are errors)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

coverage: test ## same as test: the suite reports branch coverage and fails under COVERAGE_FLOOR

upgrade: requirements ## same as requirements, plus requirements/quality.txt
	cd requirements && ../$(BIN)/pip-compile -q --no-emit-index-url --no-emit-find-links --strip-extras --allow-unsafe quality.in -o quality.txt

clean: ## remove the virtualenv and local databases
	rm -rf $(VENV) db.sqlite3 .pytest_cache
