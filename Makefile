# completion_aggregator — developer commands. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test
MYSQL_STAMP := $(VENV)/.installed-mysql
MYSQL_ENV := COMPLETION_AGGREGATOR_DB=mysql DB_HOST=$${DB_HOST:-127.0.0.1} DB_USER=$${DB_USER:-root}
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install demo test test-mysql test-integration bench requirements quality clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

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

demo: $(STAMP) ## migrate a SQLite database, load the demo course, serve on http://127.0.0.1:8000
	$(BIN)/python manage.py migrate -v 0
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(STAMP) ## run the test suite on SQLite
	$(BIN)/python -m pytest

test-mysql: $(MYSQL_STAMP) ## run the test suite on MariaDB/MySQL (127.0.0.1:3306, root, fresh test database)
	$(MYSQL_ENV) $(BIN)/python -m pytest --create-db

test-integration: $(MYSQL_STAMP) ## MariaDB + a real Celery worker over Redis (127.0.0.1:6379)
	$(MYSQL_ENV) DB_TEST_NAME=test_completion_aggregator_it CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \
	  REDIS_CACHE_URL=redis://127.0.0.1:6379/15 CELERY_VISIBILITY_TIMEOUT=5 \
	  $(BIN)/python -m pytest -m integration --create-db -p no:randomly tests/integration

bench: $(STAMP) ## run the benchmark (see benchmarks/README.rst)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

requirements: $(STAMP) ## recompile requirements/*.txt from requirements/*.in
	$(BIN)/python -m pip install -q pip-tools
	cd requirements && for f in base test mysql dev; do ../$(BIN)/pip-compile -q --no-emit-index-url --no-emit-find-links --strip-extras --allow-unsafe $$f.in -o $$f.txt; done

quality: $(STAMP) ## migrations in sync with the models, Django checks
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

clean: ## remove the virtualenv and local databases
	rm -rf $(VENV) db.sqlite3 .pytest_cache
