#!/usr/bin/env bash
# Builds the extension as a .vsix. With --bundled (what `make package` runs): the tuna-lsp server and every library
# it needs are carried inside, for one VS Code target (VSCODE_TARGET, default linux-x64), as
# tunacode-<target>.vsix. Without: tunacode.vsix, which carries no server and finds one installed apart.
# Neither records a path of this machine (test/package). With --dev: tunacode-dev.vsix, for the developer's own
# editor only, which knows this clone and runs its .venv/bin/tuna-lsp (in trusted windows).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The repository's CHANGELOG.md is the marketplace's Changelog tab: copied in for vsce, removed afterwards.
cp ../CHANGELOG.md CHANGELOG.md
trap 'rm -f CHANGELOG.md' EXIT
# The README's relative links (media/*.png) point into this folder of the repository (package.json's `repository`):
# vsce would take the repository's root for them.
repo_url="$(node -p 'require("./package.json").repository.url.replace(/\.git$/, "")')"
links=(--baseContentUrl "$repo_url/blob/HEAD/vscode-extension" --baseImagesUrl "$repo_url/raw/HEAD/vscode-extension")

case "${1:-}" in
  --bundled)
    target="${VSCODE_TARGET:-linux-x64}"
    bash scripts/bundle-server.sh "$target"
    node esbuild.mjs --production
    vsce package --target "$target" --no-dependencies "${links[@]}" --out "tunacode-$target.vsix"
    ;;
  --dev)
    rm -rf bundled/libs
    node esbuild.mjs --production --dev
    vsce package --no-dependencies "${links[@]}" --out tunacode-dev.vsix
    ;;
  "")
    rm -rf bundled/libs
    node esbuild.mjs --production
    vsce package --no-dependencies "${links[@]}" --out tunacode.vsix
    ;;
  *)
    echo "package.sh: unknown option $1 (expected --bundled, --dev or nothing)" >&2
    exit 2
    ;;
esac
