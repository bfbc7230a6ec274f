"""Append-only JSON-lines files in the state directory (the model history, the save outcomes):
one `os.write` per line with O_APPEND, so lines from many servers never mix, and a rotation at
ROTATE_BYTES (the file renamed to `<name>.1`, replacing the older copy), so each stays bounded.
And the time each line starts with (`utc_now`, `iso`; a stale overwrite's too): datetime loads
with the first line written, not at start-up with the modules that write (the catalog's sqlite3
loads it just after the first status anyway). Must not import lsprotocol."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from . import platform
from .file_lock import LockTimeout, lock_beside, locked
from .quiet_read import open_to_read

if TYPE_CHECKING:  # loaded on the first line written (`utc_now`)
    import datetime as dt

log = logging.getLogger(__name__)
ROTATE_BYTES = 1024 * 1024  # PROTOCOL.md 1: rotated when a file passes 1 MiB
MAX_READ_BYTES = 64 * 1024 * 1024  # a reader takes at most this much of one file


def utc_now() -> dt.datetime:
    import datetime as dt  # with the first line written, not at start-up (the docstring's reason)

    return dt.datetime.now(dt.UTC)


def iso(when: dt.datetime) -> str:
    """`2026-01-01T12:00:00.000Z`: a line's time, as both files hold it (PROTOCOL.md 10)."""
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rotated(path: Path) -> Path:
    return path.with_name(path.name + ".1")


def _open_append(path: Path) -> int:
    # never through a link planted at the path; a FIFO there is an error at once, not a wait
    # for its reader (where the system can say so: storage/platform.py)
    flags = platform.write_flags(os.O_APPEND | os.O_CREAT, nonblock=True)
    try:
        return os.open(path, flags, 0o600)
    except FileNotFoundError:  # the state dir was removed since: make it again
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.open(path, flags, 0o600)


def append_line(path: Path, line: bytes, limit: int = ROTATE_BYTES) -> None:
    """Append one line (ending in a newline); rotate first when it would pass `limit`. Raises
    OSError (a FIFO or a directory at the path, a read-only folder)."""
    fd = _open_append(path)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{path} is not a regular file")
        if st.st_size and st.st_size + len(line) > limit:
            os.close(fd)
            fd = -1
            _rotate(path, limit - len(line))
            fd = _open_append(path)
        os.write(fd, line)  # one write with O_APPEND: lines from several servers never mix
    finally:
        if fd >= 0:
            os.close(fd)


def _rotate(path: Path, over: int) -> None:
    """Rename the file to `.1` if it is still over `over` bytes, under the lock beside it: of
    several servers rotating at once, one renames and the others find a small file. A writer
    that opened the file before the rename appends to the `.1` copy: no line is lost."""
    try:
        with locked(lock_beside(path), timeout=1), contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_size > over:
                os.replace(path, rotated(path))
    except LockTimeout:
        log.debug("%s: rotation lock busy; appending without rotating", path)


def read_lines(path: Path, since: bytes = b"") -> Iterator[bytes]:
    """The lines of the rotated copy, then of the file: oldest first; with `since` (a timestamp
    as tuna-lsp writes them), from the first line at or after it (the files are appended in
    time order: found by bisection, the older lines never split). A missing file has none; a
    file that is not a regular one is an OSError with a clear message."""
    for part in (rotated(path), path):
        try:
            fd = open_to_read(part, nonblock=True)  # never waits on a FIFO
        except FileNotFoundError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise OSError(
                    f"{part} is not a regular file; expected the JSON lines tuna-lsp writes"
                )
            with os.fdopen(os.dup(fd), "rb") as file:
                data = file.read(MAX_READ_BYTES)
        finally:
            os.close(fd)
        yield from data[_first_since(data, since) if since else 0 :].splitlines()


_TS = b'{"ts": "'  # both files start each line with the timestamp, in one format


def _first_since(data: bytes, since: bytes) -> int:
    """The offset of the first line whose timestamp is at or after `since`; a line that does not
    show one counts as after (it is read, and skipped by the reader if it does not parse)."""
    lo, hi = 0, len(data)  # lo: a line's start, every line before it is older
    while lo < hi:
        mid = (lo + hi) // 2
        start = data.rfind(b"\n", 0, mid) + 1
        if start < lo:
            start = lo
        if (
            not data.startswith(_TS, start)
            or data[start + len(_TS) : start + len(_TS) + len(since)] >= since
        ):
            hi = start
        else:
            end = data.find(b"\n", start)
            lo = len(data) if end < 0 else end + 1
    return lo
