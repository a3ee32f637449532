VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# The demo needs only the runtime dependencies (boto3, moto, rich, filetype), not the
# dev and Pulumi extras: a first `make demo` installs those alone.
RUNTIME_STAMP := $(VENV)/.runtime-stamp

.PHONY: setup test lint typecheck unit demo demo-ui screenshots stress bench bench-local bench-notify bench-cli mutation clean

setup: $(STAMP)

$(STAMP): pyproject.toml handlers/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,infra]'
	touch $(STAMP) $(RUNTIME_STAMP)

$(RUNTIME_STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

test: lint typecheck
	$(VENV)/bin/pytest -q

demo: $(RUNTIME_STAMP)
	$(VENV)/bin/filetrail demo

# The demo, then the dashboard on its files (http://127.0.0.1:8765/) until Ctrl-C.
demo-ui: $(RUNTIME_STAMP)
	$(VENV)/bin/filetrail demo --ui

# docs/img/*.png for the README, taken in Debian's Chromium (/usr/bin/chromium).
screenshots: setup
	$(PY) scripts/screenshots.py

stress: setup
	$(VENV)/bin/pytest -q -m stress --run-stress

bench: setup bench-local bench-notify bench-cli
	$(PY) -m bench

# Mutation testing of the core (docs/mutation.md); not part of `make test`. Narrow it with
# MUTANTS='handlers.store.*' (a mutant-name glob); rerun to resume where it stopped.
MUTANTS ?=
MUTATION_JOBS ?= 2
mutation: setup
	$(PY) -m pip install --quiet -e '.[mutation]'
	$(VENV)/bin/mutmut run --max-children $(MUTATION_JOBS) $(MUTANTS)
	$(VENV)/bin/mutmut results

# Local mode under load (1,000 uploads), beside local mode on moto as shipped (250).
bench-local: setup
	$(PY) -m bench.local

# The CLI's start-up beside a bare interpreter and a bare boto3 client.
bench-cli: setup
	$(PY) -m bench.cli_startup

# Outcome-to-consumer latency of file-event notifications, beside polling the index.
bench-notify: setup
	$(PY) -m bench.notify_latency

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build mutants
