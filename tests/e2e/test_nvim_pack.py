"""The Neovim plugin as plugin managers get it (issue 28): its own repository, made as the release workflow
makes it (`git subtree split --prefix editors/nvim`), installed by the real Neovim's `vim.pack` into a clean
stdpath, then `:TunaInstall` (the server from a package index: here a wheel folder pip is pointed at through
its own configuration) and `:TunaModel`. No network: everything is files on this machine, once the dependency
wheels are in .cache/ (fetched by `pip wheel` the first time, when the dependency list changes).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from harness.home import Home
from harness.nvim import CONFIG, NVIM, PLUGIN, run_nvim, stop_servers_with
from harness.paths import ROOT
from harness.wheels import dependency_wheels, pip

SCENARIO = ROOT / "tests" / "nvim" / "pack.lua"
GIT_TIMEOUT = 60
BUILD_TIMEOUT = 180  # one offline wheel build
RUN_TIMEOUT = 300  # Neovim: vim.pack, a venv, two pip runs, a server
# the commit made in the temporary clone (never in this checkout) carries no one's identity
GIT_ENV = {
    "GIT_AUTHOR_NAME": "tuna test",
    "GIT_AUTHOR_EMAIL": "test@localhost",
    "GIT_COMMITTER_NAME": "tuna test",
    "GIT_COMMITTER_EMAIL": "test@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}

pytestmark = pytest.mark.skipif(NVIM is None, reason="no Neovim found (.venv/bin/nvim)")


def server_version(root: Path = ROOT) -> str:
    text = (root / "server" / "tuna_lsp" / "__init__.py").read_text()
    m = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    assert m, "no __version__ in server/tuna_lsp/__init__.py"
    return m[1]


def plugin_version() -> str:
    text = (PLUGIN / "lua" / "tunacode" / "version.lua").read_text()
    m = re.fullmatch(r"(?:--[^\n]*\n)*return '([^']+)'\n", text)
    assert m, "lua/tunacode/version.lua is not comments and one `return '<version>'`"
    return m[1]


def test_plugin_version_is_the_servers() -> None:
    """:TunaInstall outside a clone installs tuna-lsp==<plugin version>: the one a release publishes."""
    assert plugin_version() == server_version()


def nvim_version() -> tuple[int, int]:
    out = subprocess.run(
        [str(NVIM), "--version"], capture_output=True, text=True, timeout=30
    ).stdout
    m = re.search(r"NVIM v(\d+)\.(\d+)", out)
    return (int(m[1]), int(m[2])) if m else (0, 0)


def git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, f"git {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def published_repo(tmp: Path) -> tuple[Path, Path]:
    """editors/nvim of this checkout, working files included, as the release publishes it: a temporary clone,
    a commit there of the working plugin, `git subtree split`, then a bare repository of the split branch.
    Returns it and the clone (the committed server, beside the working plugin)."""
    clone = tmp / "clone"
    git("clone", "--quiet", str(ROOT), str(clone))
    shutil.rmtree(clone / "editors" / "nvim")
    shutil.copytree(PLUGIN, clone / "editors" / "nvim", ignore=shutil.ignore_patterns("tags"))
    git("add", "--all", "editors/nvim", cwd=clone)
    git("commit", "--quiet", "--allow-empty", "-m", "the working plugin", cwd=clone)
    git("subtree", "split", "-q", "--prefix", "editors/nvim", "-b", "tunacode-nvim", cwd=clone)
    bare = tmp / "tunacode.nvim.git"
    git("clone", "--quiet", "--bare", "--branch", "tunacode-nvim", str(clone), str(bare))
    # the next release of the plugin, for vim.pack.update: only its version changed (refs/heads/next)
    git("checkout", "--quiet", "tunacode-nvim", cwd=clone)
    version_lua = clone / "lua" / "tunacode" / "version.lua"
    version_lua.write_text(
        version_lua.read_text().replace(f"return '{plugin_version()}'", "return '9.9.9'")
    )
    git("commit", "--quiet", "--all", "-m", "the next release", cwd=clone)
    git("push", "--quiet", str(bare), "HEAD:refs/heads/next", cwd=clone)
    git("checkout", "--quiet", "-", cwd=clone)
    top = set(git("ls-tree", "--name-only", "HEAD", cwd=bare).split())
    assert {"doc", "lsp", "lua", "plugin"} <= top and not top & {
        "server",
        "editors",
        "pyproject.toml",
    }, top
    return bare, clone


def wheel_folder(tmp: Path, src: Path) -> Path:
    """A folder holding the server's wheel, built now from the committed source (`src`, the temporary clone: the
    working tree may be mid-edit) with no network (the build backend from the cached wheels), beside links to the
    dependency wheels: what PIP_FIND_LINKS points at."""
    deps = dependency_wheels(src)
    folder = tmp / "wheels"
    folder.mkdir()
    offline = ("--no-index", "--find-links", str(deps))
    pip(
        "wheel",
        "--quiet",
        "--no-deps",
        *offline,
        "--wheel-dir",
        str(folder),
        str(src),
        timeout=BUILD_TIMEOUT,
    )
    built = list(folder.glob("tuna_lsp-*.whl"))
    assert [p.name.split("-")[1] for p in built] == [server_version(src)], built
    for dep in deps.glob("*.whl"):
        (folder / dep.name).symlink_to(dep)
    return folder


def test_published_plugin_installs_with_vim_pack(home: Home, tmp_path: Path) -> None:
    """vim.pack.add of the split repository, :TunaInstall from a wheel folder (no clone beside the plugin), then
    :TunaModel saves to the isolated ~/.config/tunacode.json."""
    if nvim_version() < (0, 12):
        pytest.skip("vim.pack needs Neovim 0.12")
    home.write_config(CONFIG)
    t0 = time.monotonic()
    bare, clone = published_repo(tmp_path)
    t_split = time.monotonic() - t0
    wheels = wheel_folder(tmp_path, clone)
    t_wheels = time.monotonic() - t0 - t_split
    empty = tmp_path / "empty-index"
    empty.mkdir()
    marker = uuid.uuid4().hex
    # no tuna-lsp on PATH: the plugin must start the one it installed
    path = os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "tuna-lsp").exists()
    )
    data = home.root / "xdgdata"
    env = home.env(
        XDG_DATA_HOME=str(data),
        PATH=path,
        TUNA_NVIM_TEST_ID=marker,
        # harness.lua's: the plugin's place once vim.pack has installed it, and the server it then starts
        TUNA_PLUGIN_DIR=str(data / "nvim" / "site" / "pack" / "core" / "opt" / "tunacode.nvim"),
        TUNA_LSP_CMD=str(data / "nvim" / "tunacode" / "venv" / "bin" / "tuna-lsp"),
        TUNA_TEST_TIMEOUT_MS="10000",
        TUNA_PACK_SRC=bare.as_uri(),
        TUNA_EXPECT_VERSION=server_version(clone),
        TUNA_GOOD_FIND_LINKS=str(wheels),
        TUNA_EMPTY_FIND_LINKS=str(empty),
        TUNA_INSTALL_TIMEOUT_MS="200000",
        # pip's own configuration, as a user sets it: no index, only this folder
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheels),
        PIP_CONFIG_FILE=os.devnull,
    )
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        env.pop(var, None)
    start = time.monotonic()
    # no --clean: stdpath('data')/site must be on 'packpath', as for a user (-l reads no init.lua)
    try:
        proc = run_nvim(SCENARIO, env=env, cwd=home.root, timeout=RUN_TIMEOUT, flags=("-i", "NONE"))
    finally:
        left = stop_servers_with(marker)
    log = proc.stdout
    assert proc.returncode == 0, f"pack.lua failed (exit {proc.returncode}):\n{log}"
    assert not left, f"processes left running after Neovim exited: {left}"
    written = home.read_config()
    assert written["default_model"] == "openai:gpt-4.1"
    assert written["hooks"] == CONFIG["hooks"] and written["env"] == CONFIG["env"]
    print(
        f"split {t_split:.1f} s, wheels {t_wheels:.1f} s, Neovim {time.monotonic() - start:.1f} s; "
        + "; ".join(line.split("] ", 1)[1] for line in log.splitlines() if " took " in line)
    )
