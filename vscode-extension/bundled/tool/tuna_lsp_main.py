"""Starts the tuna-lsp server bundled in the VS Code extension, from the libraries in ../libs.

The extension runs this file with the user's Python in isolated mode (`python -I`): PYTHONPATH, the user's
site-packages and the current directory are ignored, so only the bundled libraries are imported.
"""

import sys
from pathlib import Path

if sys.version_info < (3, 11):
    sys.exit(f"tuna-lsp needs Python 3.11 or newer; this is {sys.version.split()[0]} ({sys.executable})")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "libs"))

from tuna_lsp.__main__ import main  # noqa: E402  (the path above comes first)

main()
