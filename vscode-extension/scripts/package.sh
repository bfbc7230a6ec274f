#!/usr/bin/env bash
# Builds the extension as a .vsix. With --bundled (what `make package` runs): the tuna-lsp server and every library
# it needs are carried inside, for one VS Code target (VSCODE_TARGET, default linux-x64), as
# tunacode-<target>.vsix. Without: tunacode.vsix, which carries no server and finds one installed apart.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "${1:-}" = "--bundled" ]; then
  target="${VSCODE_TARGET:-linux-x64}"
  bash scripts/bundle-server.sh "$target"
  node esbuild.mjs --production
  vsce package --target "$target" --no-dependencies --allow-missing-repository --out "tunacode-$target.vsix"
else
  rm -rf bundled/libs
  node esbuild.mjs --production
  vsce package --no-dependencies --allow-missing-repository --out tunacode.vsix
fi
