"""The watch of the shared config on each of its paths (storage/config_watcher.py), in the real
server process: inotify; watchfiles when inotify cannot be had (its instance limit reached,
EMFILE, forced by a sitecustomize.py on the server's PYTHONPATH); a stat poll when watchfiles
cannot be imported either. On each, the real tunacode CLI's in-place save and an atomic hand
edit reach the client, and the log says which path follows the file."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from harness.home import Home
from harness.session import lsp_session
from harness.tunacode import FULL_CONFIG, tunacode_set
from harness.waiting import wait_until

pytestmark = pytest.mark.cli

# Loaded by every Python started with the directory on PYTHONPATH (the server; not the catalog's
# builder, run isolated with -I, nor the CLI, started with the home's own environment).
INOTIFY_EMFILE = """
import ctypes, errno

class _CDLL(ctypes.CDLL):
    def __getattr__(self, name):
        if name == "inotify_init1":
            def inotify_init1(flags):
                ctypes.set_errno(errno.EMFILE)  # the per-user limit of instances reached
                return -1
            return inotify_init1
        return super().__getattr__(name)

ctypes.CDLL = _CDLL
"""

NO_WATCHFILES = """
import sys

class _NoWatchfiles:
    def find_spec(self, name, path=None, target=None):
        if name == "watchfiles" or name.startswith("watchfiles."):
            raise ImportError("watchfiles is not installed (forced by the test)")
        return None

sys.meta_path.insert(0, _NoWatchfiles())
"""

PATHS = {
    "inotify": "",
    "watchfiles": INOTIFY_EMFILE,
    "a stat poll": INOTIFY_EMFILE + NO_WATCHFILES,
}


def hand_edit(home: Home, model: str) -> None:
    """An editor's atomic save: a whole new file renamed over the old one."""
    data = home.read_config()
    data["default_model"] = model
    tmp = home.config.with_name(".tunacode.json.swp")
    tmp.write_text(json.dumps(data, indent=4))
    os.replace(tmp, home.config)


@pytest.mark.parametrize("method", list(PATHS))
async def test_each_watch_path_follows_the_cli_and_a_hand_edit(
    home: Home, tmp_path: Path, method: str
) -> None:
    home.write_config(FULL_CONFIG)
    env = home.env()
    if PATHS[method]:
        forced = tmp_path / "forced"
        forced.mkdir()
        (forced / "sitecustomize.py").write_text(PATHS[method])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(forced), env.get("PYTHONPATH")]))
    async with lsp_session(home, env=env) as s:

        def said(text: str) -> bool:
            return any(text in m.message for m in s.client.log_messages)

        def following(how: str) -> bool:
            return any(
                m.message.startswith("following tunacode.json ") and m.message.endswith(how)
                for m in s.client.log_messages
            )

        await wait_until(lambda: following(f"with {method}"), 10, f"the log naming {method}")
        n = len(s.changes)
        await asyncio.to_thread(tunacode_set, home, "anthropic:claude-opus-4-1-20250805")
        change = await s.wait_change(
            lambda c: c["model"] == "anthropic:claude-opus-4-1-20250805", after=n
        )
        assert change["origin"] == "external"
        n = len(s.changes)
        await asyncio.to_thread(hand_edit, home, "openai:o3")
        change = await s.wait_change(lambda c: c["model"] == "openai:o3", after=n)
        assert change["origin"] == "external" and change["persistedModel"] == "openai:o3"
        assert all(c["configValid"] for c in s.changes), "a torn in-place write was reported"
        # a path that cannot be had is left once, never retried
        assert not said("retrying"), [m.message for m in s.client.log_messages]
        others = [m for m in PATHS if m != method]
        assert not any(following(f"with {m}") for m in others)
