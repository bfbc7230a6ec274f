"""Opening a file to read it without writing to the disk, and without waiting on what the path
names (a FIFO opened to read waits for a writer; one opened to write, for a reader).

On a file system mounted `relatime` (Linux's default), the first read of a file modified since it
was last read updates its access time: a dirty inode, which the next fsync's journal commit
writes along with the data it was asked for (ext4 commits the whole transaction). Every server
reads the shared config after each write (its watcher's echo, a set's read under the lock) and
the write marks beside it: without O_NOATIME, each set's durable write also carried the access
times its readers left. O_NOATIME is allowed to the file's owner and to root; for anyone else
the open is a plain one. Must not import lsprotocol.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from . import platform


def open_to_read(path: Path | str, flags: int = 0, *, nonblock: bool = False) -> int:
    """os.open(path) to read (binary, close-on-exec, and `flags`; `nonblock`: never waiting on a
    FIFO where the system can say so), without an access-time update where the kernel allows it.
    Raises OSError as os.open does."""
    flags |= platform.read_flags(nonblock=nonblock)
    if platform.O_NOATIME:
        try:
            return os.open(path, flags | platform.O_NOATIME)
        except PermissionError:  # EPERM: not the file's owner (or EACCES: tried again below)
            pass
    return os.open(path, flags)


class TooLarge(OSError):
    """A file past the limit its reader set; `size`: as much of it as was seen."""

    def __init__(self, path: Path | str, limit: int, size: int) -> None:
        super().__init__(errno.EFBIG, f"larger than {limit} bytes", str(path))
        self.size = size


def read_to_end(fd: int, path: Path | str, size_hint: int, limit: int) -> bytes:
    """The rest of an open file, in reads of the size it has (os.read allocates what it is asked
    for: a 4 MiB buffer for a 300-byte file otherwise). Raises TooLarge past `limit` bytes
    (a file that grew while it was read, too)."""
    if size_hint > limit:
        raise TooLarge(path, limit, size_hint)
    chunks: list[bytes] = []
    size = 0
    step = max(size_hint + 1, 4096)
    while chunk := os.read(fd, min(step, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise TooLarge(path, limit, size)
    return b"".join(chunks)


def read_regular(path: Path | str, limit: int) -> bytes:
    """The content of the regular file at `path`, of at most `limit` bytes. Never waits on a
    FIFO or a device. Raises FileNotFoundError, TooLarge, or OSError saying what is wrong."""
    fd = open_to_read(path, nonblock=True)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return read_to_end(fd, path, st.st_size, limit)
    finally:
        os.close(fd)
