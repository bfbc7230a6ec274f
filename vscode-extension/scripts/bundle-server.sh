#!/usr/bin/env bash
# Puts the tuna-lsp server and every library it needs into vscode-extension/bundled/libs, for one VS Code target
# (default linux-x64), so that the .vsix runs the server with the user's own Python 3.11+ and nothing else
# installed. Libraries with compiled parts (watchfiles) are taken as wheels for the target's platform; watchfiles
# ships abi3 wheels, so one bundle serves every CPython from 3.11 up.
#
#   bash scripts/bundle-server.sh [linux-x64|linux-arm64|darwin-x64|darwin-arm64|win32-x64]
#
# Needs a Python 3.11+ with pip ($PYTHON, default python3) and access to the package index pip is set up for.
set -euo pipefail

TARGET="${1:-linux-x64}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT_DIR="$(dirname "$HERE")"
ROOT="$(dirname "$EXT_DIR")"
PYTHON="${PYTHON:-python3}"
LIBS="$EXT_DIR/bundled/libs"

case "$TARGET" in
  linux-x64) platforms=(manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux_2_28_x86_64) ;;
  linux-arm64) platforms=(manylinux_2_17_aarch64 manylinux2014_aarch64 manylinux_2_28_aarch64) ;;
  darwin-x64) platforms=(macosx_10_12_x86_64) ;;
  darwin-arm64) platforms=(macosx_11_0_arm64) ;;
  win32-x64) platforms=(win_amd64) ;;
  *) echo "bundle-server: unknown target $TARGET (expected linux-x64, linux-arm64, darwin-x64, darwin-arm64 or win32-x64)" >&2; exit 2 ;;
esac

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "bundle-server: $PYTHON is $("$PYTHON" --version 2>&1); Python 3.11 or newer is needed (set PYTHON)" >&2
  exit 2
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The server as a wheel, built from a copy of what it is made of: built in the clone, setuptools would reuse its
# build/lib, where a module deleted since the last build stays and goes into the wheel. Then it and its
# dependencies as the target platform's wheels (no build on this machine).
mkdir "$work/src"
cp -R "$ROOT/pyproject.toml" "$ROOT/README.md" "$ROOT/server" "$work/src/"
[ ! -f "$ROOT/LICENSE" ] || cp "$ROOT/LICENSE" "$work/src/"
find "$work/src/server" \( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +
"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$work/wheel" "$work/src"
# The wheel holds exactly the modules of the copy it was built from.
"$PYTHON" - "$work/src/server" "$work"/wheel/*.whl <<'PY'
import pathlib, sys, zipfile
source = pathlib.Path(sys.argv[1])
tree = {p.relative_to(source).as_posix() for p in source.rglob("*.py")}
wheel = {n for n in zipfile.ZipFile(sys.argv[2]).namelist() if n.endswith(".py")}
if tree != wheel:
    sys.exit(f"bundle-server: the wheel's modules differ from the source: extra {sorted(wheel - tree)}, "
             f"missing {sorted(tree - wheel)}")
PY
platform_args=()
for p in "${platforms[@]}"; do platform_args+=(--platform "$p"); done
rm -rf "$LIBS"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-compile --target "$LIBS" \
  --implementation cp --python-version 3.11 --only-binary=:all: "${platform_args[@]}" "$work"/wheel/*.whl

# Console scripts point at the build machine's Python; the extension runs bundled/tool/tuna_lsp_main.py instead.
rm -rf "$LIBS/bin"
# pip records where each wheel came from (direct_url.json: the temporary folder above, a path of this machine);
# the .vsix carries no path of the machine that built it. Its line in RECORD goes with it.
for record in "$LIBS"/*.dist-info/RECORD; do
  dist_info="$(dirname "$record")"
  if [ -f "$dist_info/direct_url.json" ]; then
    rm -f "$dist_info/direct_url.json"
    grep -v "^$(basename "$dist_info")/direct_url.json," "$record" > "$work/RECORD" || true
    cat "$work/RECORD" > "$record"
  fi
done
find "$LIBS" -name __pycache__ -type d -prune -exec rm -rf {} +
echo "bundle-server: $TARGET: $(du -sh "$LIBS" | cut -f1) in $LIBS"
