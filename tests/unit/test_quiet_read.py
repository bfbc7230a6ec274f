"""Reading without writing (storage/quiet_read.py), on real files: no access-time update where the
kernel allows it, never a wait on a FIFO, and a limit on what is read."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tuna_lsp.storage import platform
from tuna_lsp.storage.quiet_read import TooLarge, open_to_read, read_regular, read_to_end

fcntl = pytest.importorskip("fcntl") if os.name == "posix" else None
PROC_FDS = Path("/proc/self/fd")


def open_fds() -> int:
    return len(os.listdir(PROC_FDS))


def status_flags(fd: int) -> int:
    assert fcntl is not None
    flags: int = fcntl.fcntl(fd, fcntl.F_GETFL)
    return flags


@pytest.fixture
def file(tmp_path: Path) -> Path:
    path = tmp_path / "tunacode.json"
    path.write_bytes(b'{"default_model": "openai:o3"}')
    return path


def recording_open(monkeypatch: pytest.MonkeyPatch, refuse: Callable[[int], bool]) -> list[int]:
    """os.open, as quiet_read calls it, recording the flags of each call and refusing (EPERM)
    those `refuse` says."""
    calls: list[int] = []
    real = os.open

    def fake(path: Any, flags: int, *args: Any) -> int:
        calls.append(flags)
        if refuse(flags):
            raise PermissionError(errno.EPERM, "Operation not permitted", str(path))
        return real(path, flags, *args)

    monkeypatch.setattr(os, "open", fake)
    return calls


# ---- open_to_read -----------------------------------------------------------------------------


@pytest.mark.skipif(not platform.O_NOATIME, reason="O_NOATIME is Linux's")
def test_the_owner_opens_without_access_time_updates(file: Path) -> None:
    fd = open_to_read(file)
    try:
        flags = status_flags(fd)
        assert flags & platform.O_NOATIME
        assert flags & os.O_ACCMODE == os.O_RDONLY
        assert not flags & os.O_NONBLOCK
        assert not os.get_inheritable(fd)  # close-on-exec
        assert os.read(fd, 100) == b'{"default_model": "openai:o3"}'
    finally:
        os.close(fd)


@pytest.mark.skipif(not platform.O_NOATIME, reason="O_NOATIME is Linux's")
def test_reading_leaves_the_access_time_alone(file: Path) -> None:
    st = file.stat()
    os.utime(file, ns=(st.st_mtime_ns - 10**12, st.st_mtime_ns))  # read before the last change
    fd = open_to_read(file)
    try:
        assert os.read(fd, 100)
    finally:
        os.close(fd)
    assert file.stat().st_atime_ns == st.st_mtime_ns - 10**12


@pytest.mark.posix
def test_nonblock_is_asked_for_and_extra_flags_are_kept(file: Path, tmp_path: Path) -> None:
    fd = open_to_read(file, nonblock=True)
    try:
        assert status_flags(fd) & os.O_NONBLOCK
    finally:
        os.close(fd)
    link = tmp_path / "link.json"
    link.symlink_to(file)
    with pytest.raises(OSError) as err:
        open_to_read(link, platform.O_NOFOLLOW)
    assert err.value.errno == errno.ELOOP
    fd = open_to_read(link)  # without the flag, the link is followed
    os.close(fd)


@pytest.mark.posix
def test_a_fifo_is_opened_at_once_with_nonblock(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    fd = open_to_read(fifo, nonblock=True)  # would wait for a writer without O_NONBLOCK
    os.close(fd)


@pytest.mark.skipif(not platform.O_NOATIME, reason="O_NOATIME is Linux's")
def test_not_the_owner_opens_plainly(file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = recording_open(monkeypatch, lambda flags: bool(flags & platform.O_NOATIME))
    fd = open_to_read(file)
    try:
        assert os.read(fd, 100) == b'{"default_model": "openai:o3"}'
    finally:
        os.close(fd)
    assert len(calls) == 2
    assert calls[0] & platform.O_NOATIME and not calls[1] & platform.O_NOATIME
    assert calls[0] & ~platform.O_NOATIME == calls[1] == platform.read_flags()


def test_a_file_no_one_may_read_raises_permission_error(
    file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = recording_open(monkeypatch, lambda flags: True)
    with pytest.raises(PermissionError):
        open_to_read(file, nonblock=True)
    assert calls[-1] == platform.read_flags(nonblock=True)
    assert len(calls) == (2 if platform.O_NOATIME else 1)


def test_without_o_noatime_one_plain_open(file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "O_NOATIME", 0)
    calls = recording_open(monkeypatch, lambda flags: False)
    os.close(open_to_read(file))
    assert calls == [platform.read_flags()]


def test_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_to_read(tmp_path / "missing")


# ---- TooLarge, read_to_end ----------------------------------------------------------------


def test_too_large_says_the_limit_and_the_path() -> None:
    exc = TooLarge(Path("/home/u/.config/tunacode.json"), 4096, 5000)
    assert isinstance(exc, OSError)
    assert (exc.errno, exc.strerror, exc.filename) == (
        errno.EFBIG,
        "larger than 4096 bytes",
        "/home/u/.config/tunacode.json",
    )
    assert exc.size == 5000
    assert (
        str(exc) == f"[Errno {errno.EFBIG}] larger than 4096 bytes: '/home/u/.config/tunacode.json'"
    )


def read_file(path: Path, size_hint: int, limit: int) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return read_to_end(fd, path, size_hint, limit)
    finally:
        os.close(fd)


def test_a_file_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_file(path, 100, 100) == b"x" * 100
    assert read_file(path, 0, 100) == b"x" * 100


def test_a_size_past_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(TooLarge) as err:
        read_to_end(-1, "big.json", 101, 100)  # a bad descriptor: never read
    assert err.value.size == 101
    assert err.value.filename == "big.json"
    assert err.value.strerror == "larger than 100 bytes"


def test_a_file_that_grew_past_the_limit_is_refused_at_one_byte_over(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 5000)
    with pytest.raises(TooLarge) as err:
        read_file(path, 10, 100)  # it had 10 bytes when its size was taken
    assert err.value.size == 101
    assert (err.value.strerror, err.value.filename) == ("larger than 100 bytes", str(path))
    with pytest.raises(TooLarge) as err:
        read_file(path, 0, 4999)
    assert err.value.size == 5000


def test_reads_ask_for_the_files_size_at_least_4_kib_never_past_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    real = os.read

    def read(fd: int, n: int) -> bytes:
        asked.append(n)
        return real(fd, n)

    path = tmp_path / "f"
    path.write_bytes(b"y" * 10_000)
    fd = os.open(path, os.O_RDONLY)
    monkeypatch.setattr(os, "read", read)
    try:
        assert read_to_end(fd, path, 10_000, 4 * 1024 * 1024) == b"y" * 10_000
        os.lseek(fd, 0, os.SEEK_SET)
        assert asked == [10_001, 10_001]  # the whole file, then the end
        asked.clear()
        assert read_to_end(fd, path, 300, 4 * 1024 * 1024) == b"y" * 10_000
        assert asked == [4096, 4096, 4096, 4096]
        asked.clear()
        os.lseek(fd, 0, os.SEEK_SET)
        with pytest.raises(TooLarge):
            read_to_end(fd, path, 9_000, 9_500)
        assert asked == [9_001, 500]
    finally:
        monkeypatch.undo()
        os.close(fd)


@given(st.binary(max_size=3000), st.integers(0, 3000), st.integers(0, 3000))
def test_read_to_end_gives_all_of_a_stream_up_to_the_limit(
    data: bytes, hint: int, limit: int
) -> None:
    r, w = os.pipe()
    try:
        os.write(w, data)
        os.close(w)
        w = -1
        if hint > limit:
            with pytest.raises(TooLarge) as err:
                read_to_end(r, "p", hint, limit)
            assert err.value.size == hint
        elif len(data) > limit:
            with pytest.raises(TooLarge) as err:
                read_to_end(r, "p", hint, limit)
            assert err.value.size == limit + 1
        else:
            assert read_to_end(r, "p", hint, limit) == data
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


# ---- read_regular -------------------------------------------------------------------------


def test_a_regular_file_is_read_whole(file: Path) -> None:
    assert read_regular(file, 1024) == b'{"default_model": "openai:o3"}'
    assert read_regular(str(file), 30) == b'{"default_model": "openai:o3"}'  # exactly the limit


def test_a_regular_file_past_the_limit_is_too_large(file: Path) -> None:
    with pytest.raises(TooLarge) as err:
        read_regular(file, 29)
    assert err.value.size == 30
    assert err.value.filename == str(file)


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing.json", 10)


def test_a_directory_is_not_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(OSError) as err:
        read_regular(tmp_path, 10)
    assert (err.value.errno, err.value.strerror, err.value.filename) == (
        errno.EINVAL,
        "not a regular file",
        str(tmp_path),
    )


@pytest.mark.posix
def test_a_fifo_is_not_a_regular_file_and_is_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "tunacode.json"
    os.mkfifo(fifo)
    with pytest.raises(OSError) as err:
        read_regular(fifo, 10)
    assert (err.value.errno, err.value.strerror) == (errno.EINVAL, "not a regular file")


@pytest.mark.skipif(not PROC_FDS.is_dir(), reason="counts descriptors in /proc")
def test_no_descriptor_is_left_open(file: Path, tmp_path: Path) -> None:
    before = open_fds()
    read_regular(file, 100)
    for path, limit in ((tmp_path, 100), (file, 5)):
        with pytest.raises(OSError):
            read_regular(path, limit)
    assert open_fds() == before
