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
.PHONY: help venv tunacode-venv tmux demo test test-python test-nvim test-vscode wheel test-wheel lint bench reliability mutation figures package clean

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

# The running-CLI tests run the real tunacode TUI in a terminal: Debian's tmux (root or sudo only
# when it is missing).
tmux: ## Debian's tmux, the terminal the running-CLI tests start tunacode in
	@command -v tmux >/dev/null || { \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "installing Debian's tmux"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends tmux; }
	@command -v tmux >/dev/null || { echo "tmux is still missing" >&2; exit 1; }

demo: venv ## a real LSP client picks a model in an isolated home; shows the notification and the file
	$(BIN)/python examples/demo.py

test: venv tunacode-venv lint test-python test-wheel test-vscode ## install what the tests need, run every suite
	@echo "all suites passed"

test-python: venv tunacode-venv tmux ## server, CLI interop, Neovim and short reliability suites (pytest)
	$(BIN)/pytest $(PYTEST_FLAGS)

test-nvim: venv ## the Neovim end-to-end tests only
	$(BIN)/pytest $(PYTEST_FLAGS) tests/test_nvim.py

wheel: venv ## the server as a wheel and an sdist in dist/ (python -m build), checked with twine
	rm -rf dist
	mkdir -p .cache
	$(BIN)/python -m build --outdir dist . > .cache/build.log 2>&1 || (cat .cache/build.log; exit 1)
	$(BIN)/twine check --strict dist/*

WHEEL_VENV := .cache/wheel-venv
test-wheel: wheel tunacode-venv ## install the wheel in a fresh venv and run the core e2e tests against it
	rm -rf $(WHEEL_VENV)
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install -q dist/*.whl
	test "$$($(WHEEL_VENV)/bin/tuna-lsp --version)" = "tuna-lsp $$($(BIN)/python -c 'import tuna_lsp; print(tuna_lsp.__version__)')"
	TUNA_LSP_SERVER=$(abspath $(WHEEL_VENV))/bin/tuna-lsp $(BIN)/pytest $(PYTEST_FLAGS) tests/test_requests.py tests/test_tunacode_interop.py tests/test_workspace.py

test-vscode: venv tunacode-venv ## build, lint, unit-test and e2e-test the VS Code extension in a real code-server
	bash vscode-extension/scripts/test.sh

lint: venv ## ruff (lint + format check) and mypy on the server; the CI workflows (schema, zizmor)
	$(BIN)/ruff check server tests benchmarks
	$(BIN)/ruff format --check server tests benchmarks
	$(BIN)/mypy
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --quiet .github/workflows

bench: venv tunacode-venv ## speed and memory figures against baselines run alongside (BENCH_FLAGS="--runs 3": the spread)
	$(BIN)/python benchmarks/bench_core.py $(BENCH_FLAGS)
	$(BIN)/python benchmarks/bench_guard.py
	$(BIN)/python benchmarks/bench_usage.py

reliability: venv tunacode-venv ## the long crash, concurrency, fuzz, permission and secret suites
	TUNA_RELIABILITY=full $(BIN)/pytest $(PYTEST_FLAGS) tests/reliability
	$(BIN)/python tests/reliability/report.py

MUTATION_DIR := .cache/mutation
MUTATION_TARGET ?= 85
# mutmut maps only ./ and src/ back to import names: run it in a copy with the package under src/.
mutation: venv ## share of mutants of core/, storage/, text/ killed by tests/unit (minutes; not in make test)
	rm -rf $(MUTATION_DIR)
	mkdir -p $(MUTATION_DIR)/src $(MUTATION_DIR)/tests
	cp -r server/tuna_lsp $(MUTATION_DIR)/src/
	cp -r tests/unit $(MUTATION_DIR)/tests/
	cp pyproject.toml $(MUTATION_DIR)/
	find $(MUTATION_DIR) -name __pycache__ -prune -exec rm -rf {} +
	cd $(MUTATION_DIR) && $(abspath $(BIN))/mutmut run > mutmut-run.log 2>&1 || \
	  { tail -c 3000 mutmut-run.log; exit 1; }
	cd $(MUTATION_DIR) && $(abspath $(BIN))/python tests/unit/mutation_score.py \
	  --target $(MUTATION_TARGET)

figures: venv ## run the benchmark and put its table and the latest reliability figures in README.md
	$(BIN)/python benchmarks/bench_core.py $(BENCH_FLAGS) --readme README.md
	$(BIN)/python tests/reliability/report.py --readme README.md

package: ## the VS Code extension as a .vsix carrying the server (VSCODE_TARGET=linux-x64; needs Python 3.11+)
	npm ci && PYTHON=$(PYTHON) npm run package

clean: ## remove the venvs, caches and build output
	rm -rf $(VENV) .cache node_modules vscode-extension/node_modules vscode-extension/dist vscode-extension/bundled/libs
