"""The lock every writer of a shared file takes (storage/file_lock.py), on real files and real
threads: it excludes filelock's FileLock and itself, waits and times out as asked, never follows
a link planted at the lock path, and locks the file the path names when the lock file is
replaced while it waits."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from filelock import FileLock, lock_descriptor
from tuna_lsp.storage.file_lock import LockFileError, LockTimeout, locked


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
