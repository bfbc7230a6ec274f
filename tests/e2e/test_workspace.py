"""End-to-end: the workspace scope (PROTOCOL.md 3a) across several real servers on real folders.

Session, workspace, global and tunacode's default, in that order; the workspace choice lives in
`preferences.toml` `[workspaces]`, never in the shared config, and every server on that folder
follows it live.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from harness.home import Home
from harness.session import lsp_session
from harness.tunacode import run_tunacode
from harness.waiting import wait_until
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

CONFIG = {
    "default_model": "openai:gpt-4.1",
    "recent_models": ["openai:gpt-4.1"],
    "env": {"OPENAI_API_KEY": "sk-test-VALUE", "ANTHROPIC_API_KEY": "sk-ant-VALUE"},
    "settings": {"theme": "dracula"},
}
WS_MODEL = "anthropic:claude-sonnet-4-5"


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "src" / "app-a", tmp_path / "src" / "app-b"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    return a, b


async def test_workspace_choice_reaches_servers_on_that_folder_only(
    home: Home, folders: tuple[Path, Path]
) -> None:
    a, b = folders
    home.write_config(CONFIG)
    config_before = home.config.read_bytes()
    async with contextlib.AsyncExitStack() as stack:
        a1 = await stack.enter_async_context(lsp_session(home, workspace=a))
        a2 = await stack.enter_async_context(lsp_session(home, workspace=b.parent / "app-a"))
        b1 = await stack.enter_async_context(lsp_session(home, workspace=b))
        assert a1.last["workspaceFolder"] == str(a) and a1.last["workspaceModel"] is None
        assert a1.last["scope"] == "global"

        result = await a1.request("tuna/setModel", {"model": WS_MODEL, "scope": "workspace"})
        assert result["model"] == WS_MODEL and result["scope"] == "workspace"
        assert result["workspaceModel"] == WS_MODEL and result["persistedModel"] == "openai:gpt-4.1"
        assert "for this workspace" in result["message"] and str(a) in result["message"]
        assert "CLI's own default is unchanged (openai:gpt-4.1)" in result["message"]

        seen = await a2.wait_change(lambda c: c["model"] == WS_MODEL)
        assert seen["scope"] == "workspace" and seen["origin"] == "external"
        assert b1.last["model"] == "openai:gpt-4.1" and b1.last["workspaceModel"] is None
        assert all(c["model"] == "openai:gpt-4.1" for c in b1.changes)

        # the shared config is untouched, and the CLI still sees the global model
        assert home.config.read_bytes() == config_before
        out = run_tunacode(
            home,
            "from tunacode.configuration.user_config import load_config;"
            "print(load_config()['default_model'])",
        )
        assert out.stdout.strip() == "openai:gpt-4.1"
        prefs = home.preferences.read_text()
        assert f'"{a}" = "{WS_MODEL}"' in prefs and str(b) not in prefs

    # a restarted server on A remembers the choice
    async with lsp_session(home, workspace=a) as again:
        assert again.changes[0]["model"] == WS_MODEL and again.changes[0]["scope"] == "workspace"


async def test_precedence_and_clearing_each_level(home: Home, folders: tuple[Path, Path]) -> None:
    a, _ = folders
    async with lsp_session(home, workspace=a) as s:
        # no config file: tunacode's default
        assert s.last["scope"] == "default" and s.last["persistedModel"] is None
        await s.request("tuna/setModel", {"model": "openai:gpt-4.1"})
        assert s.last["scope"] == "global"
        await s.request("tuna/setModel", {"model": WS_MODEL, "scope": "workspace"})
        assert (s.last["model"], s.last["scope"]) == (WS_MODEL, "workspace")
        await s.request("tuna/setModel", {"model": "openai:gpt-4o", "scope": "session"})
        assert (s.last["model"], s.last["scope"]) == ("openai:gpt-4o", "session")
        assert s.last["workspaceModel"] == WS_MODEL

        # a global set clears the session but says the workspace choice still wins here
        result = await s.request("tuna/setModel", {"model": "openai:o3"})
        assert (result["model"], result["scope"]) == (WS_MODEL, "workspace")
        assert result["persistedModel"] == "openai:o3"
        assert "still uses anthropic:claude-sonnet-4-5, the workspace's model" in result["message"]

        await s.request("tuna/setModel", {"model": "openai:gpt-4o", "scope": "session"})
        cleared = await s.request("tuna/clearModel", {"scope": "session"})
        assert (cleared["model"], cleared["scope"]) == (WS_MODEL, "workspace")
        assert "session model is cleared" in cleared["message"]
        cleared = await s.command("tuna.clearModel", "workspace")
        assert (cleared["model"], cleared["scope"]) == ("openai:o3", "global")
        assert cleared["workspaceModel"] is None
        assert str(a) not in home.preferences.read_text()
        again = await s.request("tuna/clearModel", {"scope": "workspace"})
        assert "No workspace" in again["message"] and again["model"] == "openai:o3"
        assert s.shown[-1][1] == cleared["message"]


async def test_hand_edit_of_workspaces_is_followed_live(
    home: Home, folders: tuple[Path, Path]
) -> None:
    a, _ = folders
    home.write_config(CONFIG)
    home.preferences.parent.mkdir(parents=True, exist_ok=True)
    home.preferences.write_text('# mine\n[providers]\n"gpt-4.1" = ["openai"]  # keep\n')
    async with lsp_session(home, workspace=a) as s:
        n = len(s.changes)
        home.preferences.write_text(
            home.preferences.read_text() + f'\n[workspaces]\n"{a}" = "{WS_MODEL}"  # hand\n'
        )
        seen = await s.wait_change(lambda c: c["scope"] == "workspace", after=n)
        assert seen["model"] == WS_MODEL
        # the server's own write keeps the hand-written comments
        await s.request("tuna/setModel", {"model": "openai:gpt-4o", "scope": "workspace"})
        text = home.preferences.read_text()
        assert "# mine" in text and "# keep" in text and "openai:gpt-4o" in text

        # a model string that breaks the rules: ignored with a warning, nothing rewritten
        n = len(s.changes)
        home.preferences.write_text(f'[workspaces]\n"{a}" = "openai:$(rm -rf ~)"\n')
        seen = await s.wait_change(lambda c: c["scope"] == "global", after=n)
        assert any("workspace model" in w and "ignored" in w for w in seen["warnings"])

        # malformed TOML: reported, never rewritten; a workspace set fails saying so
        broken = '[workspaces\n"x" = 1\n'
        home.preferences.write_text(broken)
        await wait_until(
            lambda: any("preferences ignored" in w for w in s.last["warnings"]), 5, "a warning"
        )
        with pytest.raises(JsonRpcException) as err:
            await s.request("tuna/setModel", {"model": WS_MODEL, "scope": "workspace"})
        assert err.value.code == -32803 and "invalid TOML" in err.value.message
        assert err.value.data["path"] == str(home.preferences)
        assert home.preferences.read_text() == broken


async def test_workspace_scope_bad_input(home: Home, folders: tuple[Path, Path]) -> None:
    a, _ = folders
    home.write_config(CONFIG)
    raw = home.config.read_bytes()
    async with lsp_session(home) as single_file:  # no folder: no workspace scope
        assert single_file.last["workspaceFolder"] is None
        with pytest.raises(JsonRpcInvalidParams) as err:
            await single_file.request("tuna/setModel", {"model": WS_MODEL, "scope": "workspace"})
        assert "no workspace folder" in err.value.message and "expected" in err.value.message
        with pytest.raises(JsonRpcInvalidParams):
            await single_file.command("tuna.setModel", WS_MODEL, "workspace")
    async with lsp_session(home, workspace=a) as s:
        for params in ({"scope": "global"}, {"scope": "forever"}, {}, {"scope": 3}):
            with pytest.raises(JsonRpcInvalidParams) as err:
                await s.request("tuna/clearModel", params)
            assert "'session' or 'workspace'" in err.value.message
        with pytest.raises(JsonRpcInvalidParams):
            await s.request("tuna/setModel", {"model": "openai:$(x)", "scope": "workspace"})
    assert home.config.read_bytes() == raw
    assert not home.preferences.exists() or str(a) not in home.preferences.read_text()
    history = home.history.read_text() if home.history.exists() else ""
    assert WS_MODEL not in history
    json.loads(raw)


async def test_workspaces_entries_get_diagnostics_in_the_editor(
    home: Home, folders: tuple[Path, Path]
) -> None:
    a, _ = folders
    text = (
        "# my workspaces\n[workspaces]\n"
        f'"{a}" = "{WS_MODEL}"\n'
        '"relative/app" = "openai:gpt-4.1"\n'
        '"/no/such/folder" = "openai:$(touch x)"\n'
        f'"{a}/sub" = "nosuchprov:m"\n'
    )
    home.preferences.parent.mkdir(parents=True, exist_ok=True)
    home.preferences.write_text(text)
    uri = home.preferences.as_uri()
    async with lsp_session(home, workspace=a) as s:
        await s.wait_catalog()
        s.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="toml", version=1, text=text
                )
            )
        )
        diags = await wait_until(lambda: s.client.diagnostics.get(uri), 10, "diagnostics")
        lines = text.splitlines()
        found = {
            (d.code, lines[d.range.start.line][d.range.start.character : d.range.end.character])
            for d in diags
        }
        assert ("schema", "relative/app") in found  # not an absolute path
        assert ("no-folder", "/no/such/folder") in found
        assert ("model-format", "openai:$(touch x)") in found
        assert ("unknown-provider", "nosuchprov:m") in found
        assert not any(str(a) == t for _, t in found)  # the good entry has none
        # the server still uses the good entry, and has not rewritten the file
        assert s.last["workspaceModel"] == WS_MODEL
        assert home.preferences.read_text() == text
