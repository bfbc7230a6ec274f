"""Which versions of the shared config tuna-lsp itself wrote: the SHA-256 of the last few files
any tuna-lsp server wrote, in `config-writes.json` in the user state dir.

Every server watching the config sees every change; this is how one tells a change made through
tuna-lsp (any editor window) from one made by the CLI or a hand edit (`viaEditor`, PROTOCOL.md
section 3). A mark is written, under the config's lock, just before the new file replaces the old,
so a server that sees the new file always finds its mark. Marks are hints, not data: they are
written without fsync, and a lost or unreadable marks file only makes changes look external.
Holds digests only, never file content. Must not import lsprotocol.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)
KEEP = 32


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


class WriteMarks:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> list[str]:
        try:
            with open(self.path, "rb") as f:
                marks = json.loads(f.read(64 * 1024))
        except (OSError, ValueError):
            return []
        if not isinstance(marks, list):
            return []
        return [m for m in marks if isinstance(m, str)]

    def add(self, raw: bytes) -> None:
        """Called with the config's lock held, so writers never lose each other's marks."""
        marks = [digest(raw), *self._read()][:KEEP]
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            try:
                os.write(fd, json.dumps(marks).encode())
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.debug("write mark not recorded (%s): the change will look external", exc)

    def made_by_us(self, raw: bytes | None) -> bool:
        return raw is not None and digest(raw) in self._read()
