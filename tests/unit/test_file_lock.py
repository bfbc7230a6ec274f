"""The lock every writer of a shared file takes (storage/file_lock.py), on real files and real
threads: it excludes filelock's FileLock and itself, waits and times out as asked, never follows
a link planted at the lock path, and locks the file the path names when the lock file is
replaced while it waits."""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import filelock
import pytest
from filelock import FileLock, lock_descriptor
from tuna_lsp.storage import file_lock, platform
from tuna_lsp.storage.file_lock import (
    POLL_S,
    LockFileError,
    LockTimeout,
    lock_beside,
    locked,
)

PROC_FDS = Path("/proc/self/fd")


@pytest.mark.posix
def test_excludes_filelock_both_ways(tmp_path: Path) -> None:
    path = tmp_path / "c.json.lock"
    with locked(path, timeout=0):  # made private
        pass
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    with FileLock(str(path)):
        with pytest.raises(LockTimeout) as err, locked(path, timeout=0):
            pass
        assert str(err.value) == f"{path} was held by another writer for more than 0 s"
    with locked(path, timeout=0), pytest.raises(TimeoutError):
        FileLock(str(path), timeout=0).acquire()
    with FileLock(str(path), timeout=0):  # released on leaving the block
        pass


def test_waits_for_a_short_hold_and_gives_up_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "l.lock"
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with locked(path, timeout=1):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(5)
    start = time.monotonic()
    with pytest.raises(LockTimeout), locked(path, timeout=0.1):
        pass
    assert 0.1 <= time.monotonic() - start < 2
    threading.Timer(0.05, release.set).start()
    with locked(path, timeout=5):
        assert not thread.is_alive() or release.is_set()
    thread.join(5)


def test_the_block_failing_releases_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "l.lock"
    with pytest.raises(ValueError), locked(path, timeout=0):
        raise ValueError("boom")
    with locked(path, timeout=0):
        pass


@pytest.mark.posix
def test_a_link_at_the_lock_path_is_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.json"
    victim.write_text('{"keep": true}')
    os.chmod(victim, 0o600)
    link = tmp_path / "c.json.lock"
    link.symlink_to(victim)
    with pytest.raises(LockFileError) as err, locked(link, timeout=0):
        pass
    assert err.value.filename == str(link)
    assert victim.read_text() == '{"keep": true}'
    assert victim.stat().st_mode & 0o777 == 0o600


def test_a_lock_path_that_is_a_directory(tmp_path: Path) -> None:
    path = tmp_path / "l.lock"
    path.mkdir()
    with pytest.raises(LockFileError) as err, locked(path, timeout=0):
        pass
    assert err.value.strerror == "Is a directory"
    assert err.value.errno == errno.EISDIR


def test_a_lock_file_replaced_while_waiting_is_not_a_way_in(tmp_path: Path) -> None:
    """A holder replaces the lock file and keeps holding the new one: the waiter, woken by the
    old file's release, must see that the path names another file and wait on that one."""
    path = tmp_path / "l.lock"
    holding_new, release_new = threading.Event(), threading.Event()
    entered = threading.Event()

    def holder() -> None:  # as another process would, on descriptors of its own
        old = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        assert lock_descriptor(old, blocking=False)
        waiter.start()
        time.sleep(0.05)  # the waiter is polling the old file by now (or will find the new one)
        replacement = tmp_path / "new.lock"
        new = os.open(replacement, os.O_RDWR | os.O_CREAT, 0o600)
        assert lock_descriptor(new, blocking=False)
        os.replace(replacement, path)
        os.close(old)  # releases the old file's lock
        holding_new.set()
        release_new.wait(5)
        os.close(new)

    def wait() -> None:
        with locked(path, timeout=5):
            entered.set()

    waiter = threading.Thread(target=wait)
    thread = threading.Thread(target=holder)
    thread.start()
    assert holding_new.wait(5)
    assert not entered.wait(0.2), "the waiter got in while the new lock file was held"
    release_new.set()
    assert entered.wait(5)
    thread.join(5)
    waiter.join(5)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root gives files away (CI runs as root)")
