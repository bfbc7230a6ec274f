"""The write marks log: shared by every server of the user, of this version or another."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
from pathlib import Path

import pytest
from tuna_lsp.storage.write_marks import KEEP, ROTATE_BYTES, WriteMarks, digest


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


# ---- the log on disk ------------------------------------------------------------------------


def marks_of(count: int, start: int = 0) -> list[bytes]:
    return [b"config %d" % i for i in range(start, start + count)]


def test_a_mark_is_one_line_appended(tmp_path: Path) -> None:
    log = tmp_path / "config-writes.log"
    marks = WriteMarks(log)
    marks.add(b"a")
    marks.add(b"b")
    assert log.read_text() == digest(b"a") + "\n" + digest(b"b") + "\n"


@pytest.mark.posix
def test_the_state_dir_is_made_private_and_the_log_too(tmp_path: Path) -> None:
    log = tmp_path / "state" / "tuna" / "config-writes.log"
    WriteMarks(log).add(b"x")
    assert log.parent.stat().st_mode & 0o777 == 0o700
    assert log.stat().st_mode & 0o777 == 0o600


def test_no_log_and_no_content_are_no_mark(tmp_path: Path) -> None:
    marks = WriteMarks(tmp_path / "config-writes.log")
    assert not marks.made_by_us(b"x")
    marks.add(b"")
    assert not marks.made_by_us(None)
    assert marks.made_by_us(b"")


def test_a_torn_line_is_no_mark(tmp_path: Path) -> None:
    log = tmp_path / "config-writes.log"
    log.write_text(digest(b"x")[:40])
    assert not WriteMarks(log).made_by_us(b"x")


def test_only_a_whole_line_equal_to_the_digest_is_a_mark(tmp_path: Path) -> None:
    log = tmp_path / "config-writes.log"
    log.write_text(f"{digest(b'x')} trailing\n\t{digest(b'y')}\n")
    assert not WriteMarks(log).made_by_us(b"x")
    assert not WriteMarks(log).made_by_us(b"y")


def test_the_log_is_cut_back_to_the_newest_marks_past_16_kib(tmp_path: Path) -> None:
    log = tmp_path / "config-writes.log"
    log.write_bytes(b"bad\n")  # 4 bytes: 252 marks of 65 bytes bring it to 16 KiB exactly
    marks = WriteMarks(log)
    for raw in marks_of(252):
        marks.add(raw)
    assert log.stat().st_size == ROTATE_BYTES == 16 * 1024  # not past it: kept whole
    marks.add(b"one more")
    newest = [*marks_of(KEEP - 1, start=252 - KEEP + 1), b"one more"]
    assert log.read_text() == "".join(digest(raw) + "\n" for raw in newest)  # oldest first
    assert log.stat().st_size == KEEP * 65
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config-writes.log"]  # no temp file
    assert WriteMarks(log).made_by_us(b"one more")
    assert WriteMarks(log).made_by_us(newest[0])
    assert not WriteMarks(log).made_by_us(b"config %d" % (252 - KEEP))


@pytest.mark.posix
def test_the_log_cut_back_stays_private(tmp_path: Path) -> None:
    log = tmp_path / "config-writes.log"
    marks = WriteMarks(log)
    for raw in marks_of(ROTATE_BYTES // 65 + 1):
        marks.add(raw)
    assert log.stat().st_size == KEEP * 65
    assert log.stat().st_mode & 0o777 == 0o600


def test_the_newest_32_marks_count(tmp_path: Path) -> None:
    assert KEEP == 32
    log = tmp_path / "config-writes.log"
    marks = WriteMarks(log)
    marks.add(b"first")
    for raw in marks_of(KEEP - 1):
        marks.add(raw)
    assert marks.made_by_us(b"first")  # the 32nd newest


def test_a_state_dir_removed_is_made_again_by_the_next_mark(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    marks = WriteMarks(state / "config-writes.log")
    marks.add(b"a")
    shutil.rmtree(state)
    with caplog.at_level(logging.DEBUG, logger="tuna_lsp.storage.write_marks"):
        marks.add(b"b")  # the mark is lost: the change will look external
        marks.add(b"c")
    assert marks.made_by_us(b"c")
    messages = [r.getMessage() for r in caplog.records if r.name == "tuna_lsp.storage.write_marks"]
    assert len(messages) == 1
    assert messages[0].startswith("write mark not recorded (")
    assert messages[0].endswith("): the change will look external")
    assert str(state / "config-writes.log") in messages[0]  # the error, with its path


def test_a_directory_at_the_log_path_is_no_mark_and_no_error(tmp_path: Path) -> None:
    log = tmp_path / "config-writes.log"
    log.mkdir()
    marks = WriteMarks(log)
    marks.add(b"x")
    assert not marks.made_by_us(b"x")
    assert list(log.iterdir()) == []


@pytest.mark.posix
def test_a_fifo_at_the_log_path_is_never_waited_on(tmp_path: Path) -> None:
    log = tmp_path / "config-writes.log"
    os.mkfifo(log)
    marks = WriteMarks(log)
    marks.add(b"x")  # no reader: an error at once, not a wait
    assert not marks.made_by_us(b"x")  # no writer: read at once, nothing there
    assert stat.S_ISFIFO(os.lstat(log).st_mode)
