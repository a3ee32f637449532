VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup test lint typecheck unit demo stress bench bench-local clean

setup: $(STAMP)

$(STAMP): pyproject.toml handlers/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,infra]'
	touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

test: lint typecheck
	$(VENV)/bin/pytest -q

demo: setup
	$(VENV)/bin/filetrail demo

stress: setup
	$(VENV)/bin/pytest -q -m stress --run-stress

bench: setup bench-local
	$(PY) -m bench

# Local mode under load (1,000 uploads), beside local mode on moto as shipped (250).
bench-local: setup
	$(PY) -m bench.local

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build