def test_as_root_a_lock_file_gets_its_directorys_owner(tmp_path: Path) -> None:
    """A server run as root must not leave a lock file the user's own servers cannot open: every
    lock (the config's, the preferences', the history's, the catalog index's) gets its
    directory's owner, once."""
    folder = tmp_path / "user"
    folder.mkdir()
    os.chown(folder, 12345, 23456)
    path = folder / "preferences.toml.lock"
    with locked(path, timeout=0):
        pass
    first = path.lstat()
    assert (first.st_uid, first.st_gid) == (12345, 23456)
    with locked(path, timeout=0):
        pass
    assert path.lstat().st_ctime_ns == first.st_ctime_ns  # not chowned again


# ---- without waiting: a clock of the test's own ---------------------------------------------


class Clock:
    """file_lock's `time`: monotonic time moves only when the lock sleeps."""

    def __init__(self, on_sleep: Callable[[int], None] | None = None) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(len(self.sleeps))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(file_lock, "time", c)
    return c


def hold(path: Path) -> int:
    """A descriptor of its own holding the lock, as another process would."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    assert lock_descriptor(fd, blocking=False)
    return fd


def test_the_lock_file_of_a_shared_file_is_beside_it() -> None:
    assert lock_beside(Path("/home/u/.config/tunacode.json")) == Path(
        "/home/u/.config/tunacode.json.lock"
    )


def test_the_timeout_says_the_path_and_the_seconds() -> None:
    err = LockTimeout(Path("/s/history.jsonl.lock"), 0.25)
    assert isinstance(err, TimeoutError)
    assert str(err) == "/s/history.jsonl.lock was held by another writer for more than 0.25 s"
    assert (err.path, err.timeout) == (Path("/s/history.jsonl.lock"), 0.25)
    assert str(LockTimeout(Path("l"), 1.0)) == "l was held by another writer for more than 1 s"
    assert issubclass(LockFileError, OSError)


def test_a_free_lock_is_taken_without_sleeping(tmp_path: Path, clock: Clock) -> None:
    with locked(tmp_path / "l.lock", timeout=5):
        pass
    assert clock.sleeps == []


def test_timeout_zero_tries_once_and_never_sleeps(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "l.lock"
    fd = hold(path)
    try:
        with pytest.raises(LockTimeout) as err, locked(path, timeout=0):
            pass
        assert err.value.timeout == 0
    finally:
        os.close(fd)
    assert clock.sleeps == []


def test_a_held_lock_is_polled_until_the_timeout(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "l.lock"
    fd = hold(path)
    try:
        with pytest.raises(LockTimeout), locked(path, timeout=1.0, poll=0.25):
            pass
        assert clock.sleeps == [0.25] * 4  # tried at 0, 0.25, 0.5, 0.75 and 1.0 s
        clock.sleeps.clear()
        clock.now = 0.0  # 0.002 + 0.002 is 0.004 exactly from 0
        with pytest.raises(LockTimeout), locked(path, timeout=0.004):
            pass
        assert clock.sleeps == [POLL_S] * 2
    finally:
        os.close(fd)
    assert POLL_S == 0.002


def test_a_lock_released_while_polling_is_taken(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "l.lock"
    fd = hold(path)
    clock.on_sleep = lambda n: os.close(fd) if n == 2 else None
    other = os.open(path, os.O_RDWR)
    try:
        with locked(path, timeout=1.0, poll=0.25):
            assert not lock_descriptor(other, blocking=False)  # held by this block now
    finally:
        os.close(other)
    assert clock.sleeps == [0.25, 0.25]


def test_a_lock_file_removed_once_locked_is_made_again_and_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "l.lock"
    removed: list[int] = []
    real = filelock.lock_descriptor

    def lock_then_remove(fd: int, *, blocking: bool = True) -> bool:
        got = real(fd, blocking=blocking)
        if not removed:  # another writer removes the file just after this one locks it
            removed.append(os.stat(path).st_ino)
            path.unlink()
        return got

    monkeypatch.setattr(filelock, "lock_descriptor", lock_then_remove)
    with locked(path, timeout=0):
        assert path.exists()
        monkeypatch.setattr(filelock, "lock_descriptor", real)
        with pytest.raises(LockTimeout), locked(path, timeout=0):  # the new file is held
            pass
    assert len(removed) == 1


@pytest.mark.skipif(not PROC_FDS.is_dir(), reason="counts descriptors in /proc")
def test_a_lock_path_made_a_directory_while_locking_is_an_error_and_no_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "l.lock"
    real = filelock.lock_descriptor

    def lock_then_replace(fd: int, *, blocking: bool = True) -> bool:
        got = real(fd, blocking=blocking)
        path.unlink()
        path.mkdir()
        return got

    monkeypatch.setattr(filelock, "lock_descriptor", lock_then_replace)
    before = len(os.listdir(PROC_FDS))
    with pytest.raises(LockFileError) as err, locked(path, timeout=0):
        pass
    assert err.value.filename == str(path)
    assert len(os.listdir(PROC_FDS)) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="only root gives files away (CI runs as root)")
def test_not_as_root_a_lock_file_is_the_makers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    os.chown(folder, 12345, 23456)
    monkeypatch.setattr(platform, "is_root", lambda: False)
    path = folder / "tunacode.json.lock"
    with locked(path, timeout=0):
        pass
    assert (path.lstat().st_uid, path.lstat().st_gid) == (os.geteuid(), os.getegid())


@pytest.mark.skipif(os.geteuid() != 0, reason="only root gives files away (CI runs as root)")
def test_as_root_a_lock_file_already_the_directorys_owners_is_not_chowned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chowned: list[object] = []
    monkeypatch.setattr(platform, "chown_path", lambda *a: chowned.append(a))
    with locked(tmp_path / "l.lock", timeout=0):
        pass
    assert chowned == []
    folder = tmp_path / "user"
    folder.mkdir()
    os.chown(folder, os.geteuid(), 23456)  # the group alone differs
    with locked(folder / "l.lock", timeout=0):
        pass
    assert chowned == [(folder / "l.lock", os.geteuid(), 23456)]


@pytest.mark.posix
def test_a_link_put_at_the_lock_path_while_locking_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once locked, the path is checked without following a link: a link to the locked file put
    there in between is not that file, and the lock is tried again on the path, refused."""
    path = tmp_path / "l.lock"
    real = filelock.lock_descriptor

    def lock_then_link(fd: int, *, blocking: bool = True) -> bool:
        got = real(fd, blocking=blocking)
        if not path.is_symlink():
            moved = tmp_path / "moved.lock"
            path.rename(moved)
            path.symlink_to(moved)
        return got

    monkeypatch.setattr(filelock, "lock_descriptor", lock_then_link)
    with pytest.raises(LockFileError) as err, locked(path, timeout=0):
        pass
    assert err.value.errno == errno.ELOOP


@pytest.mark.skipif(not PROC_FDS.is_dir(), reason="finds the descriptor in /proc")
def test_the_locks_descriptor_is_not_inherited_by_a_child(tmp_path: Path) -> None:
    path = tmp_path / "l.lock"
    with locked(path, timeout=0):
        fds = [
            int(name)
            for name in os.listdir(PROC_FDS)
            if os.path.realpath(PROC_FDS / name) == str(path)
        ]
        assert len(fds) == 1
        assert not os.get_inheritable(fds[0])


@pytest.mark.skipif(os.geteuid() != 0, reason="only root gives files away (CI runs as root)")
def test_as_root_a_lock_file_that_cannot_be_given_away_is_still_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(platform, "chown_path", refuse)
    folder = tmp_path / "user"
    folder.mkdir()
    os.chown(folder, 12345, 23456)
    path = folder / "l.lock"
    with locked(path, timeout=0):
        other = os.open(path, os.O_RDWR)
        try:
            assert not lock_descriptor(other, blocking=False)  # held
        finally:
            os.close(other)
    assert path.lstat().st_uid == 0
