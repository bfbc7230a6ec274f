"""The shared config store (storage/config_store.py) on real files: locating the file, reading
(with the settle loop for in-place writers), validating, and set_model's write with its errors
by reason. The file is never left half-written, and an invalid one is never overwritten."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from tuna_lsp.storage.config_store import (
    RECENT_LIMIT,
    SETTLE_STEP_S,
    ConfigError,
    ConfigStore,
    render,
    resolve_config_path,
    validate,
    with_model,
)


def write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=4))
    return path


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return tmp_path / "tunacode.json"


# ---- locating --------------------------------------------------------------------------------


def test_init_option_then_env_then_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    env = {"TUNACODE_CONFIG": str(tmp_path / "env.json")}
    assert resolve_config_path(str(tmp_path / "init.json"), env) == tmp_path / "init.json"
    assert resolve_config_path(None, env) == tmp_path / "env.json"
    assert resolve_config_path("", env) == tmp_path / "env.json"
    assert resolve_config_path(None, {}) == tmp_path / "h" / ".config" / "tunacode.json"
    assert resolve_config_path(None, {"HOME": "/x"}, home=str(tmp_path)) == (
        tmp_path / ".config" / "tunacode.json"
    )


def test_paths_are_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_config_path("rel.json", {}) == tmp_path / "rel.json"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_config_path("~/c.json", {}) == tmp_path / "home" / "c.json"
    assert resolve_config_path(None, {}) == tmp_path / "home" / ".config" / "tunacode.json"


# ---- validating and reading -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "the top level must be a JSON object, got a list"),
        ("x", "the top level must be a JSON object, got a string"),
        ({"default_model": None}, "default_model must be a non-empty string, got null"),
        ({"default_model": "  "}, "default_model must be a non-empty string, got a string"),
        ({"default_model": 1.5}, "default_model must be a non-empty string, got a number"),
        ({"recent_models": {}}, "recent_models must be a list of model strings, got an object"),
        (
            {"recent_models": ["a:b", ""]},
            "recent_models[1] must be a non-empty string, got a string",
        ),
        ({"recent_models": [True]}, "recent_models[0] must be a non-empty string, got a boolean"),
        (
            {"env": "k"},
            "env must be an object of environment variable names to strings, got a string",
        ),
    ],
)
def test_validate(data: object, problem: str) -> None:
    assert validate(data) == problem


def test_validate_accepts_what_the_cli_accepts() -> None:
    assert validate({}) is None
    assert validate({"default_model": "a:b", "recent_models": [], "env": {}, "x": [1]}) is None


def test_read_a_missing_file(cfg: Path) -> None:
    snap = ConfigStore(cfg).read()
    assert (snap.exists, snap.valid, snap.data, snap.default_model, snap.recent_models) == (
        False,
        True,
        None,
        None,
        [],
    )


@pytest.mark.posix
def test_read_a_valid_file(cfg: Path) -> None:
    write(cfg, {"default_model": " openai:o3 ", "recent_models": ["a:b", " c:d"],
                "env": {"OPENAI_API_KEY": "sk", "EMPTY": " "}})  # fmt: skip
    os.chmod(cfg, 0o644)
    snap = ConfigStore(cfg).read()
    assert snap.valid and snap.exists
    assert snap.default_model == "openai:o3"
    assert snap.recent_models == ["a:b", "c:d"]
    assert snap.env_has("OPENAI_API_KEY") and not snap.env_has("EMPTY") and not snap.env_has("X")
    assert snap.holds_keys
    assert snap.exposed_to_others
    assert stat.S_IMODE(snap.mode or 0) == 0o644
    assert snap.raw == cfg.read_bytes()
    os.chmod(cfg, 0o600)
    assert not ConfigStore(cfg).read().exposed_to_others


def test_keys_need_a_non_empty_string(cfg: Path) -> None:
    write(cfg, {"env": {"A": " ", "B": 1}})
    snap = ConfigStore(cfg).read()
    assert not snap.holds_keys
    write(cfg, {"env": []})
    assert not ConfigStore(cfg).read().holds_keys


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        ("", "the file is empty"),
        ("  \n", "the file is empty"),
        ("{", "invalid JSON (Expecting property name enclosed in double quotes"),
        ('{"default_model": 1}', "default_model must be a non-empty string, got a number"),
    ],
)
def test_read_an_invalid_file(cfg: Path, content: str, cause: str) -> None:
    write(cfg, content)
    slept: list[float] = []
    snap = ConfigStore(cfg).read(settle=0.05, sleep=slept.append)
    assert snap.exists and not snap.valid and snap.data is None
    assert snap.error is not None and snap.error.reason == "invalid-config"
    assert snap.error.cause.startswith(cause)
    assert str(snap.error) == f"{cfg}: {snap.error.cause}"
    assert slept and all(s == SETTLE_STEP_S for s in slept)  # it waited for a writer to finish


def test_read_waits_for_an_in_place_writer(cfg: Path) -> None:
    write(cfg, "")  # tunacode truncates, then writes
    calls: list[float] = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) == 2:
            write(cfg, {"default_model": "openai:o3"})

    snap = ConfigStore(cfg).read(settle=5.0, sleep=sleep)
    assert snap.valid and snap.default_model == "openai:o3"
    assert len(calls) == 2


def test_read_does_not_wait_on_a_valid_or_unreadable_file(cfg: Path) -> None:
    def never(_: float) -> None:
        raise AssertionError("slept")

    write(cfg, {})
    assert ConfigStore(cfg).read(sleep=never).valid
    cfg.unlink()
    cfg.mkdir()
    snap = ConfigStore(cfg).read_once()
    assert snap.error is not None
    assert (snap.error.reason, snap.error.cause) == (
        "invalid-config",
        "the path is a directory, not a regular file",
    )


@pytest.mark.posix
def test_read_unreadable_file_is_permission_denied(cfg: Path) -> None:
    if os.geteuid() == 0:
        # root reads anything: a file in a directory that is not a directory makes the error
        store = ConfigStore(write(cfg, "{}") / "x.json")
        snap = store.read()
        assert snap.error is not None and snap.error.reason == "io-error"
        assert snap.error.cause.startswith("reading failed: ")
        return
    write(cfg, "{}")
    os.chmod(cfg, 0)
    snap = ConfigStore(cfg).read()
    assert snap.error is not None
    assert (snap.error.reason, snap.error.cause) == (
        "permission-denied",
        "permission denied reading",
    )


# ---- the pure parts of a write --------------------------------------------------------------


def test_with_model_sets_default_and_moves_it_first() -> None:
    data = {
        "x": 1,
        "default_model": "a:old",
        "recent_models": ["b:1", " c:2", "a:new", "b:1", 3, ""],
        "y": 2,
    }
    out = with_model(data, "a:new")
    assert out == {
        "x": 1,
        "default_model": "a:new",
        "recent_models": ["a:new", "b:1", "c:2"],
        "y": 2,
    }
    assert list(out) == ["x", "default_model", "recent_models", "y"]
    assert data["recent_models"][0] == "b:1"  # a copy: the input is untouched
    assert with_model({}, "a:b") == {"default_model": "a:b", "recent_models": ["a:b"]}
    assert with_model({"recent_models": "junk"}, "a:b")["recent_models"] == ["a:b"]


def test_with_model_keeps_at_most_the_recent_limit() -> None:
    many = [f"p:m{i}" for i in range(20)]
    out = with_model({"recent_models": many}, "p:new")
    assert out["recent_models"] == ["p:new", *many[: RECENT_LIMIT - 1]]
    assert len(out["recent_models"]) == RECENT_LIMIT == 8


def test_render_is_what_tunacode_writes() -> None:
    assert (
        render({"a": [1], "é": "ü"})
        == b'{\n    "a": [\n        1\n    ],\n    "\\u00e9": "\\u00fc"\n}'
    )


# ---- set_model ---------------------------------------------------------------------------------


@pytest.mark.posix
def test_set_model_creates_the_file_private(tmp_path: Path) -> None:
    cfg = tmp_path / "new" / "dir" / "tunacode.json"
    before, after = ConfigStore(cfg).set_model("openai:o3")
    assert not before.exists
    assert json.loads(cfg.read_text()) == {
        "default_model": "openai:o3",
        "recent_models": ["openai:o3"],
    }
    assert after.data == json.loads(cfg.read_text())
    assert after.raw == cfg.read_bytes()
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    assert stat.S_IMODE(cfg.parent.stat().st_mode) == 0o700
    assert [p.name for p in cfg.parent.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.posix
def test_set_model_keeps_everything_else_and_the_mode(cfg: Path) -> None:
    write(cfg, {"env": {"K": "v"}, "default_model": "a:b", "settings": {"theme": "x"}})
    os.chmod(cfg, 0o640)
    before, after = ConfigStore(cfg).set_model("c:d")
    assert before.default_model == "a:b" and after.default_model == "c:d"
    saved = json.loads(cfg.read_text())
    assert list(saved) == ["env", "default_model", "settings", "recent_models"]
    assert saved["env"] == {"K": "v"} and saved["settings"] == {"theme": "x"}
    assert cfg.read_bytes() == render(saved)
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o640
    # the snapshot after the write is what a read of the file gives: its watcher's echo of the
    # write is then no change at all (it used to differ in the mode, and every set was handled
    # twice)
    read = ConfigStore(cfg).read()
    assert (after.mode, after.raw, after.data) == (read.mode, read.raw, read.data)


def test_set_model_with_nothing_to_change_writes_nothing(cfg: Path) -> None:
    write(cfg, {"default_model": "a:b", "recent_models": ["a:b"]})
    mtime = cfg.stat().st_mtime_ns
    before, after = ConfigStore(cfg).set_model("a:b")
    assert after is before
    assert cfg.stat().st_mtime_ns == mtime
    assert cfg.read_text() == json.dumps(
        {"default_model": "a:b", "recent_models": ["a:b"]}, indent=4
    )


@pytest.mark.posix
def test_set_model_through_a_symlink_writes_its_target(tmp_path: Path) -> None:
    real = write(tmp_path / "real.json", {"x": 1})
    link = tmp_path / "tunacode.json"
    link.symlink_to(real)
    ConfigStore(link).set_model("a:b")
    assert link.is_symlink()
    assert json.loads(real.read_text())["default_model"] == "a:b"


def test_set_model_never_overwrites_an_invalid_file(cfg: Path) -> None:
    write(cfg, '{"default_model": "a:b",')
    with pytest.raises(ConfigError) as err:
        ConfigStore(cfg).set_model("c:d")
    assert err.value.reason == "invalid-config"
    assert err.value.cause.startswith("invalid JSON")
    assert cfg.read_text() == '{"default_model": "a:b",'


def test_set_model_lock_timeout(cfg: Path) -> None:
    from filelock import FileLock

    write(cfg, {})
    store = ConfigStore(cfg, lock_timeout=0.05)
    with FileLock(str(store.lock_path)):
        with pytest.raises(ConfigError) as err:
            store.set_model("a:b")
        assert err.value.reason == "lock-timeout"
        assert err.value.cause == "another writer held tunacode.json.lock for more than 0.05 s"
        with pytest.raises(BlockingIOError):
            store.set_model("a:b", blocking=False)
    assert json.loads(cfg.read_text()) == {}
    store.set_model("a:b", blocking=False)  # free again: the lock was released after each try
    assert json.loads(cfg.read_text())["default_model"] == "a:b"


def test_set_model_in_an_unwritable_place(tmp_path: Path) -> None:
    blocker = write(tmp_path / "file", "")
    with pytest.raises(ConfigError) as err:
        ConfigStore(blocker / "sub" / "tunacode.json").set_model("a:b")
    assert err.value.reason == "io-error"
    assert err.value.cause.startswith("creating the directory failed: ")
    assert err.value.path == blocker / "sub"


def test_set_model_removes_stale_temp_files_only(cfg: Path) -> None:
    write(cfg, {})
    stale = write(cfg.parent / ".tunacode.json.abc.tmp", '{"env": {"K": "secret"}}')
    fresh = write(cfg.parent / ".tunacode.json.def.tmp", "{}")
    other = write(cfg.parent / ".other.json.ghi.tmp", "{}")
    old = os.stat(stale).st_mtime - 120
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    ConfigStore(cfg).set_model("a:b")
    assert not stale.exists()
    assert fresh.exists() and other.exists()


def test_config_error_message() -> None:
    err = ConfigError("io-error", Path("/x/c.json"), "writing failed: no space")
    assert str(err) == "/x/c.json: writing failed: no space"
    assert (err.reason, err.path, err.cause) == (
        "io-error",
        Path("/x/c.json"),
        "writing failed: no space",
    )


# ---- what the first mutation run showed untested ------------------------------------------------


@pytest.mark.posix
def test_snapshots_name_their_path_and_keep_what_was_read(cfg: Path) -> None:
    store = ConfigStore(cfg)
    assert store.read().path == cfg
    write(cfg, "{")
    os.chmod(cfg, 0o640)
    snap = store.read(settle=0)
    assert (snap.path, snap.exists, snap.raw, stat.S_IMODE(snap.mode or 0)) == (
        cfg,
        True,
        b"{",
        0o640,
    )
    assert snap.error is not None and snap.error.path == cfg
    write(cfg, "[]")
    snap = store.read(settle=0)
    assert (snap.path, snap.raw, stat.S_IMODE(snap.mode or 0)) == (cfg, b"[]", 0o640)
    write(cfg, "{}")
    assert store.read().path == cfg
    cfg.unlink()
    cfg.mkdir()
    snap = store.read_once()
    assert (snap.path, snap.exists) == (cfg, True)
    assert snap.error is not None and snap.error.path == cfg


def test_a_read_error_is_not_waited_for(tmp_path: Path) -> None:
    def never(_: float) -> None:
        raise AssertionError("slept")

    blocker = write(tmp_path / "file", "")
    snap = ConfigStore(blocker / "tunacode.json").read(sleep=never)
    assert (snap.exists, snap.path) == (True, blocker / "tunacode.json")
    assert snap.error is not None and snap.error.reason == "io-error"
    assert snap.error.path == blocker / "tunacode.json"


def test_read_reports_the_last_content_seen(cfg: Path) -> None:
    write(cfg, "")

    def sleep(_: float) -> None:
        write(cfg, "{")  # still invalid, but moved on

    snap = ConfigStore(cfg).read(settle=0.05, sleep=sleep)
    assert snap.raw == b"{"
    assert snap.error is not None and snap.error.cause.startswith("invalid JSON")


def test_a_non_blocking_set_does_not_wait(cfg: Path) -> None:
    import time

    from filelock import FileLock

    store = ConfigStore(cfg, lock_timeout=2.0)
    with FileLock(str(store.lock_path)):
        start = time.monotonic()
        with pytest.raises(BlockingIOError):
            store.set_model("a:b", blocking=False)
        assert time.monotonic() - start < 0.9


def test_a_blocking_set_waits_for_a_short_lock(cfg: Path) -> None:
    import threading

    from filelock import FileLock

    store = ConfigStore(cfg, lock_timeout=5.0)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with FileLock(str(store.lock_path)):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    threading.Timer(0.1, release.set).start()
    store.set_model("a:b")
    thread.join(5)
    assert json.loads(cfg.read_text())["default_model"] == "a:b"


def test_a_lock_file_that_cannot_be_made(cfg: Path) -> None:
    store = ConfigStore(cfg)
    store.lock_path.mkdir()
    with pytest.raises(ConfigError) as err:
        store.set_model("a:b")
    assert (err.value.reason, err.value.path) == ("io-error", store.lock_path)
    assert err.value.cause == "creating the lock file failed: Is a directory"


@pytest.mark.parametrize(
    ("error", "reason", "cause"),
    [
        (
            OSError(28, "No space left on device"),
            "io-error",
            "writing failed: No space left on device",
        ),
        (
            PermissionError(13, "Permission denied"),
            "permission-denied",
            "permission denied writing",
        ),
        (OSError(1, "Operation not permitted"), "permission-denied", "permission denied writing"),
        (OSError(30, "Read-only file system"), "permission-denied", "permission denied writing"),
        (OSError("odd"), "io-error", "writing failed: odd"),
    ],
)
def test_write_errors_by_reason(
    cfg: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, reason: str, cause: str
) -> None:
    from tuna_lsp.storage import config_store

    def fail(*_: object) -> None:
        raise error

    write(cfg, {"default_model": "a:b"})
    monkeypatch.setattr(config_store, "replace_file", fail)
    with pytest.raises(ConfigError) as err:
        ConfigStore(cfg).set_model("c:d")
    assert (err.value.reason, err.value.path, err.value.cause) == (reason, cfg, cause)
    assert json.loads(cfg.read_text()) == {"default_model": "a:b"}


@pytest.mark.posix
def test_a_file_of_another_user_is_not_replaced(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tuna_lsp.storage import config_store

    write(cfg, {})
    owner = cfg.stat().st_uid
    monkeypatch.setattr(config_store.os, "geteuid", lambda: owner + 1)
    with pytest.raises(ConfigError) as err:
        ConfigStore(cfg).set_model("a:b")
    assert (err.value.reason, err.value.path) == ("permission-denied", cfg)
    assert err.value.cause == (
        f"the file belongs to another user (uid {owner}); replacing it would change its owner"
    )
    monkeypatch.setattr(config_store.os, "geteuid", lambda: 0)  # root may: it keeps the owner
    ConfigStore(cfg).set_model("a:b")
    assert cfg.stat().st_uid == owner


def test_a_read_only_file_is_not_replaced(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tuna_lsp.storage import config_store

    write(cfg, {})
    monkeypatch.setattr(config_store.os, "access", lambda *_: False)
    with pytest.raises(ConfigError) as err:
        ConfigStore(cfg).set_model("a:b")
    assert (err.value.reason, err.value.path, err.value.cause) == (
        "permission-denied",
        cfg,
        "the file is not writable",
    )
    assert json.loads(cfg.read_text()) == {}


def test_one_store_writes_again_and_again(cfg: Path) -> None:
    store = ConfigStore(cfg)
    for model in ("a:b", "c:d", "e:f"):
        _, after = store.set_model(model)
        assert (after.path, after.exists, after.default_model) == (cfg, True, model)
    assert json.loads(cfg.read_text())["recent_models"] == ["e:f", "c:d", "a:b"]


@pytest.mark.posix
def test_stale_temp_symlinks_are_left_alone(cfg: Path) -> None:
    old_file = write(cfg.parent / "elsewhere", "x")
    old = os.stat(old_file).st_mtime - 120
    os.utime(old_file, (old, old))
    link = cfg.parent / ".tunacode.json.lnk.tmp"
    link.symlink_to(old_file)
    ConfigStore(cfg).set_model("a:b")
    assert link.is_symlink() and old_file.exists()


def test_a_snapshot_never_shows_its_keys_in_a_repr(tmp_path: Path) -> None:
    path = tmp_path / "tunacode.json"
    path.write_text(
        json.dumps({"default_model": "openai:o3", "env": {"OPENAI_API_KEY": "sk-SECRET"}})
    )
    snap = ConfigStore(path).read()
    assert snap.data is not None and "sk-SECRET" not in repr(snap)


# ---- what a set leaves for its fsync to write ------------------------------------------------


def test_reads_leave_the_access_time_alone(cfg: Path, tmp_path: Path) -> None:
    """A read of the config or of the write marks must not make an inode dirty (relatime, this
    file system's default, updates the access time of a file modified since its last read):
    the next set's fsync would write it too. Reads use O_NOATIME, as the file's owner."""
    from tuna_lsp.storage.write_marks import WriteMarks

    write(cfg, {"default_model": "openai:gpt-4.1"})
    marks = WriteMarks(tmp_path / "state" / "config-writes.log")
    marks.add(cfg.read_bytes())
    for path in (cfg, marks.path):
        st = os.stat(path)
        os.utime(path, ns=(st.st_mtime_ns - 10**9, st.st_mtime_ns))  # read before it changed
    before = {p: os.stat(p).st_atime_ns for p in (cfg, marks.path)}
    assert ConfigStore(cfg).read().data == {"default_model": "openai:gpt-4.1"}
    assert marks.made_by_us(cfg.read_bytes())  # (this test's own read is a plain one)
    cfg_atime = os.stat(cfg).st_atime_ns
    os.utime(cfg, ns=(before[cfg], os.stat(cfg).st_mtime_ns))
    assert ConfigStore(cfg).read().data is not None
    assert {p: os.stat(p).st_atime_ns for p in (cfg, marks.path)} == before
    assert cfg_atime != before[cfg]  # a plain read does move it here: the check can fail


@pytest.mark.posix
def test_a_set_leaves_the_lock_file_unchanged(cfg: Path) -> None:
    """Run as root, the lock file gets the directory's owner once, not an inode write (a chown)
    at every set."""
    write(cfg, {"default_model": "openai:gpt-4.1"})
    store = ConfigStore(cfg)
    store.set_model("openai:gpt-4o")
    lock = cfg.with_name(cfg.name + ".lock")
    first = os.stat(lock, follow_symlinks=False)
    assert (first.st_uid, first.st_gid) == (os.stat(cfg.parent).st_uid, os.stat(cfg.parent).st_gid)
    store.set_model("openai:gpt-4.1")
    store.set_model("openai:gpt-4o")
    assert os.stat(lock, follow_symlinks=False).st_ctime_ns == first.st_ctime_ns
