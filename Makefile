# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: run test install install-test browser redis lint bench

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

# Redis for the tests of the job queue (a Celery worker on its own database). Started when it
# is installed but down; installed from Debian's packages when missing if we are root.
redis:
	@if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then \
		echo "redis answers on 127.0.0.1:6379"; \
	else \
		if ! command -v redis-server >/dev/null 2>&1; then \
			if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
				echo "installing redis-server from Debian's packages"; \
				apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
			else \
				echo "The job-queue tests need Redis on 127.0.0.1:6379, e.g.: sudo apt-get install redis-server"; \
				exit 1; \
			fi; \
		fi; \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null; \
		for i in 1 2 3 4 5 6 7 8 9 10; do redis-cli ping >/dev/null 2>&1 && break; sleep 0.5; done; \
		redis-cli ping >/dev/null && echo "redis started on 127.0.0.1:6379"; \
	fi

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Installs test dependencies, the browser and Redis, then runs the whole suite (browser tests
# included) against SQLite, or against DATABASE_URL when it points at PostgreSQL; with
# REDIS_URL set, against a Celery worker (.ci/run's third pass starts one).
test: install-test browser redis lint
	$(PY) -m pytest

bench: install
	$(PY) -m bench.run
