"""The model service in-process (core/model_service.py): scopes and their precedence, the workspace
choice, viaEditor and the stale-overwrite guard, with real files in a temporary directory."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from tuna_lsp.core.model_service import ModelService
from tuna_lsp.core.model_state import FixedCatalog, OverwriteError, ScopeError
from tuna_lsp.storage.config_store import ConfigError, ConfigStore
from tuna_lsp.storage.history import History
from tuna_lsp.storage.preferences import Preferences
from tuna_lsp.storage.write_marks import WriteMarks

CONFIG = {
    "default_model": "openai:gpt-4.1",
    "recent_models": ["openai:gpt-4.1"],
    "env": {"OPENAI_API_KEY": "sk-VALUE"},
    "hooks": {"pre": ["x"]},
}


def make(tmp_path: Path, folder: str | None = "/src/app", config: Any = CONFIG) -> ModelService:
    path = tmp_path / "tunacode.json"
    if config is not None:
        path.write_text(json.dumps(config, indent=4))
    return ModelService(
        ConfigStore(path),
        History(tmp_path / "state" / "history.jsonl"),
        Preferences(tmp_path / "prefs" / "preferences.toml"),
        FixedCatalog(None),
        environ={},
        workspace_folder=folder,
        marks=WriteMarks(tmp_path / "state" / "config-writes.json"),
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def history(service: ModelService) -> list[dict[str, Any]]:
    return service.history.entries(50)


def test_precedence_session_workspace_global_default(tmp_path: Path) -> None:
    s = make(tmp_path, config=None)
    assert (s.state("initial").scope, s.state("initial").model) == (
        "default",
        "openrouter:openai/gpt-4.1",
    )
    run(s.set_model("openai:gpt-4.1", "global"))
    assert s.state("client").scope == "global"
    run(s.set_model("anthropic:claude-sonnet-4-5", "workspace"))
    st = s.state("client")
    assert (st.scope, st.model, st.workspace_model) == (
        "workspace",
        "anthropic:claude-sonnet-4-5",
        "anthropic:claude-sonnet-4-5",
    )
    assert st.persisted_model == "openai:gpt-4.1"
    run(s.set_model("openai:o3", "session"))
    assert (s.state("client").scope, s.state("client").model) == ("session", "openai:o3")
    run(s.clear_model("session"))
    assert s.state("client").scope == "workspace"
    run(s.clear_model("workspace"))
    assert (s.state("client").scope, s.state("client").model) == ("global", "openai:gpt-4.1")


def test_workspace_set_writes_preferences_only_and_says_the_cli_default_stays(
    tmp_path: Path,
) -> None:
    s = make(tmp_path)
    raw = s.store.path.read_bytes()
    out = run(s.set_model("anthropic:claude-sonnet-4-5", "workspace"))
    assert s.store.path.read_bytes() == raw
    assert '"/src/app" = "anthropic:claude-sonnet-4-5"' in s.preferences.path.read_text()
    assert "CLI's own default is unchanged (openai:gpt-4.1)" in out.message
    again = run(s.set_model("openai:o3", "global"))
    assert "still uses anthropic:claude-sonnet-4-5, the workspace's model" in again.message


def test_no_folder_no_workspace_scope(tmp_path: Path) -> None:
    s = make(tmp_path, folder=None)
    with pytest.raises(ScopeError, match="no workspace folder"):
        run(s.set_model("openai:o3", "workspace"))
    with pytest.raises(ScopeError):
        run(s.clear_model("workspace"))
    assert not s.preferences.path.exists()


def test_a_bad_workspace_entry_is_ignored_with_a_warning(tmp_path: Path) -> None:
    s = make(tmp_path)
    s.preferences.path.parent.mkdir(parents=True)
    s.preferences.path.write_text('[workspaces]\n"/src/app" = "gpt-4o"\n')
    st = s.state("initial")
    assert st.scope == "global" and st.workspace_model is None
    assert any("is ignored" in w and "no provider" in w for w in st.warnings)


def test_via_editor_tells_our_writes_from_others(tmp_path: Path) -> None:
    s = make(tmp_path)
    assert s.state("initial").via_editor is False
    run(s.set_model("openai:o3", "global"))
    other = make(tmp_path, config=None)  # another window's server sees the file tuna-lsp wrote
    assert other.state("initial").via_editor is True
    s.store.path.write_text(json.dumps({**CONFIG, "default_model": "openai:gpt-4o"}))
    state, _ = other.external_change(other.store.read())
    assert state is not None and state.via_editor is False


def overwritten(s: ModelService) -> None:
    """The editor's choice, then a running tunacode's stale copy written back in place."""
    run(s.set_model("openai:gpt-4o", "global"))
    s.store.path.write_text(json.dumps({**CONFIG, "settings": {"theme": "nord"}}, indent=4))
    s.external_change(s.store.read())


def test_an_overwrite_is_recorded_once_and_restored_once(tmp_path: Path) -> None:
    a, b = make(tmp_path), make(tmp_path, config=None)
    run(a.set_model("openai:gpt-4o", "global"))
    b.external_change(b.store.read())
    a.store.path.write_text(json.dumps({**CONFIG, "settings": {"theme": "nord"}}, indent=4))
    for s in (a, b):
        s.external_change(s.store.read())
        found = s.state("external").overwrite
        assert found is not None and found.resolution == "pending"
        assert (found.model, found.replaced_model) == ("openai:gpt-4.1", "openai:gpt-4o")
        assert any("replaced openai:gpt-4o with openai:gpt-4.1" in w for w in s.state("x").warnings)
    assert [e["origin"] for e in history(a)].count("stale-overwrite") == 1

    first = run(a.restore_overwrite())
    second = run(b.restore_overwrite())
    assert first.changed and not second.changed and "already restored" in second.message
    data = json.loads(a.store.path.read_text())
    assert data["default_model"] == "openai:gpt-4o" and data["settings"] == {"theme": "nord"}
    assert data["hooks"] == {"pre": ["x"]}
    assert [e["origin"] for e in history(a)].count("restored") == 1
    with pytest.raises(OverwriteError, match="restored"):
        run(a.restore_overwrite())


def test_keep_writes_nothing_and_records_kept(tmp_path: Path) -> None:
    s = make(tmp_path)
    overwritten(s)
    raw = s.store.path.read_bytes()
    state = s.keep_overwrite()
    assert state is not None and state.overwrite is not None
    assert state.overwrite.resolution == "kept"
    assert s.store.path.read_bytes() == raw
    assert history(s)[0]["origin"] == "kept"
    assert s.keep_overwrite() is None  # nothing pending any more


def test_restore_with_nothing_pending_or_an_invalid_file_changes_nothing(tmp_path: Path) -> None:
    s = make(tmp_path)
    with pytest.raises(OverwriteError, match="no stale overwrite"):
        run(s.restore_overwrite())
    overwritten(s)
    s.store.path.write_text("{not json")
    s.external_change(s.store.read(settle=0))
    with pytest.raises(ConfigError) as err:
        run(s.restore_overwrite())
    assert err.value.reason == "invalid-config"
    assert s.store.path.read_text() == "{not json"


def test_the_echo_of_our_own_write_is_no_change(tmp_path: Path) -> None:
    """Every set is seen again by the server's own watcher: that read must match the state shown
    at once (before, a mode that differed in its file-type bits sent every set down the whole
    external-change path: the write marks read, the state computed twice)."""
    s = make(tmp_path)
    run(s.set_model("openai:o3", "global"))
    shown = s.snapshot
    assert s.external_change(s.store.read()) == (None, None)
    assert s.snapshot is shown


def test_a_global_set_ends_a_pending_overwrite(tmp_path: Path) -> None:
    """The user picked a model after a stale overwrite: restoring the overwritten model later
    would undo that newer choice, so nothing is pending any more (it was a known bug)."""
    s = make(tmp_path)
    overwritten(s)
    assert s.overwrite is not None and s.overwrite.resolution == "pending"
    run(s.set_model("anthropic:claude-sonnet-4", "global"))
    assert s.overwrite is not None and s.overwrite.resolution == "kept"
    assert s.state("client").overwrite.resolution == "kept"
    with pytest.raises(OverwriteError):
        run(s.restore_overwrite())
    assert json.loads(s.store.path.read_text())["default_model"] == "anthropic:claude-sonnet-4"
