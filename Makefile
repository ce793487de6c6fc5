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
# The stamp makes `make install` a no-op until the lock (or pyproject.toml) changes.
STAMP  := $(VENV)/.installed
# The whole dependency set that was tested, pinned with hashes (`make lock` refreshes it),
# and its runtime part (same pins, no dev tools) that the Docker image installs.
LOCK   := requirements.lock
RUNTIME_LOCK := requirements-runtime.lock
# uv only resolves the lock; it is installed, pinned, for `make lock` alone.
UV_VERSION := 0.13.8

DEV := DJANGO_SETTINGS_MODULE=smartplus.settings.dev

.PHONY: help install lock demo services test bench lint assets messages clean distclean

help:
	@echo "make install   create .venv and install the locked set (requirements.lock)"
	@echo "make lock      re-resolve requirements.lock after a pyproject.toml change (UPGRADE=1: newest)"
	@echo "make demo      migrate + seed the SQLite demo, then run web, worker and beat"
	@echo "make services  install/start PostgreSQL, Redis and Chromium (Debian, root)"
	@echo "make test      checks, ruff, import layers and pytest against PostgreSQL and Redis"
	@echo "make bench     run the benchmarks against PostgreSQL and Redis"
	@echo "make lint      ruff check"
	@echo "make assets    refresh static/vendor/ from npm"
	@echo "make messages  update every language's catalogue (locale/) from the code, then compile them"
	@echo "make clean     remove var/, caches and test output (keeps .venv)"

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

# Exactly the locked versions, every file checked against its hash; then the project
# itself, editable, without letting pip resolve anything else.
$(STAMP): $(LOCK) pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --require-hashes -r $(LOCK)
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

# Run after changing dependencies in pyproject.toml: keeps every pin it can and resolves
# only what changed.  `make lock UPGRADE=1` takes the newest versions the ranges allow.
# Commit the lock only with `make test` green on it.
LOCK_TARGET := --generate-hashes --python-version 3.11 --python-platform linux
lock: | $(PY)
	$(PY) -m pip install -q "uv==$(UV_VERSION)"
	$(VENV)/bin/uv pip compile -q pyproject.toml --extra dev $(LOCK_TARGET) \
		$(if $(UPGRADE),--upgrade) -o $(LOCK)
	$(VENV)/bin/uv pip compile -q pyproject.toml $(LOCK_TARGET) -c $(LOCK) -o $(RUNTIME_LOCK)

# --- Demo: SQLite + kombu filesystem broker under var/, no servers needed ---
demo: install
	mkdir -p "$${SMARTPLUS_DATA_DIR:-var}/broker/queue" "$${SMARTPLUS_DATA_DIR:-var}/broker/processed"
	$(DEV) $(PY) manage.py migrate --noinput
	$(DEV) $(PY) manage.py seed_demo
	$(DEV) $(PY) manage.py rundemo $(DEMO_ARGS)

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

# UI catalogues (docs/languages.md): every language of settings.LANGUAGES but English, the same
# ignores as tests/i18n/test_catalogues.py; then the .mo files. Needs GNU gettext (msgfmt).
MESSAGES_IGNORE := .venv/* node_modules/* tests/* benchmarks/* demo/* var/*
messages: install
	$(DEV) $(PY) manage.py makemessages --no-obsolete \
		$$($(DEV) $(PY) -c "import django; django.setup(); from django.conf import settings; \
		from django.utils.translation import to_locale; \
		print(' '.join('-l ' + to_locale(c) for c, _ in settings.LANGUAGES if c != 'en'))") \
		$(foreach pattern,$(MESSAGES_IGNORE),-i "$(pattern)")
	$(DEV) $(PY) manage.py compilemessages $(foreach pattern,$(MESSAGES_IGNORE),-i "$(pattern)")

clean:
	rm -rf var/ test-results/ .pytest_cache/ .ruff_cache/ staticfiles/
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
