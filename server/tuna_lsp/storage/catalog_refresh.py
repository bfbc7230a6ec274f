"""Fetch a fresher models.dev snapshot into the cache dir, on the user's request.

Off by default; a command (`tuna.refreshCatalog`) or the `catalogAutoRefresh` option asks for it.
The download is validated (it must parse and look like a whole models.dev document) before it
replaces the previous snapshot, atomically: a failed or partial download leaves the catalog in
use untouched. `file://` URLs are accepted, which is how the tests point it at a local file.
Must not import lsprotocol.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..core.catalog import SNAPSHOT_NAME, validate_snapshot
from .atomic_file import replace_file

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
    target = cache_dir / SNAPSHOT_NAME
    try:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        replace_file(target, data, 0o600, fsync_dir=False)
    except OSError as exc:
        raise RefreshError(f"could not write {target}: {exc.strerror or exc}") from exc
    return target, len(providers)
