#!/usr/bin/env bash
# Builds the extension as a .vsix. With --bundled (what `make package` runs): the tuna-lsp server and every library
# it needs are carried inside, for one VS Code target (VSCODE_TARGET, default linux-x64), as
# tunacode-<target>.vsix. Without: tunacode.vsix, which carries no server and finds one installed apart.
# Neither records a path of this machine (test/package). With --dev: tunacode-dev.vsix, for the developer's own
# editor only, which knows this clone and runs its .venv/bin/tuna-lsp (in trusted windows).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
case "${1:-}" in
  --bundled)
    target="${VSCODE_TARGET:-linux-x64}"
    bash scripts/bundle-server.sh "$target"
    node esbuild.mjs --production
    vsce package --target "$target" --no-dependencies --allow-missing-repository --out "tunacode-$target.vsix"
    ;;
  --dev)
    rm -rf bundled/libs
    node esbuild.mjs --production --dev
    vsce package --no-dependencies --allow-missing-repository --out tunacode-dev.vsix
    ;;
  "")
    rm -rf bundled/libs
    node esbuild.mjs --production
    vsce package --no-dependencies --allow-missing-repository --out tunacode.vsix
    ;;
  *)
    echo "package.sh: unknown option $1 (expected --bundled, --dev or nothing)" >&2
    exit 2
    ;;
esac
