#!/usr/bin/env bash
# Every check of the VS Code extension, as `make test-vscode` runs it from the repository root: installs what is
# missing (npm packages from the committed lock file, Debian's Chromium, code-server), lints, runs the unit tests
# (one of them starts the real tuna-lsp), packages both .vsix files (tunacode.vsix without a server, and
# tunacode-linux-x64.vsix carrying it: needs a Python 3.11+ with pip, $PYTHON) as `make package` does and checks
# that neither carries a path of this machine (test/package), and runs the end-to-end test in a real VS Code. Needs the server's venv (`make venv`), or TUNA_LSP naming a tuna-lsp executable, and the real
# tunacode CLI ($TUNACODE_VENV, `make tunacode-venv`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# npm ci wipes node_modules: only when the lock file is newer than the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

npm run lint
npm run test:unit
npm run test:package -w vscode-extension
bash vscode-extension/scripts/setup-e2e.sh
# Bounded: each test and hook has its own deadline; this is the backstop for the whole run.
timeout --kill-after=30 900 npm run test:e2e
