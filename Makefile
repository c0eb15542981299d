# mir: make help lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
MIR := $(VENV)/bin/mir
DEMO_OUT ?= out/demo
DEMO_DB ?= $(DEMO_OUT)/mir.duckdb

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

# The tested versions of every package (pip constraints): a newer DuckDB once changed the
# load's memory enough to fail the XL benchmark, with nothing in the code changed.
CONSTRAINTS := .ci/constraints.txt

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	@touch $@

DEBIAN_PACKAGES := poppler-utils libharfbuzz-subset0

system-deps: ## Install the Debian packages mir and its tests need (poppler-utils, libharfbuzz-subset0) when missing
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

setup: $(VENV)/.installed system-deps ## Create .venv and install mir with its dev tools

test: setup ## Run the test suite (what CI runs), on every core
	$(PY) -m pytest -q -n auto

lint: setup ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check reports tests
	$(VENV)/bin/ruff format --check reports tests
	$(VENV)/bin/mypy reports

format: setup ## Format the code with ruff
	$(VENV)/bin/ruff format reports tests
	$(VENV)/bin/ruff check --fix reports tests

demo: setup ## Load samples/ and run the daily job on the latest day; prints where the outputs are
	$(PY) -m reports.demo --samples samples --out $(DEMO_OUT) --db $(DEMO_DB)

BENCH_SIZES ?= S,M,L
BENCH_REPEAT ?= 3

bench: setup ## Benchmark S, M, L (BENCH_SIZES=S,M,L,XL; BENCH_REPEAT=3 runs of day 2); results in tests/benchmarks/results/
	$(PY) -m tests.benchmarks.run --sizes $(BENCH_SIZES) --repeat $(BENCH_REPEAT)

constraints: setup ## Write the installed versions to .ci/constraints.txt (after an upgrade passed test and bench)
	@{ sed -n '/^#/p' $(CONSTRAINTS); $(PY) -m pip freeze --exclude-editable; } > $(CONSTRAINTS).new
	@# replaced only when it changed: a newer file would make the next make reinstall everything
	@if cmp -s $(CONSTRAINTS).new $(CONSTRAINTS); then rm $(CONSTRAINTS).new; \
	else mv $(CONSTRAINTS).new $(CONSTRAINTS); touch $(VENV)/.installed; fi

clean: ## Remove the venv, caches and demo outputs (out/demo)
	rm -rf $(VENV) out/demo .pytest_cache .mypy_cache .ruff_cache .hypothesis

.PHONY: help setup system-deps test lint format demo bench constraints clean
