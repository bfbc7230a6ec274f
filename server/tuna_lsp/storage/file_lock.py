"""The cross-process lock every writer of a shared file takes: filelock's descriptor primitive
(`lock_descriptor`: flock on Unix, the lock its `FileLock` takes, so both exclude each other) on a
lock file opened here.

Why not `FileLock` itself: in filelock 4 each acquire and release costs about 200 µs of
bookkeeping (fork tracking, per-thread holds, the path resolved again), a third of a set's whole
budget; the descriptor primitive takes the same kernel lock in about 5 µs. What `FileLock` did for
us is kept here: the lock file is opened with O_NOFOLLOW, so a link planted at the lock path is
never followed (the class of CVE-2025-68146 and CVE-2026-22701), and after locking, the path must
still name the file that was locked (a lock file removed and made again in between would
otherwise let two writers in). Must not import lsprotocol.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import platform

# A writer holds a lock for a millisecond or two: poll often, or a waiter among busy writers can
# miss every free moment until its timeout.
POLL_S = 0.002


class LockTimeout(TimeoutError):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__(f"{path} was held by another writer for more than {timeout:g} s")
        self.path = path
        self.timeout = timeout


class LockFileError(OSError):
    """The lock file could not be opened or made (a directory or a link there, no write access)."""


def _open(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | platform.O_NOFOLLOW | platform.O_CLOEXEC | platform.O_BINARY
    try:
        return os.open(path, flags, 0o600)
    except OSError as exc:
        raise LockFileError(exc.errno, exc.strerror, str(path)) from exc


def lock_beside(path: Path) -> Path:
    """The lock file of a shared file: beside it, named after it (`tunacode.json.lock`, as
    PROTOCOL.md 7 and filelock have it)."""
    return path.with_name(path.name + ".lock")


def _keep_owner(path: Path, held: os.stat_result) -> None:
    """As root, a lock file made now would be root's, 0600: the user's own servers could no longer
    open it. It gets its directory's owner, as a rewritten file keeps its own (atomic_file); only
    when it has another (a chown is an inode write, which a set's fsync would carry)."""
    if not platform.is_root():
        return
    with contextlib.suppress(OSError):
        st = os.stat(path.parent)
        if (held.st_uid, held.st_gid) != (st.st_uid, st.st_gid):
            platform.chown_path(path, st.st_uid, st.st_gid)


def _still_names(fd: int, path: Path) -> os.stat_result | None:
    """The lock file's stat if `path` still names the file `fd` holds, else None."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return None
    held = os.fstat(fd)
    return held if (st.st_dev, st.st_ino) == (held.st_dev, held.st_ino) else None


@contextmanager
def locked(path: Path, timeout: float, poll: float = POLL_S) -> Iterator[None]:
    """Hold the lock at `path` (made if missing, mode 0600, its directory's owner's) for the
    `with` block. Tries at once; with `timeout` 0 that is the only try. Raises LockTimeout, or
    LockFileError if the lock file cannot be opened."""
    from filelock import lock_descriptor, unlock_descriptor  # on the first write, not at start

    deadline = time.monotonic() + timeout
    fd = _open(path)
    try:
        while True:
            if lock_descriptor(fd, blocking=False):
                if (held := _still_names(fd, path)) is not None:
                    break
                unlock_descriptor(fd)  # the file was replaced: lock the one there now
                os.close(fd)
                fd = -1
                fd = _open(path)
                continue
            if time.monotonic() >= deadline:
                raise LockTimeout(path, timeout)
            time.sleep(poll)
        _keep_owner(path, held)
        yield
    finally:
        if fd >= 0:
            os.close(fd)  # closing the only descriptor releases the lock
