"""Fetch a fresher models.dev snapshot into the cache dir, on the user's request.

Off by default; a command (`tuna.refreshCatalog`) or the `catalogAutoRefresh` option asks for it.
The download is bounded in bytes (MAX_BYTES) and in total time (TOTAL_TIMEOUT_S, not per read),
checked as it streams (a body that cannot be a JSON object is dropped at its first byte), follows
redirects only on the same scheme, host and port, and is validated (it must parse and look like a
whole models.dev document) before it replaces the previous snapshot, atomically: a failed or
partial download leaves the catalog in use untouched. `file://` URLs must name a regular file
(how the tests point it at a local one). Must not import lsprotocol. Not imported by the package
(`core.catalog`): urllib is loaded only when a refresh is asked for.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ...storage import platform
from ...storage.atomic_file import replace_file
from .sources import SNAPSHOT_NAME as SNAPSHOT_NAME  # re-exported: features/catalog.py
from .sources import validate_snapshot

MAX_BYTES = 8 * 1024 * 1024  # models.dev's api.json is about 2 MiB
TOTAL_TIMEOUT_S = 60.0
READ_TIMEOUT_S = 10.0  # one stalled read; the whole download has TOTAL_TIMEOUT_S
_CHUNK = 64 * 1024


class RefreshError(Exception):
    pass


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    """A redirect may move within the server, never to another host or scheme (`ftp://`,
    `file://`, plain http from https): what was refused when asked directly stays refused."""

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        if (new.scheme, new.hostname, new.port) != (old.scheme, old.hostname, old.port):
            raise RefreshError(
                f"{req.full_url} redirects to {newurl[:200]}: a different "
                f"{'scheme' if new.scheme != old.scheme else 'host'}; not followed"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Budget:
    def __init__(self, url: str, cancelled: threading.Event | None) -> None:
        self.url = url
        self.deadline = time.monotonic() + TOTAL_TIMEOUT_S
        self.cancelled = cancelled
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        if self.cancelled is not None and self.cancelled.is_set():
            raise RefreshError(f"the download of {self.url} was abandoned")
        if time.monotonic() > self.deadline:
            raise RefreshError(f"{self.url} took longer than {TOTAL_TIMEOUT_S:g} s in all")
        if not self.size:
            first = chunk.lstrip()[:1]
            if first and first != b"{":
                raise RefreshError(
                    f"{self.url} does not start like a JSON object ({first!r}); "
                    "not a models.dev document"
                )
            if not first:
                return
        self.size += len(chunk)
        if self.size > MAX_BYTES:
            raise RefreshError(
                f"{self.url} is larger than {MAX_BYTES // 2**20} MiB; not a models.dev document"
            )
        self.chunks.append(chunk)

    def data(self) -> bytes:
        return b"".join(self.chunks)


def _read_file(url: str, budget: _Budget) -> None:
    path = urllib.request.url2pathname(urlsplit(url).path)
    try:
        # O_NONBLOCK: a FIFO must not hold the request (and a worker thread) forever
        fd = os.open(path, platform.read_flags(nonblock=True))
    except OSError as exc:
        raise RefreshError(f"could not read {url}: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RefreshError(f"{url} is not a regular file")
        if st.st_size > MAX_BYTES:
            raise RefreshError(
                f"{url} is larger than {MAX_BYTES // 2**20} MiB; not a models.dev document"
            )
        while chunk := os.read(fd, _CHUNK):
            budget.add(chunk)
    except OSError as exc:
        raise RefreshError(f"could not read {url}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


def _read_http(url: str, budget: _Budget) -> None:
    opener = urllib.request.build_opener(_SameOrigin)
    try:
        with opener.open(url, timeout=READ_TIMEOUT_S) as resp:
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > MAX_BYTES:
                raise RefreshError(
                    f"{url} is {int(declared) / 2**20:.0f} MiB; a models.dev document is at most "
                    f"{MAX_BYTES // 2**20} MiB"
                )
            while chunk := resp.read1(_CHUNK) if hasattr(resp, "read1") else resp.read(_CHUNK):
                budget.add(chunk)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise RefreshError(f"could not download {url}: {exc}") from exc


def refresh_snapshot(
    url: str, cache_dir: Path, cancelled: threading.Event | None = None
) -> tuple[Path, int]:
    """Download, validate, and atomically install the snapshot. Returns (path, providers).
    Setting `cancelled` (the caller gave up waiting) stops it before anything is installed."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("https", "http", "file"):
        raise RefreshError(f"catalog URL must be https://, http:// or file://, got {url!r:.80}")
    budget = _Budget(url, cancelled)
    (_read_file if scheme == "file" else _read_http)(url, budget)
    data = budget.data()
    budget.chunks.clear()
    try:
        providers = validate_snapshot(json.loads(data))
    except RecursionError as exc:
        raise RefreshError(f"{url} is nested too deeply to be a models.dev document") from exc
    except ValueError as exc:
        raise RefreshError(f"{url} is not a usable models.dev document: {exc}") from exc
    if cancelled is not None and cancelled.is_set():
        raise RefreshError(f"the download of {url} was abandoned")
    target = cache_dir / SNAPSHOT_NAME
    try:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        replace_file(target, data, 0o600, fsync_dir=False)
    except OSError as exc:
        raise RefreshError(f"could not write {target}: {exc.strerror or exc}") from exc
    return target, len(providers)
