#!/usr/bin/env bash
# Installs what the extension's end-to-end test needs: Debian's Chromium and build tools, and code-server
# 4.100.3 (a real VS Code 1.100.3, the last release that runs on Node 20) from npm, pinned by the lock file in
# vscode-extension/e2e-deps/. Idempotent: a second run that finds everything in place only checks and returns.
#
# Everything goes under $TUNACODE_E2E_CACHE (default vscode-extension/.e2e, gitignored).
# Needs root (or sudo) only when Debian packages are missing.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT_DIR="$(dirname "$HERE")"
CACHE="${TUNACODE_E2E_CACHE:-$EXT_DIR/.e2e}"
CS_VERSION="4.100.3"
CS_DIR="$CACHE/code-server"
CS_BIN="$CS_DIR/node_modules/.bin/code-server"

log() { printf '[setup-e2e] %s\n' "$*"; }

# --- Debian packages -----------------------------------------------------------------------------------------
debs=(build-essential pkg-config libkrb5-dev ripgrep chromium)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  log "Debian packages present"
fi

# --- code-server ---------------------------------------------------------------------------------------------
mkdir -p "$CACHE/tmp"
installed_version=""
if [ -x "$CS_BIN" ] && cmp -s "$EXT_DIR/e2e-deps/package-lock.json" "$CS_DIR/package-lock.json"; then
  installed_version="$(HOME="$CACHE/tmp" "$CS_BIN" --version 2>/dev/null | head -n1 | cut -d' ' -f1 || true)"
fi
if [ "$installed_version" = "$CS_VERSION" ]; then
  log "code-server $CS_VERSION present"
else
  log "installing code-server $CS_VERSION into $CS_DIR (about a minute)"
  # @vscode/ripgrep's postinstall downloads rg from a host that is not reachable here: seed its cache with
  # Debian's rg, which is what it would have unpacked.
  rg_cache="$CACHE/tmp/vscode-ripgrep-cache-1.15.11"
  mkdir -p "$rg_cache" "$CACHE/rg-stage"
  cp /usr/bin/rg "$CACHE/rg-stage/rg"
  tar czf "$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$CACHE/rg-stage" rg
  mkdir -p "$CS_DIR"
  cp "$EXT_DIR/e2e-deps/package.json" "$EXT_DIR/e2e-deps/package-lock.json" "$CS_DIR/"
  # npm_config_yes: node-pty's postinstall runs `npx node-gyp`; nodedir: headers from the system, no download.
  (cd "$CS_DIR" && TMPDIR="$CACHE/tmp" npm_config_yes=true npm_config_nodedir=/usr \
    npm ci --unsafe-perm --no-audit --no-fund --loglevel=error)
  HOME="$CACHE/tmp" "$CS_BIN" --version | head -n1
fi

command -v chromium >/dev/null || { log "chromium not found on PATH"; exit 1; }
log "ready: code-server $CS_VERSION, $(chromium --version 2>/dev/null | head -n1)"
