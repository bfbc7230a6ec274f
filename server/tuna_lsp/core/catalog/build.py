"""The index build: the catalog's sqlite index is made once per set of sources, in the cache dir
shared by every server, by a child process (`cache.open_catalog` runs `build_main` there, isolated),
so no server holds the sources' objects. Only that child imports this module (and `load`, the
sources' reading): what only it needs is imported at the top here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from ...storage import platform
from ...storage.file_lock import locked
from . import index
from .cache import index_path
from .index import write_index
from .load import layers
from .sources import ProviderInfo


def build_index(cache_dir: Path, include_tunacode: bool) -> Path:
    """Make the index file if it is not there yet: under a lock (one builder among the servers
    starting at once), into a temp file renamed into place. Run in a child process by
    `open_catalog`, so no server holds the sources' objects."""
    path = index_path(cache_dir, include_tunacode)
    cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with locked(cache_dir / "catalog-index.lock", timeout=120, poll=0.05):
        if path.is_file():
            return path
        fd, tmp = tempfile.mkstemp(prefix=".catalog-index.", suffix=".tmp", dir=cache_dir)
        os.close(fd)
        try:
            db = sqlite3.connect(tmp)
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            merged: dict[str, ProviderInfo] = {}
            for providers, _ in (sources := layers(cache_dir, include_tunacode)):
                merged.update(providers)
            write_index(db, merged, [source for _, source in sources])
            db.close()
            platform.replace(tmp, path)
            tmp = ""
        finally:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        week = time.time() - 7 * 24 * 3600
        for old in cache_dir.glob("catalog-index-*.sqlite"):  # indexes of sources long gone
            with contextlib.suppress(OSError):
                if old != path and old.stat().st_mtime < week:
                    old.unlink()
    return path


def build_main(argv: list[str]) -> None:
    """The index builder `open_catalog` runs in a child process."""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if "--no-fts5" in argv[1:]:
        index.assume_no_fts5()
    build_index(Path(argv[0]), "--no-tunacode" not in argv[1:])
