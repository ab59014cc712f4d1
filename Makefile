# PPO Case: `make run` (demo server on http://127.0.0.1:8000) and `make test` (every check).
#
# Both start from a fresh clone on Debian/Ubuntu with Python 3.11+ and install what they
# need into the work tree (.venv, node_modules, frontend/build). Steps already done are
# skipped: the Python install re-runs only when the lock file (requirements/dev-lock.txt)
# or pyproject.toml changes, `npm ci` only when package.json or package-lock.json
# changes, the CSS only when a .scss file changes.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALL_STAMP := $(VENV)/.installed-from-lock
# Exact versions with hashes, compiled from pyproject.toml's bounds by `make lock`:
# the runtime (the Dockerfile) and the runtime with the dev extras (make run/test, CI).
LOCK := requirements/lock.txt
DEV_LOCK := requirements/dev-lock.txt
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	--strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --annotate
NODE_STAMP := node_modules/.installed-from-lockfile
CSS := frontend/build/app.css
SCSS := $(shell find frontend -name '*.scss' -not -path 'frontend/build/*' 2>/dev/null)
CHROMIUM := /usr/bin/chromium
HOST_PORT ?= 127.0.0.1:8000
PYTEST_ARGS ?=
# Test files spread over up to 4 processes (one per core; 2 on the CI machine), each with
# its own test database, live-server port and cache database; a file's tests stay
# together so a module's shared fixtures (the seeded demo) are built once. `-n 0` to debug.
PYTEST_XDIST ?= -n auto --maxprocesses 4 --dist loadfile

# `manage.py check --deploy` runs against the production settings, which read these
# from the environment. Dummy values for the check only: never used to sign anything.
DEPLOY_CHECK_ENV := DJANGO_SETTINGS_MODULE=ppo_case.settings.production \
	DJANGO_SECRET_KEY=8azwCR9VevMLeIclhzPMNifNpWcIeESWrE2jmG4py8YyBO9lVgJ5kZcLwB52 \
	DJANGO_ALLOWED_HOSTS=example.test

# Run apt-get as root directly, through sudo otherwise.
define apt_install
	if [ "$$(id -u)" = 0 ]; then as_root=(); \
	elif command -v sudo >/dev/null; then as_root=(sudo); \
	else echo "Install $(1) with apt-get as root, then run make again." >&2; exit 1; fi; \
	echo "Installing $(1) with apt-get..."; \
	"$${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
	"$${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1)
endef

.PHONY: help run test setup install lock node css chromium lint migrations-check deploy-check \
	pytest migrate seed clean

help:
	@echo "make run    install what is missing, migrate, load demo data, serve on http://$(HOST_PORT)"
	@echo "make test   install what is missing (and Debian's chromium), then ruff, the"
	@echo "            migrations check, check --deploy (production settings) and pytest"
	@echo "make lock   after changing pyproject.toml: recompile requirements/*.txt (exact"
	@echo "            versions and hashes, from PyPI; UPGRADE=1 for the newest of all)"
	@echo "helpers:    setup install node css chromium lint migrations-check deploy-check"
	@echo "            pytest migrate seed clean"

## The two headline targets

run: setup migrate seed
	$(PY) manage.py runserver $(HOST_PORT)

test: setup chromium lint migrations-check deploy-check pytest

## Set-up

setup: install css

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "PPO Case needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) -V 2>&1)." >&2; \
		  echo "Run e.g. 'make $(MAKECMDGOALS) PYTHON=python3.12'." >&2; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { \
		rm -rf $(VENV); \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			$(call apt_install,python3-venv); $(PYTHON) -m venv $(VENV); \
		else echo "Creating $(VENV) failed: install python3-venv (apt-get) and run make again." >&2; \
			exit 1; fi; }

# Every package from the lock, each checked against its hash; then the project itself,
# with nothing more. `pip check` fails if pyproject.toml asks for a package the lock lacks.
$(INSTALL_STAMP): $(DEV_LOCK) pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check --quiet --require-hashes -r $(DEV_LOCK)
	$(PY) -m pip install --disable-pip-version-check --quiet --no-deps -e .
	@$(PY) -m pip check --disable-pip-version-check >/dev/null || { \
		$(PY) -m pip check --disable-pip-version-check >&2; \
		echo "$(DEV_LOCK) does not have what pyproject.toml asks for: run 'make lock'." >&2; \
		exit 1; }
	@touch $@

install: $(INSTALL_STAMP)

# Resolves pyproject.toml's bounds against PyPI; commit the two files it writes. Pins
# already in the locks stay while the bounds allow them (`make lock UPGRADE=1`: the newest
# of everything). The dev lock is held to the runtime lock's versions.
lock: | $(PY)
	[ -x $(BIN)/pip-compile ] || $(PY) -m pip install --disable-pip-version-check --quiet \
		'pip-tools>=7.4,<8'
	@mkdir -p requirements
	$(PIP_COMPILE) $(if $(UPGRADE),--upgrade) -o $(LOCK) pyproject.toml
	$(PIP_COMPILE) $(if $(UPGRADE),--upgrade) --extra dev -c $(LOCK) -o $(DEV_LOCK) pyproject.toml

# npm comes from Debian's packages when it is missing and we are root.
.PHONY: npm
npm:
	@command -v npm >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then $(call apt_install,nodejs npm); \
		else echo "npm is missing: install Node.js and npm (sudo apt-get install nodejs npm)," \
			"then run make again." >&2; exit 1; fi; }

# Only when it is missing; otherwise the committed lock file is the truth (npm ci).
package-lock.json: | npm
	npm install --package-lock-only --no-audit --no-fund

$(NODE_STAMP): package.json package-lock.json | npm
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

node: $(NODE_STAMP)

$(CSS): $(SCSS) $(NODE_STAMP)
	npm run --silent build:css

css: $(CSS)

# Debian's chromium for the browser journeys, and poppler-utils (pdftotext) for the tests
# that read the text of the PDFs the app makes.
PDFTOTEXT := /usr/bin/pdftotext
chromium:
	@[ -x $(CHROMIUM) ] && [ -x $(PDFTOTEXT) ] || { $(call apt_install,chromium poppler-utils); }
	@[ -x $(CHROMIUM) ] || { echo "$(CHROMIUM) is still missing after installing chromium." >&2; exit 1; }
	@[ -x $(PDFTOTEXT) ] || { echo "$(PDFTOTEXT) is still missing after installing poppler-utils." >&2; exit 1; }

## Checks (each also works on its own after `make setup`)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

deploy-check: install
	$(DEPLOY_CHECK_ENV) $(PY) manage.py check --deploy --fail-level WARNING

pytest: setup chromium
	$(BIN)/pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

## Local database

migrate: install
	$(PY) manage.py migrate --noinput

seed: install
	$(PY) manage.py seed_demo

clean:
	rm -rf $(VENV) node_modules frontend/build staticfiles .pytest_cache .ruff_cache .mypy_cache
