"""The seam for every OS difference (storage/platform.py): each other system's path, forced here
by setting the seam's probes and taking away what that system's `os` lacks."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from tuna_lsp import private_path
from tuna_lsp.storage import platform
from tuna_lsp.storage.atomic_file import replace_file, untrusted_link
from tuna_lsp.storage.config_store import ConfigStore, resolve_config_path
from tuna_lsp.storage.file_lock import locked
from tuna_lsp.storage.quiet_read import read_regular
from tuna_lsp.storage.write_marks import WriteMarks

# What Windows' os module does not have (os.fchmod: not before 3.13).
WINDOWS_LACKS = (
    "O_NOFOLLOW",
    "O_CLOEXEC",
    "O_NONBLOCK",
    "O_DIRECTORY",
    "O_NOATIME",
    "pread",
    "geteuid",
    "fchown",
    "fchmod",
)


@pytest.fixture
def windows_like(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The seam's probes as on Windows, `os` without what Windows' lacks, and os.replace failing
    with a sharing violation twice for each file (another server reading it). Returns the
    replaces tried, (source, destination) each."""
    for name in WINDOWS_LACKS:
        monkeypatch.delattr(os, name, raising=False)
        if name.startswith("O_"):
            monkeypatch.setattr(platform, name, 0)
    monkeypatch.setattr(platform, "OWNERS", False)
    monkeypatch.setattr(platform, "DIR_FSYNC", False)
    monkeypatch.setattr(platform, "F_FULLFSYNC", None)
    monkeypatch.setattr(platform, "REPLACE_RETRIES", True)
    monkeypatch.setattr(platform.time, "sleep", lambda s: None)
    tried: list[tuple[str, str]] = []
    real_replace = os.replace

    def sharing_violation(src: Any, dst: Any) -> None:
        tried.append((os.fspath(src), os.fspath(dst)))
        if sum(1 for _, d in tried if d == os.fspath(dst)) % 3:
            raise PermissionError(errno.EACCES, "The process cannot access the file", dst)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", sharing_violation)
    return tried


def test_the_config_is_read_and_written_without_posix_names(
    tmp_path: Path, windows_like: list[tuple[str, str]]
) -> None:
    cfg = tmp_path / "tunacode.json"
    cfg.write_text('{"default_model": "a:b", "env": {"K": "v"}}')
    store = ConfigStore(cfg)
    snap = store.read_once()
    assert snap.valid and snap.default_model == "a:b"
    # Windows says 0o666 of every file: no statement about other users
    assert not snap.exposed_to_others
    _, after = store.set_model("c:d")
    assert after.default_model == "c:d" and store.read_once().default_model == "c:d"
    assert ConfigStore(cfg).read_once().raw == after.raw
    # retried through the sharing violations, never given up
    assert [d for _, d in windows_like].count(str(cfg)) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tunacode.json", "tunacode.json.lock"]


def test_marks_locks_and_private_files_without_posix_names(
    tmp_path: Path, windows_like: list[tuple[str, str]]
) -> None:
    marks = WriteMarks(tmp_path / "state" / "config-writes.log")
    for i in range(400):  # past ROTATE_BYTES: the log is cut back by a rename
        marks.add(b"%d" % i)
    assert marks.made_by_us(b"399") and not marks.made_by_us(b"nope")
    assert any(d == str(marks.path) for _, d in windows_like)
    with locked(tmp_path / "x.lock", timeout=1):
        pass
    private_path.write_private(str(tmp_path / "token"), "secret\n")
    assert read_regular(tmp_path / "token", 100) == b"secret\n"
    assert private_path.private_dir_problem(tmp_path) is None
    replace_file(tmp_path / "f", b"data", 0o600)
    assert (tmp_path / "f").read_bytes() == b"data"


