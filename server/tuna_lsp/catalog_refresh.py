"""Fetch a fresher models.dev snapshot into the cache dir, on the user's request.

Off by default; a command (`tuna.refreshCatalog`) or the `catalogAutoRefresh` option asks for it.
The download is validated (it must parse and look like a whole models.dev document) before it
replaces the previous snapshot, atomically: a failed or partial download leaves the catalog in
use untouched. `file://` URLs are accepted, which is how the tests point it at a local file.
Must not import lsprotocol.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from .catalog import SNAPSHOT_NAME, validate_snapshot

MAX_BYTES = 64 * 1024 * 1024
TIMEOUT_S = 30


class RefreshError(Exception):
    pass


def snapshot_age_s(cache_dir: Path) -> float | None:
    try:
        return time.time() - (cache_dir / SNAPSHOT_NAME).stat().st_mtime
    except OSError:
        return None


def refresh_snapshot(url: str, cache_dir: Path) -> tuple[Path, int]:
    """Download, validate, and atomically install the snapshot. Returns (path, providers)."""
    if not url.startswith(("https://", "http://", "file://")):
        raise RefreshError(f"catalog URL must be https://, http:// or file://, got {url!r:.80}")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            data = resp.read(MAX_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise RefreshError(f"could not download {url}: {exc}") from exc
    if len(data) > MAX_BYTES:
        raise RefreshError(
            f"{url} is larger than {MAX_BYTES // 2**20} MiB; not a models.dev document"
        )
    try:
        providers = validate_snapshot(json.loads(data))
    except ValueError as exc:
        raise RefreshError(f"{url} is not a usable models.dev document: {exc}") from exc
    cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = cache_dir / SNAPSHOT_NAME
    fd, tmp = tempfile.mkstemp(prefix=f".{SNAPSHOT_NAME}.", dir=cache_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        tmp = ""
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return target, len(providers)
