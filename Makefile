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
.PHONY: help venv tunacode-venv tmux node-modules luacheck demo test test-python test-nvim test-vscode wheel test-wheel lint bench reliability mutation figures package package-all release clean

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

# `make lint` checks the Neovim plugin's Lua with Debian's luacheck (root or sudo only when it is missing).
luacheck: ## Debian's lua-check (luacheck), the linter of the Neovim plugin's Lua
	@command -v luacheck >/dev/null || { \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "installing Debian's lua-check"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends lua-check; }
	@command -v luacheck >/dev/null || { echo "luacheck is still missing" >&2; exit 1; }

demo: venv ## a real LSP client picks a model in an isolated home; shows the notification and the file
	$(BIN)/python examples/demo.py

test: venv tunacode-venv lint package-all test-python test-wheel test-vscode ## install what the tests need, build every platform's .vsix (checked), run every suite
	@echo "all suites passed"

test-python: venv tunacode-venv tmux ## server, CLI interop, Neovim and short reliability suites (pytest)
	$(BIN)/pytest $(PYTEST_FLAGS)

test-nvim: venv ## the Neovim end-to-end tests only
	$(BIN)/pytest $(PYTEST_FLAGS) tests/e2e/test_nvim.py

wheel: venv ## the server as a wheel and an sdist in dist/ (python -m build), checked with twine
	rm -rf dist
	mkdir -p .cache
	$(BIN)/python -m build --outdir dist . > .cache/build.log 2>&1 || (cat .cache/build.log; exit 1)
	$(BIN)/twine check --strict dist/*

WHEEL_VENV := .cache/wheel-venv
# The server's suites on every Python it supports: this machine's 3.11 ($(PYTHON)), and 3.12 and 3.13
# from pyenv (or python3.12 / python3.13 on PATH). A version that cannot be found fails the run.
SERVER_PYTHONS ?= 3.12 3.13
WHEEL_SUITES := tests/e2e/test_requests.py tests/e2e/test_tunacode_interop.py tests/e2e/test_workspace.py \
  tests/e2e/test_watch_fallback.py
test-wheel: wheel tunacode-venv ## the wheel in a fresh venv per Python (3.11, 3.12, 3.13): the request, CLI, workspace and watch suites
	@set -e; for version in default $(SERVER_PYTHONS); do \
	  if [ "$$version" = default ]; then python="$(PYTHON)"; else \
	    python="$$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/$$version.*/bin/python$$version 2>/dev/null | sort -V | tail -1)"; \
	    [ -n "$$python" ] || python="$$(command -v python$$version || true)"; \
	    "$$python" -c 'import sys; sys.exit(0)' 2>/dev/null || { \
	      echo "test-wheel: no Python $$version found (pyenv's versions/$$version.* or python$$version on PATH);" \
	        "install it (pyenv install $$version), or run with SERVER_PYTHONS= to leave it out" >&2; exit 1; }; \
	  fi; \
	  venv="$(WHEEL_VENV)-$$("$$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"; \
	  echo "test-wheel: $$("$$python" --version) in $$venv"; \
	  rm -rf "$$venv"; \
	  "$$python" -m venv "$$venv"; \
	  "$$venv/bin/python" -m pip install -q --disable-pip-version-check dist/*.whl; \
	  test "$$("$$venv/bin/tuna-lsp" --version)" = "tuna-lsp $$($(BIN)/python -c 'import tuna_lsp; print(tuna_lsp.__version__)')"; \
	  TUNA_LSP_SERVER="$$(cd "$$venv" && pwd)/bin/tuna-lsp" $(BIN)/pytest $(PYTEST_FLAGS) $(WHEEL_SUITES); \
	done

test-vscode: venv tunacode-venv ## build, lint, unit-test and e2e-test the VS Code extension in a real code-server
	bash vscode-extension/scripts/test.sh

# npm ci only when the lock file is newer than the last install (a fresh clone has none), as scripts/test.sh does
node-modules:
	@if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  npm ci --no-audit --no-fund; fi

lint: venv luacheck node-modules ## ruff, mypy, luacheck; the CI workflows (actionlint, schema, zizmor)
	$(BIN)/ruff check server tests benchmarks
	$(BIN)/ruff format --check server tests benchmarks
	$(BIN)/mypy
	node scripts/actionlint.cjs .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --quiet .github/workflows
	luacheck --no-color -q editors/nvim tests/nvim

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
	cp -r tests/unit tests/data $(MUTATION_DIR)/tests/
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

# Every VS Code target, linux-x64 last: bundled/libs is left as `make package` leaves it. npm ci only when the lock
# file is newer than the last install (a fresh clone has none), as scripts/test.sh does.
VSCODE_TARGETS := linux-arm64 darwin-x64 darwin-arm64 win32-x64 linux-x64
VSIX_FILES := $(foreach target,$(VSCODE_TARGETS),vscode-extension/tunacode-$(target).vsix)
package-all: node-modules ## a .vsix per VS Code target (5, server bundled), each checked: target, binaries, files, no local path
	@set -e; for target in $(VSCODE_TARGETS); do \
	  echo "package-all: $$target"; \
	  VSCODE_TARGET=$$target PYTHON=$(PYTHON) npm run --silent package; \
	  $(PYTHON) scripts/release.py check-vsix --target $$target vscode-extension/tunacode-$$target.vsix; \
	done

release: venv ## package-all, the wheel and sdist, all checked, in dist/ with SHA256SUMS (versions agree, CHANGELOG)
	$(BIN)/python scripts/release.py check-versions
	$(MAKE) --no-print-directory package-all
	$(BIN)/python scripts/release.py check-listing
	$(MAKE) --no-print-directory wheel
	$(BIN)/python scripts/release.py finish --dist dist $(VSIX_FILES)

clean: ## remove the venvs, caches and build output
	rm -rf $(VENV) .cache node_modules vscode-extension/node_modules vscode-extension/dist vscode-extension/bundled/libs