@pytest.mark.posix
def test_links_are_not_judged_by_mode_bits_without_owners(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (the POSIX refusal of such a link: tests/reliability/test_permissions.py)
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # as Windows reports every folder
    (shared / "real.json").write_text("{}")
    (tmp_path / "link.json").symlink_to(shared / "real.json")
    monkeypatch.setattr(platform, "OWNERS", False)
    assert untrusted_link(tmp_path / "link.json") is None


def test_replace_gives_up_after_about_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waited: list[float] = []
    tries = 0

    def always_held(src: Any, dst: Any) -> None:
        nonlocal tries
        tries += 1
        raise PermissionError(errno.EACCES, "The process cannot access the file", dst)

    monkeypatch.setattr(os, "replace", always_held)
    monkeypatch.setattr(platform.time, "sleep", waited.append)
    monkeypatch.setattr(platform, "REPLACE_RETRIES", True)
    with pytest.raises(PermissionError):
        platform.replace(tmp_path / "a", tmp_path / "b")
    assert 0.8 <= sum(waited) <= 1.0 and tries == len(waited) + 1
    # where a held file does not fail a rename (POSIX), a failure is final at once
    monkeypatch.setattr(platform, "REPLACE_RETRIES", False)
    tries = 0
    with pytest.raises(PermissionError):
        platform.replace(tmp_path / "a", tmp_path / "b")
    assert tries == 1


def test_a_failed_replace_leaves_no_temp_file(
    tmp_path: Path, windows_like: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def held(src: Any, dst: Any) -> None:
        raise PermissionError(errno.EACCES, "The process cannot access the file", dst)

    monkeypatch.setattr(os, "replace", held)
    target = tmp_path / "f"
    target.write_text("old")
    with pytest.raises(PermissionError):
        replace_file(target, b"new", 0o600)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f"]


def test_full_fsync_where_the_system_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, int]] = []

    class FakeFcntl:
        @staticmethod
        def fcntl(fd: int, op: int) -> int:
            calls.append(("fcntl", op))
            if op == 51 and calls.count(("fcntl", 51)) > 1:
                raise OSError(errno.ENOTSUP, "not supported here")
            return 0

    real_fsync = os.fsync
    monkeypatch.setattr(platform, "_fcntl", FakeFcntl)
    monkeypatch.setattr(platform, "F_FULLFSYNC", 51)  # macOS's value
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(("fsync", fd)), real_fsync(fd)))
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        platform.fsync(fd)
        assert calls == [("fcntl", 51)]  # F_FULLFSYNC, not fsync
        platform.fsync(fd)  # a file system without it: fsync after all
        assert calls[1:] == [("fcntl", 51), ("fsync", fd)]
    finally:
        os.close(fd)


def test_no_directory_fsync_where_a_directory_cannot_be_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Any] = []
    synced: list[int] = []
    real_open = os.open
    stand_in = tmp_path / "stand-in"  # a file opened in the directory's place (any OS)
    stand_in.write_text("")

    def recorded(path: Any, flags: int, *args: Any) -> int:
        opened.append(path)
        return real_open(stand_in, os.O_RDONLY)

    monkeypatch.setattr(os, "open", recorded)
    monkeypatch.setattr(platform, "fsync", synced.append)
    monkeypatch.setattr(platform, "DIR_FSYNC", True)
    platform.fsync_dir(tmp_path)
    assert opened == [tmp_path] and len(synced) == 1
    monkeypatch.setattr(platform, "DIR_FSYNC", False)
    platform.fsync_dir(tmp_path / "missing")  # never opened: no error
    assert opened == [tmp_path] and len(synced) == 1


def test_pread_without_os_pread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "f").write_bytes(b"0123456789")
    fd = os.open(tmp_path / "f", os.O_RDONLY)
    try:
        assert platform.pread(fd, 4, 3) == b"3456"
        monkeypatch.delattr(os, "pread", raising=False)
        assert platform.pread(fd, 4, 6) == b"6789"
        assert platform.pread(fd, 2, 0) == b"01"
    finally:
        os.close(fd)


