# SmartPlus portal: developer entry points.  `make help` lists them.
#
# Everything runs through the project's own virtualenv (.venv) so a fresh clone
# needs nothing but python3 (3.11), make and, for `services`, apt (Debian 12).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
RUFF   := $(VENV)/bin/ruff
PYTEST := $(VENV)/bin/pytest
# The stamp makes `make install` a no-op until pyproject.toml changes.
STAMP  := $(VENV)/.installed

DEV := DJANGO_SETTINGS_MODULE=smartplus.settings.dev

.PHONY: help install demo services test bench lint assets clean distclean

help:
	@echo "make install   create .venv and install the project with dev extras"
	@echo "make demo      migrate + seed the SQLite demo, then run web, worker and beat"
	@echo "make services  install/start PostgreSQL, Redis and Chromium (Debian, root)"
	@echo "make test      checks, ruff, import layers and pytest against PostgreSQL and Redis"
	@echo "make bench     run the benchmarks against PostgreSQL and Redis"
	@echo "make lint      ruff check"
	@echo "make assets    refresh static/vendor/ from npm"
	@echo "make clean     remove var/, caches and test output (keeps .venv)"

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $@

# --- Demo: SQLite + kombu filesystem broker under var/, no servers needed ---
demo: install
	mkdir -p "$${SMARTPLUS_DATA_DIR:-var}/broker/queue" "$${SMARTPLUS_DATA_DIR:-var}/broker/processed"
	$(DEV) $(PY) manage.py migrate --noinput
	$(DEV) $(PY) manage.py seed_demo
	$(DEV) $(PY) manage.py rundemo

services:
	bash scripts/ensure-services.sh

# --- Test and bench run against the real PostgreSQL and Redis (settings.test) ---
test bench: export DJANGO_SETTINGS_MODULE := smartplus.settings.test

test: install services
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(RUFF) check .
	$(RUFF) format --check .
	$(VENV)/bin/lint-imports
	$(PYTEST)

bench: install services
	$(PY) -m benchmarks

lint: install
	$(RUFF) check .
	$(RUFF) format --check .

assets:
	bash scripts/vendor-assets.sh

clean:
	rm -rf var/ test-results/ .pytest_cache/ .ruff_cache/ staticfiles/
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
