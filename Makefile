# ansinh — two commands on a fresh machine:
#   make run    set up, migrate the embedded SQLite database, load the demo, serve on 127.0.0.1:8000
#   make test   install test dependencies, then ruff, mypy, the migrations check and the whole pytest suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# One pytest worker per core; a test file stays on one worker (its module fixtures are built once).
# `make test PYTEST_ARGS="-n 0 tests/registry"` runs a part in one process.
PYTEST_ARGS ?= -n auto --dist loadfile --durations=25
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test setup install install-test browser lint fmt migrate demo static serve messages bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(PIP) install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

setup: install static migrate demo

migrate: install
	$(PY) manage.py migrate --noinput

demo: install
	$(PY) manage.py load_demo

# Static files with hashed names and gzip copies, served by WhiteNoise (DEBUG or not), cached for good.
static: install
	$(PY) manage.py collectstatic --noinput --verbosity 0

# The web server and the background worker (imports of big files) run together.
serve: install static
	@echo "ansinh: http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	@DEBUG=$${DEBUG-1} $(PY) manage.py db_worker --no-reload --interval 1 & WORKER=$$!; \
	trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	DEBUG=$${DEBUG-1} $(PY) manage.py runserver --noreload $(HOST):$(PORT)

run: setup serve

browser:
	@bash scripts/ensure-chromium.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

messages: install
	cd ansinh && ../$(PY) ../manage.py makemessages -l vi --no-obsolete --ignore "../.venv/*"
	cd ansinh && ../$(PY) ../manage.py compilemessages -l vi

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