def test_the_home_is_tunacodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows: Path.home() is USERPROFILE even where Git Bash or MSYS2 set HOME; the server
    # follows Path.home(), as tunacode does, and never HOME of its own accord
    monkeypatch.setattr(platform, "home", lambda: tmp_path / "profile")
    assert resolve_config_path(None, {"HOME": str(tmp_path / "msys")}) == (
        tmp_path / "profile" / ".config" / "tunacode.json"
    )


def test_no_c_library_is_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes

    def windows_cdll(name: Any, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("expected str, bytes or os.PathLike object, not NoneType")

    monkeypatch.setattr(ctypes, "CDLL", windows_cdll)
    assert platform.libc() is None and platform.libc_function("malloc_trim") is None
    from tuna_lsp.memory import give_back_heap

    give_back_heap()  # nothing to give back to: no error


def test_open_flags_without_the_posix_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    posix = {"O_NOFOLLOW": 0x20000, "O_CLOEXEC": 0x80000, "O_NONBLOCK": 0x800, "O_BINARY": 0}
    for name, value in posix.items():
        monkeypatch.setattr(platform, name, value)
    assert platform.read_flags(nonblock=True) == os.O_RDONLY | 0x80000 | 0x800
    assert platform.write_flags(os.O_CREAT) == os.O_WRONLY | os.O_CREAT | 0x20000 | 0x80000
    for name in ("O_NOFOLLOW", "O_CLOEXEC", "O_NONBLOCK"):
        monkeypatch.setattr(platform, name, 0)
    monkeypatch.setattr(platform, "O_BINARY", 0x8000)  # Windows': never text mode
    assert platform.read_flags(nonblock=True) == os.O_RDONLY | 0x8000
    assert platform.write_flags(os.O_CREAT) == os.O_WRONLY | os.O_CREAT | 0x8000


def test_socket_paths_this_system_cannot_take(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "unix_sockets", lambda: True)
    monkeypatch.setattr(platform, "SOCKET_PATH_MAX", 108)  # Linux
    assert platform.socket_path_problem("/tmp/s") is None
    assert platform.socket_path_problem("/" + "x" * 107) is None  # Linux: 108 bytes fit
    assert "108" in (platform.socket_path_problem("/" + "x" * 108) or "")
    monkeypatch.setattr(platform, "SOCKET_PATH_MAX", 103)  # macOS: sun_path is 104 with its NUL
    assert "103" in (platform.socket_path_problem("/" + "x" * 103) or "")
    monkeypatch.undo()
    monkeypatch.setattr(platform, "WINDOWS", True)
    assert "not supported" in (platform.socket_path_problem("/tmp/s") or "")


@pytest.mark.source
def test_no_platform_test_outside_the_seam() -> None:
    import re

    root = Path(platform.__file__).resolve().parents[1]
    pattern = re.compile(
        r"sys\.platform|os\.name\b|os\.O_(NOFOLLOW|CLOEXEC|NONBLOCK|DIRECTORY|BINARY|NOATIME)"
        r"|os\.(pread|geteuid|fchown|fchmod)\b|CDLL\(None|\bHOME\b"
    )
    found = [
        f"{path.relative_to(root).as_posix()}:{n}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "platform.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line) and not line.lstrip().startswith("#")
    ]
    assert found == [], found


@pytest.mark.posix
def test_case_folding_is_probed_on_the_folder(tmp_path: Path) -> None:
    """A second spelling that reaches the same folder means the file system folds case (here a
    symlink stands in for APFS or NTFS); a folder of its own, or none, means it does not."""
    (tmp_path / "Proj").mkdir()
    assert not platform.folds_case(str(tmp_path / "Proj"))
    (tmp_path / "pROJ").symlink_to(tmp_path / "Proj")
    assert platform.folds_case(str(tmp_path / "Proj"))
    (tmp_path / "Proj" / "2024").mkdir()  # no letters: the probe goes up to Proj
    assert platform.folds_case(str(tmp_path / "Proj" / "2024"))
    assert not platform.folds_case(str(tmp_path / "missing"))
    assert not platform.folds_case("/")
