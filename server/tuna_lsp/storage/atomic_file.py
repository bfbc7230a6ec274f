"""Replace a file's content atomically: temp file in the same directory, fsync, rename, and
(optionally) fsync of the directory. Readers see the old file or the new one, never a mix.
Raises OSError; the temp file never outlives a failure."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def replace_file(target: Path, data: bytes, mode: int, *, fsync_dir: bool = True) -> None:
    import tempfile  # only writes need it; keep it off the start-up path

    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        tmp = ""
        if fsync_dir:
            dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
