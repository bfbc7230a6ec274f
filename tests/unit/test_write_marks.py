"""The write marks log: shared by every server of the user, of this version or another."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tuna_lsp.storage.write_marks import KEEP, WriteMarks, digest


def test_a_mark_is_the_files_sha256_in_hex() -> None:
    # Servers of other versions read and write the same log: the digest must stay SHA-256 hex,
    # whichever implementation computes it.
    for raw in (b"", b'{"default_model": "openai:gpt-4.1"}', bytes(range(256)) * 40):
        assert digest(raw) == hashlib.sha256(raw).hexdigest()


def test_a_mark_is_seen_by_every_server_and_old_ones_age_out(tmp_path: Path) -> None:
    log = tmp_path / "state" / "config-writes.log"
    mine, other = WriteMarks(log), WriteMarks(log)
    first = b'{"default_model": "openai:o3"}'
    mine.add(first)
    assert other.made_by_us(first) and not other.made_by_us(first + b"\n")
    for i in range(KEEP + 1):
        other.add(b"%d" % i)
    assert not mine.made_by_us(first)  # only the newest marks count
    assert mine.made_by_us(b"%d" % KEEP)
