# Two commands do all set-up: `make run` and `make test`. Everything they need is here.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench install clean-db

$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# requirements.lock pins the whole tree; pyproject pins what we ask for directly.
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	# mediapipe 0.10.21 ships its models; --no-deps skips ~1 GB of unused jax/opencv-contrib.
	$(PY) -m pip install --quiet --no-deps "mediapipe==0.10.21"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@scripts/run_dev.sh $(HOST) $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) scripts/fetch_test_assets.py
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/run_all.py

clean-db:
	rm -f db.sqlite3 var/test.sqlite3
