# luutru: `make demo` and `make test` are all a fresh Debian machine needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The suite waits on child processes, tesseract and fsync as much as it computes: two
# processes, each taking whole test files (a file's fixtures are made once), halve its time.
# `make test TEST_PROCESSES=` runs it in one.
TEST_PROCESSES ?= -n 2 --dist loadfile
LUUTRU := $(VENV)/bin/luutru
DEMO_HOME := demo-archive
DEMO_SCANS := demo-scans

.PHONY: demo test lint bench system-deps test-deps bench-deps clean

system-deps:
	@bash scripts/system-deps.sh

test-deps:
	@bash scripts/system-deps.sh --with-browser

bench-deps:
	@bash scripts/system-deps.sh --with-bench

$(VENV)/.installed: pyproject.toml | system-deps
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

demo: system-deps $(VENV)/.installed
	$(PY) -m ingest.sample_scans $(DEMO_SCANS)
	$(LUUTRU) --home $(DEMO_HOME) init
	$(LUUTRU) --home $(DEMO_HOME) ingest $(DEMO_SCANS) --access public --series CV --closed-year 2019 --workers 2
	$(LUUTRU) --home $(DEMO_HOME) search "chinh phu"
	$(LUUTRU) --home $(DEMO_HOME) verify
	@echo
	@echo "Start the read API and search page with:"
	@echo "  $(LUUTRU) --home $(DEMO_HOME) serve    # then open http://127.0.0.1:8000/"

test: test-deps $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest $(TEST_PROCESSES)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: system-deps bench-deps $(VENV)/.installed
	$(PY) -m bench.run

clean:
	rm -rf $(DEMO_HOME) $(DEMO_SCANS) bench/.work .pytest_cache .ruff_cache
