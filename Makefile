# tuna-lsp: one entry point for set-up, demo, tests and benchmarks. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TUNACODE_VENV := .cache/tunacode-venv
TUNACODE_VERSION := 0.2.3
PYTEST_FLAGS ?= -q
export TUNACODE_VENV := $(abspath $(TUNACODE_VENV))

.DEFAULT_GOAL := help
.PHONY: help venv tunacode-venv demo test test-python test-nvim test-vscode lint bench reliability figures package clean

help: ## list the targets
	@grep -hE '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/tuna-lsp: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/tuna-lsp ## create .venv with the server (editable) and the test tools

$(TUNACODE_VENV)/.installed:
	rm -rf $(TUNACODE_VENV)
	$(PYTHON) -m venv $(TUNACODE_VENV)
	$(TUNACODE_VENV)/bin/python -m pip install -q --upgrade pip
	$(TUNACODE_VENV)/bin/python -m pip install -q tunacode-cli==$(TUNACODE_VERSION)
	touch $@

tunacode-venv: $(TUNACODE_VENV)/.installed ## the real tunacode CLI in its own venv (interop tests)

demo: venv ## a real LSP client picks a model in an isolated home; shows the notification and the file
	$(BIN)/python examples/demo.py

test: venv tunacode-venv lint test-python test-vscode ## install what the tests need, run every suite
	@echo "all suites passed"

test-python: venv tunacode-venv ## server, CLI interop, Neovim and short reliability suites (pytest)
	$(BIN)/pytest $(PYTEST_FLAGS)

test-nvim: venv ## the Neovim end-to-end tests only
	$(BIN)/pytest $(PYTEST_FLAGS) tests/test_nvim.py

test-vscode: venv tunacode-venv ## build, lint, unit-test and e2e-test the VS Code extension in a real code-server
	bash vscode-extension/scripts/test.sh

lint: venv ## ruff (lint + format check) and mypy on the server
	$(BIN)/ruff check server tests benchmarks
	$(BIN)/ruff format --check server tests benchmarks
	$(BIN)/mypy

bench: venv ## speed and memory figures against baselines run alongside (BENCH_FLAGS="--runs 3": the spread)
	$(BIN)/python benchmarks/bench_core.py $(BENCH_FLAGS)

reliability: venv tunacode-venv ## the long crash, concurrency, fuzz, permission and secret suites
	TUNA_RELIABILITY=full $(BIN)/pytest $(PYTEST_FLAGS) tests/reliability
	$(BIN)/python tests/reliability/report.py

figures: venv ## run the benchmark and put its table and the latest reliability figures in README.md
	$(BIN)/python benchmarks/bench_core.py $(BENCH_FLAGS) --readme README.md
	$(BIN)/python tests/reliability/report.py --readme README.md

package: ## the VS Code extension as a .vsix
	npm ci && npm run package

clean: ## remove the venvs, caches and build output
	rm -rf $(VENV) .cache node_modules vscode-extension/node_modules vscode-extension/dist
