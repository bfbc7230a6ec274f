"""Interoperability with the real tunacode CLI (tunacode-cli 0.2.3 from PyPI, in its own venv):
what the server writes, tunacode loads; what tunacode writes, every server follows."""

from __future__ import annotations

import asyncio
import json

import pytest
from harness.home import Home
from harness.session import lsp_session
from harness.tunacode import FULL_CONFIG, run_tunacode, tunacode_set

pytestmark = pytest.mark.cli

LOAD = """
import json
from tunacode.configuration.user_config import load_config
print(json.dumps(load_config()))
"""


async def test_tunacode_loads_what_the_server_writes(home: Home) -> None:
    home.write_config(FULL_CONFIG)
    async with lsp_session(home) as s:
        await s.request("tuna/setModel", {"model": "anthropic:claude-sonnet-4-20250514"})
        await s.request("tuna/setModel", {"model": "openai:gpt-4.1"})
    loaded = json.loads(run_tunacode(home, LOAD).stdout)
    assert loaded["default_model"] == "openai:gpt-4.1"
    assert loaded["recent_models"] == [
        "openai:gpt-4.1",
        "anthropic:claude-sonnet-4-20250514",
        "openrouter:openai/gpt-4.1",
    ]
    # tunacode merges its defaults in (empty keys it knows); every value of ours is intact
    assert FULL_CONFIG["env"].items() <= loaded["env"].items()
    assert loaded["settings"] == FULL_CONFIG["settings"]


async def test_tunacode_loads_a_config_the_server_created(home: Home) -> None:
    async with lsp_session(home) as s:
        await s.request("tuna/setModel", {"model": "openai:o3"})
    loaded = json.loads(run_tunacode(home, LOAD).stdout)
    assert loaded["default_model"] == "openai:o3" and loaded["recent_models"] == ["openai:o3"]


async def test_tunacode_set_default_model_reaches_the_client(home: Home) -> None:
    home.write_config(FULL_CONFIG)
    async with lsp_session(home) as s:
        n = len(s.changes)
        await asyncio.to_thread(tunacode_set, home, "anthropic:claude-opus-4-1-20250805")
        change = await s.wait_change(
            lambda c: c["model"] == "anthropic:claude-opus-4-1-20250805", after=n
        )
        assert change["origin"] == "external" and change["scope"] == "global"
        assert change["recentModels"][0] == "anthropic:claude-opus-4-1-20250805"
        assert all(c["configValid"] for c in s.changes[n:]), "a torn in-place write was reported"
        assert s.shown == []


async def test_two_servers_and_the_cli_converge(home: Home) -> None:
    home.write_config(FULL_CONFIG)
    async with lsp_session(home, client_name="a") as a, lsp_session(home, client_name="b") as b:
        await asyncio.gather(
            a.request("tuna/setModel", {"model": "openai:gpt-4o"}),
            b.request("tuna/setModel", {"model": "openai:o3"}),
        )
        await asyncio.to_thread(tunacode_set, home, "openai:gpt-4.1-mini")
        await a.request("tuna/setModel", {"model": "anthropic:claude-sonnet-4-20250514"})
        await asyncio.to_thread(tunacode_set, home, "openai:o4-mini")
        final = home.read_config()["default_model"]
        assert final == "openai:o4-mini"
        for s in (a, b):
            await s.wait_change(lambda c: c["model"] == final and c["persistedModel"] == final)
            assert (await s.request("tuna/getModel"))["model"] == final
        assert FULL_CONFIG["env"].items() <= home.read_config()["env"].items()
        assert home.read_config()["settings"] == FULL_CONFIG["settings"]
        # the external change was recorded once, not once per server
        entries = (await a.request("tuna/history", {"limit": 50}))["entries"]
        ext = [e for e in entries if e["origin"] == "external" and e["model"] == final]
        assert len(ext) == 1
