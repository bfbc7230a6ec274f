"""Which versions of the shared config tuna-lsp itself wrote: the SHA-256 of the files tuna-lsp
servers wrote, one per line, in `config-writes.log` in the user state dir (the last KEEP count).

Every server watching the config sees every change; this is how one tells a change made through
tuna-lsp (any editor window) from one made by the CLI or a hand edit (`viaEditor`, PROTOCOL.md
section 3). A mark is appended, under the config's lock, just before the new file replaces the old,
so a server that sees the new file always finds its mark. Marks are hints, not data: appended with
one O_APPEND write and no fsync (a rename or a truncation would make the file system flush it, at
the cost of a durable write on every set), and a lost or unreadable mark only makes a change look
external. The file is cut back to its last marks now and then. Holds digests only, never file
content. Must not import lsprotocol.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from . import platform
from .quiet_read import open_to_read

log = logging.getLogger(__name__)
KEEP = 32


try:  # CPython's own SHA-256: hashlib would load OpenSSL's digests, 0.6 MiB in every server
    from _sha2 import sha256  # Python 3.12 and later
except ImportError:  # pragma: no cover - which one depends on the Python version
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:
        from hashlib import sha256


def digest(raw: bytes) -> str:
    """The SHA-256 of `raw`, in hex."""
    hexdigest: str = sha256(raw).hexdigest()
    return hexdigest


_LINE = 65  # a hex digest and its newline
_DIGEST = re.compile(rb"[0-9a-f]{64}")
ROTATE_BYTES = 16 * 1024


class WriteMarks:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._dir_ready = False

    def _tail(self) -> list[bytes]:
        """The lines of the log's last KEEP + 1 marks' worth of bytes, oldest first."""
        try:
            fd = open_to_read(self.path, nonblock=True)  # never waits on a FIFO
        except OSError:
            return []
        try:
            size = os.fstat(fd).st_size
            want = _LINE * (KEEP + 1)
            return platform.pread(fd, want, max(0, size - want)).split(b"\n")
        except OSError:
            return []
        finally:
            os.close(fd)

    def _read(self) -> list[str]:
        """The newest KEEP marks, newest first; a torn last line is no mark."""
        marks = [m.decode() for m in self._tail() if _DIGEST.fullmatch(m)]
        return marks[::-1][:KEEP]

    def add(self, raw: bytes) -> None:
        """Called with the config's lock held, so writers never lose each other's marks."""
        line = (digest(raw) + "\n").encode()
        try:
            if not self._dir_ready:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._dir_ready = True
            # O_NONBLOCK: a FIFO there is an error at once, not a wait for its reader
            flags = platform.write_flags(os.O_APPEND | os.O_CREAT, nonblock=True)
            fd = os.open(self.path, flags, 0o600)
            try:
                os.write(fd, line)
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            if size > ROTATE_BYTES:  # keep the newest marks only (rare: a rename here is fine)
                tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
                fd = os.open(tmp, platform.write_flags(os.O_CREAT | os.O_TRUNC), 0o600)
                try:
                    os.write(fd, "".join(m + "\n" for m in self._read()[::-1]).encode())
                finally:
                    os.close(fd)
                platform.replace(tmp, self.path)
        except OSError as exc:
            self._dir_ready = False
            log.debug("write mark not recorded (%s): the change will look external", exc)

    def made_by_us(self, raw: bytes | None) -> bool:
        # Every server runs this on every change it sees: a whole line equal to the digest is a
        # mark (a torn line is shorter), with no need to check the other lines' form.
        return raw is not None and digest(raw).encode() in self._tail()
