"""Atomic replacement (storage/atomic_file.py): the new content and mode, or the old file and no
temp file left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from tuna_lsp.storage import atomic_file
from tuna_lsp.storage.atomic_file import replace_file


@pytest.mark.posix
def test_replaces_content_and_sets_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    target.write_text("old")
    old_inode = target.stat().st_ino
    replace_file(target, b"new content", 0o640)
    assert target.read_bytes() == b"new content"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.stat().st_ino != old_inode  # a rename, not an in-place write
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]


@pytest.mark.posix
def test_creates_a_missing_file(tmp_path: Path) -> None:
    replace_file(tmp_path / "new", b"", 0o600, fsync_dir=False)
    assert (tmp_path / "new").read_bytes() == b""
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o600


def test_large_content_is_written_whole(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024)
    replace_file(tmp_path / "big", data, 0o600)
    assert (tmp_path / "big").read_bytes() == data


def test_a_failed_rename_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "d"
    target.mkdir()  # os.replace of a file over a directory fails
    with pytest.raises(OSError):
        replace_file(target, b"x", 0o600)
    assert target.is_dir()
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_a_failed_write_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f"
    target.write_text("old")

    def fail(fd: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_file.os, "write", fail)
    with pytest.raises(OSError, match="No space left"):
        replace_file(target, b"new", 0o600)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_short_writes_are_continued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    sizes: list[int] = []

    def short(fd: int, data: memoryview) -> int:
        sizes.append(len(data))
        return real_write(fd, data[:3])

    monkeypatch.setattr(atomic_file.os, "write", short)
    replace_file(tmp_path / "f", b"0123456789", 0o600)
    assert (tmp_path / "f").read_bytes() == b"0123456789"
    assert sizes == [10, 7, 4, 1]


@pytest.mark.posix
def test_fsyncs_the_file_and_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[bool] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(atomic_file.os, "fsync", fsync)
    replace_file(tmp_path / "f", b"x", 0o600)
    assert synced == [False, True]
    synced.clear()
    replace_file(tmp_path / "f", b"y", 0o600, fsync_dir=False)
    assert synced == [False]


def test_the_temp_file_is_a_hidden_sibling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the config store sweeps ".<name>.*.tmp" left by a writer that died: the name must match
    renamed: list[tuple[str, str]] = []
    real_replace = os.replace

    def replace(src: str, dst: Path) -> None:
        renamed.append((src, str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(atomic_file.os, "replace", replace)
    target = tmp_path / "tunacode.json"
    replace_file(target, b"{}", 0o600)
    ((src, dst),) = renamed
    assert Path(src).parent == tmp_path
    assert Path(src).name.startswith(".tunacode.json.") and src.endswith(".tmp")
    assert dst == str(target)
