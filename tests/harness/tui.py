"""The real tunacode CLI (tunacode-cli 0.2.3, a Textual TUI) running in a real terminal: tmux.

`Tui` starts one tunacode in a detached tmux session of its own tmux server (a socket per TUI, so
tests never touch a user's tmux and a stop can only end what the test started), reads its screen
and types into it. Every wait polls the screen or a file against a deadline; nothing sleeps for a
fixed time. The `tui` fixture (tests/e2e/conftest.py) stops every TUI a test started, whatever the
outcome.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .home import Home
from .waiting import wait_until

READY_S = 60.0  # tunacode starts in 5 to 10 s here; the machine is shared and often loaded
_ids = itertools.count()


def tmux_path() -> str:
    path = shutil.which("tmux")
    if path is None:
        pytest.fail(
            "tmux is missing: the running-CLI tests run the real tunacode TUI in tmux. "
            "Install Debian's tmux (`make test-python` does: apt-get install tmux)"
        )
    return path


class Tui:
    """One running tunacode TUI in a 160x45 terminal, its HOME the test's isolated home."""

    def __init__(self, home: Home, tunacode: Path) -> None:
        if not tunacode.exists():
            pytest.fail(f"the tunacode CLI is missing at {tunacode}: run `make tunacode-venv`")
        self.home = home
        self.tmux = tmux_path()
        self.socket = f"tuna-test-{os.getpid()}-{next(_ids)}"
        self.name = f"tunacode-{os.getpid()}-{next(_ids)}"
        self.env = home.env(TERM="xterm-256color")
        self.env.pop("TMUX", None)  # a test run from inside tmux still gets its own server
        self.started = False
        self._tunacode = tunacode

    def _run(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [self.tmux, "-L", self.socket, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    # ---- life --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start tunacode and wait until its resource bar (first screen line) shows the model."""
        # if tunacode dies, its last words stay on the screen for the failure message
        cmd = (
            f"env HOME='{self.home.root}' TERM=xterm-256color '{self._tunacode}'; "
            'echo "[tunacode exited with status $?]"; read _'
        )
        await asyncio.to_thread(
            self._run, "new-session", "-d", "-s", self.name, "-x", "160", "-y", "45", cmd
        )
        self.started = True
        await self.wait_screen(
            lambda s: "●" in s.splitlines()[0] if s else False,
            READY_S,
            "tunacode's resource bar on the first line (the TUI is ready)",
        )
        await self.wait_screen(lambda s: "│ >" in s, 10, "tunacode's prompt")

    def stop(self) -> None:
        """End the TUI and its tmux server. Safe to call twice, or when it never started."""
        if self.started:
            self._run("kill-server", check=False)
            self.started = False
            tmpdir = Path(self.env.get("TMUX_TMPDIR") or "/tmp")
            (tmpdir / f"tmux-{os.getuid()}" / self.socket).unlink(missing_ok=True)

    # ---- screen ------------------------------------------------------------------------------

    def screen(self) -> str:
        if not self.started:
            return ""
        return self._run("capture-pane", "-t", self.name, "-p", check=False)

    @property
    def resource_bar(self) -> str:
        lines = self.screen().splitlines()
        return lines[0].strip() if lines else ""

    def prompt_line(self) -> str:
        """The input line of tunacode's prompt: the first line of the last box on the screen
        ("│ >" when empty, "│ /theme" while a command is typed)."""
        lines = self.screen().splitlines()
        tops = [i for i, ln in enumerate(lines) if ln.startswith("┌")]
        return lines[tops[-1] + 1] if tops and tops[-1] + 1 < len(lines) else ""

    async def wait_screen(self, predicate: Callable[[str], Any], timeout: float, what: str) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = await asyncio.to_thread(self.screen)
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout} s waiting for {what}; tunacode's screen:\n{screen.rstrip()}"
                )
            await asyncio.sleep(0.05)

    # ---- input -------------------------------------------------------------------------------

    async def keys(self, *keys: str) -> None:
        await asyncio.to_thread(self._run, "send-keys", "-t", self.name, *keys)

    async def command(self, text: str, timeout: float = 15) -> None:
        """Type a slash command and submit it. tunacode sometimes keeps typed text but drops the
        Enter (mostly right after start): press Enter again while the text is still in the
        prompt, a bounded number of times."""
        await asyncio.to_thread(self._run, "send-keys", "-t", self.name, "-l", text)
        await self.wait_screen(
            lambda _s: text in self.prompt_line(), timeout, f"{text!r} typed into the prompt"
        )
        deadline = time.monotonic() + timeout
        while True:
            await self.keys("Enter")
            try:
                await self.wait_screen(
                    lambda _s: text not in self.prompt_line(), 3, f"{text!r} submitted"
                )
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise

    async def pick_theme(self, timeout: float = 15) -> None:
        """`/theme`, then Down Enter: tunacode saves the config it holds in memory."""
        before = self.home.config.stat().st_mtime_ns if self.home.config.exists() else None
        await self.command("/theme", timeout)
        await self.wait_screen(lambda s: "catppuccin-latte" in s, timeout, "the theme picker")
        await self.keys("Down")
        await self.keys("Enter")
        await self.wait_screen(lambda s: "catppuccin-latte" not in s, timeout, "the picker closed")
        await wait_until(
            lambda: self.home.config.exists() and self.home.config.stat().st_mtime_ns != before,
            timeout,
            "tunacode's save of the config after the theme was picked",
        )
