"""The state's fields (PROTOCOL.md 3) are defined once in Python, protocol.ModelStateWire; held to
it here: the domain's ModelState (each wire key is an attribute in snake_case), what
wire.state_to_wire sends, VS Code's `ModelState` in lsp_ext.ts (vscode-extension's
test/unit/lsp_ext.test.ts compares it with what the real server sends, too), and every field the
Neovim plugin reads of a state."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from tuna_lsp.core.model_state import ModelState
from tuna_lsp.core.overwrite import Overwrite
from tuna_lsp.protocol import ModelStateWire, OverwriteWire, SetModelResult
from tuna_lsp.wire import STATE_FIELDS, overwrite_to_wire, snake, state_to_wire

ROOT = Path(__file__).resolve().parents[2]
LSP_EXT = ROOT / "vscode-extension" / "src" / "lsp_ext.ts"
LUA = ROOT / "editors" / "nvim" / "lua" / "tunacode"

WIRE = list(ModelStateWire.__annotations__)
WIRE_OVERWRITE = list(OverwriteWire.__annotations__)


def test_the_domain_state_has_each_wire_field() -> None:
    assert sorted(snake(k) for k in WIRE) == sorted(ModelState._fields)
    assert [key for key, _ in STATE_FIELDS] == WIRE


def sample_state() -> ModelState:
    overwrite = Overwrite(
        model="openai:gpt-4o",
        replaced_model="anthropic:claude-sonnet-4-20250514",
        dropped_keys=("env",),
        at="2026-01-01T00:00:00Z",
        resolution="pending",
        base={},
    )
    hints = typing.get_type_hints(ModelState)
    values = {name: f"<{name}>" for name in ModelState._fields}
    values.update(
        context_window=8192,
        recent_models=["openai:o3"],
        warnings=["w"],
        via_editor=True,
        config_valid=False,
        catalog={"providers": 1},
        overwrite=overwrite,
    )
    assert set(values) == set(hints)
    return ModelState(**values)  # type: ignore[arg-type]


def test_state_to_wire_sends_every_field_and_only_those() -> None:
    state = sample_state()
    wire = state_to_wire(state)
    assert list(wire) == WIRE
    for key in WIRE:
        if key != "overwrite":
            assert wire[key] == getattr(state, snake(key)), key  # type: ignore[literal-required]
    assert wire["recentModels"] is not state.recent_models  # a copy, not the domain's list
    assert state.overwrite is not None
    assert wire["overwrite"] == overwrite_to_wire(state.overwrite)
    assert list(wire["overwrite"]) == WIRE_OVERWRITE
    assert wire["overwrite"]["droppedKeys"] == ["env"]
    assert state_to_wire(state._replace(overwrite=None))["overwrite"] is None


def test_the_overwrite_has_each_wire_field() -> None:
    # (and `base`, which never leaves the server: the data from before the overwrite)
    assert {snake(k) for k in WIRE_OVERWRITE} == set(Overwrite._fields) - {"base"}


# ---- VS Code ----------------------------------------------------------------------------------


def ts_interface(name: str) -> dict[str, bool]:
    """The fields of a TypeScript interface in lsp_ext.ts: name -> optional."""
    text = LSP_EXT.read_text(encoding="utf-8")
    found = re.search(rf"export interface {name}(?: extends \w+)? \{{(.*?)\n\}}", text, re.S)
    assert found, f"lsp_ext.ts has no interface {name}"
    body = re.sub(r"/\*.*?\*/|//[^\n]*", "", found.group(1), flags=re.S)
    return {m[1]: bool(m[2]) for m in re.finditer(r"^\s*(\w+)(\?)?\s*:", body, re.M)}


@pytest.mark.source
def test_vscode_state_interface_has_the_same_fields() -> None:
    ts = ts_interface("ModelState")
    assert sorted(ts) == sorted(WIRE)


@pytest.mark.source
def test_vscode_overwrite_interface_has_the_same_fields() -> None:
    assert sorted(ts_interface("Overwrite")) == sorted(WIRE_OVERWRITE)


# ---- Neovim -------------------------------------------------------------------------------------

# The Lua files that read a state, and the names a state goes by in each (`s` in usage.lua is
# the saves summary of tuna/usage, not a state; `o` in status.lua is the options).
STATE_NAMES = {
    "completion.lua": ("s",),
    "documents.lua": ("s",),
    "health.lua": ("s",),
    "status.lua": ("s",),
    "terminal.lua": ("s",),
    "model.lua": ("r", "result"),  # the results of setModel, clearModel, restoreOverwrite
    "state.lua": ("state", "s"),
}
OVERWRITE_NAMES = {"health.lua": ("o",)}  # local o = s.overwrite
# a file that holds or asks for a state must be in STATE_NAMES
READS_STATE = re.compile(
    r"state'\)\.current|\bstate\.current\b|tuna/(getModel|setModel|clearModel|restoreOverwrite)"
)
CURRENT = re.compile(r"\(?\bstate\.current(?: or \{\}\))?\.(\w+)")


def lua_reads() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Fields read of a state, and of its overwrite: field -> the files reading it."""
    state: dict[str, set[str]] = {}
    overwrite: dict[str, set[str]] = {}
    for name, names in STATE_NAMES.items():
        text = re.sub(r"--[^\n]*", "", (LUA / name).read_text(encoding="utf-8"))
        alt = "|".join(names)
        for field in re.findall(rf"(?<![\w.])(?:{alt})\.(\w+)", text) + CURRENT.findall(text):
            state.setdefault(field, set()).add(name)
        for field in re.findall(r"\boverwrite\.(\w+)", text):
            overwrite.setdefault(field, set()).add(name)
        for var in OVERWRITE_NAMES.get(name, ()):
            for field in re.findall(rf"(?<![\w.]){var}\.(\w+)", text):
                overwrite.setdefault(field, set()).add(name)
    return state, overwrite


@pytest.mark.source
def test_every_lua_file_reading_a_state_is_checked() -> None:
    readers = {
        p.name for p in LUA.glob("*.lua") if READS_STATE.search(p.read_text(encoding="utf-8"))
    }
    assert readers <= set(STATE_NAMES), sorted(readers - set(STATE_NAMES))


@pytest.mark.source
def test_every_state_field_lua_reads_is_sent() -> None:
    state, overwrite = lua_reads()
    # what the plugin calls on the state module itself is not a field
    module = {"current", "set", "get", "on_model_changed", "on_exit"}
    # SetModelResult: the state and its message
    known = set(SetModelResult.__annotations__) | module
    assert set(state) - known == set(), {f: state[f] for f in set(state) - known}
    assert set(overwrite) <= set(WIRE_OVERWRITE), overwrite
    # the check sees what it should: fields every editor shows
    assert {"model", "scope", "persistedModel", "apiKey", "configPath", "overwrite"} <= set(state)
    assert {"resolution", "replacedModel"} <= set(overwrite)


@pytest.mark.source
@pytest.mark.parametrize("name", sorted(STATE_NAMES))
def test_each_listed_lua_file_still_reads_a_state(name: str) -> None:
    state, _ = lua_reads()
    assert any(name in files for files in state.values()), name
