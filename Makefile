# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: run test install install-test browser lint bench

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install: $(PY)
	$(PIP) install --quiet -e .

install-test: $(PY)
	$(PIP) install --quiet -e ".[test]"

# Installs the app, migrates and seeds the embedded SQLite database if empty, serves on
# http://127.0.0.1:8050 and prints the demo sign-ins.
run: install
	$(PY) -m dashboard run

# Debian's chromium and chromium-driver for the browser tests (dash[testing] has no driver
# manager). Installed when missing if we are root; otherwise says what to install.
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then \
		echo "chromium and chromedriver present"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium and chromium-driver from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
		echo "The browser tests need Chromium and its driver. Install them, e.g.:"; \
		echo "  sudo apt-get install chromium chromium-driver"; \
		exit 1; \
	fi

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Installs test dependencies and the browser, then runs the whole suite (browser tests
# included) against SQLite, or against DATABASE_URL when it points at PostgreSQL.
test: install-test browser lint
	$(PY) -m pytest

bench: install
	$(PY) -m bench.run
