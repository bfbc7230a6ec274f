"""Where things are: the checkout, the server under test and the real tunacode CLI's venv."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# TUNA_LSP_SERVER runs the suites against another install (make test-wheel: the built wheel's).
SERVER_CMD = [os.environ.get("TUNA_LSP_SERVER") or str(BIN / "tuna-lsp")]
TUNACODE_PY = (
    Path(os.environ.get("TUNACODE_VENV", ROOT / ".cache" / "tunacode-venv")) / "bin" / "python"
)
TUNACODE_BIN = TUNACODE_PY.parent / "tunacode"
