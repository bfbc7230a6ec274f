"""One version number for the Python package, `tuna-lsp --version` and the VS Code extension."""

from __future__ import annotations

import json
import subprocess

import tuna_lsp
from harness.paths import ROOT, SERVER_CMD


def test_one_version_everywhere() -> None:
    extension = json.loads((ROOT / "vscode-extension" / "package.json").read_text())["version"]
    printed = subprocess.run(
        [*SERVER_CMD, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    assert printed == f"tuna-lsp {tuna_lsp.__version__}"
    assert extension == tuna_lsp.__version__, "vscode-extension/package.json's version differs"
