"""once.py: `initialize` params walked by reflection give what lsprotocol's converter gives,
for what real clients send, without cattrs writing a function per class; what the walk does not
take as it is goes to lsprotocol's converter, which structures or rejects it as it always did."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import cattrs.gen
import pytest
import pytest_lsp.clients
from lsprotocol import types
from pygls.protocol import default_converter
from tuna_lsp.once import structure_once, unstructure_once
from tuna_lsp.transport import converter_factory

CLIENTS = sorted(Path(pytest_lsp.clients.__file__).parent.glob("*.json"))


def _initialize(capabilities: Any, **extra: Any) -> dict[str, Any]:
    params = {
        "processId": 7,
        "clientInfo": {"name": "editor", "version": "1"},
        "rootUri": "file:///home/u/project",
        "workspaceFolders": [{"uri": "file:///home/u/project", "name": "project"}],
        "initializationOptions": {"configPath": "/home/u/.config/tunacode.json", "x": []},
        "trace": "verbose",
        "locale": "en",
        "capabilities": capabilities,
        **extra,
    }
    return {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}


def _generated(patch: pytest.MonkeyPatch, maker: str = "make_dict_structure_fn") -> list[type]:
    """The classes cattrs writes a structuring (or, with `maker`, an unstructuring) function for,
    from now on."""
    made: list[type] = []
    real = getattr(cattrs.gen, maker)

    def spy(cl: type, *args: Any, **kwargs: Any) -> Any:
        made.append(cl)
        return real(cl, *args, **kwargs)

    patch.setattr(cattrs.gen, maker, spy)
    return made


@pytest.mark.parametrize("client", CLIENTS, ids=lambda p: p.stem)
def test_real_clients_capabilities_as_lsprotocol_reads_them(
    client: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _initialize(json.loads(client.read_text())["capabilities"])
    expected = default_converter().structure(message, types.InitializeRequest)
    made = _generated(monkeypatch)
    got = converter_factory().structure(message, types.InitializeRequest)
    assert got == expected
    # lsprotocol's converter writes one function per class the capabilities name (61 for VS
    # Code's); the walk leaves it the odd union's option class
    assert types.InitializeParams not in made
    assert types.ClientCapabilities not in made
    assert types.InitializeRequest not in made
    assert len(made) <= 3, made


@pytest.mark.parametrize("params", [{}, {"x": 1}, None])
def test_initialized_as_lsprotocol_reads_it(params: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    message = {"jsonrpc": "2.0", "method": "initialized", "params": params}
    expected = default_converter().structure(message, types.InitializedNotification)
    made = _generated(monkeypatch)
    got = converter_factory().structure(message, types.InitializedNotification)
    assert got == expected
    if params is not None:  # (null: lsprotocol decides; the transport sends {} instead)
        assert made == []


def test_a_list_for_an_object_reads_as_lsprotocol_reads_it() -> None:
    # Neovim 0.9 sends callHierarchy as a list; cattrs reads it as an object without fields
    caps = {"textDocument": {"callHierarchy": [{"dynamicRegistration": False}]}}
    message = _initialize(caps)
    expected = default_converter().structure(message, types.InitializeRequest)
    assert converter_factory().structure(message, types.InitializeRequest) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"processId": 1},  # no capabilities
        {"processId": 1, "capabilities": 5},
        {"processId": "one", "capabilities": {}},
        {"processId": 1, "capabilities": {"workspace": ["applyEdit"]}},
        {"processId": 1, "capabilities": {}, "trace": "loud"},
        {"processId": 1, "capabilities": {}, "workspaceFolders": {"uri": "file:///x"}},
    ],
)
def test_what_the_walk_does_not_take_lsprotocol_decides(params: dict[str, Any]) -> None:
    handed: list[Any] = []

    def fresh() -> Any:
        handed.append(params)
        return default_converter()

    hook = structure_once(default_converter(), fresh)
    try:
        expected: Any = default_converter().structure(params, types.InitializeParams)
    except Exception as exc:  # the same failure is expected of the hook
        with pytest.raises(type(exc)):
            hook(params, types.InitializeParams)
    else:
        assert hook(params, types.InitializeParams) == expected
    assert handed == [params]


async def _answer(message: dict[str, Any]) -> tuple[str, list[type]]:
    """The server's answer to `message` as it writes it on the wire, and the classes cattrs wrote
    an unstructuring function for meanwhile."""
    from tuna_lsp.setup import create_server

    server = create_server()
    sent: list[bytes] = []

    class Writer:
        def write(self, data: bytes) -> None:
            sent.append(data)

        def close(self) -> None:
            pass

    server.protocol.set_writer(Writer())
    with pytest.MonkeyPatch.context() as patch:
        made = _generated(patch, "make_dict_unstructure_fn")
        server.protocol.handle_message(server.protocol.structure_message(message))
        for _ in range(100):  # a few loop turns at most
            if sent:
                break
            await asyncio.sleep(0)
    assert sent, "no answer"
    return sent[0].split(b"\r\n\r\n", 1)[1].decode(), made


@pytest.mark.parametrize("client", CLIENTS, ids=lambda p: p.stem)
async def test_initialize_result_written_as_lsprotocol_writes_it(
    client: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the server's own answer to this client: its features' capabilities, fitted to the client's
    from pygls.protocol import LanguageServerProtocol
    from tuna_lsp.transport import TunaProtocol

    message = _initialize(json.loads(client.read_text())["capabilities"])
    ours, made = await _answer(message)
    assert json.loads(ours)["result"]["capabilities"]["textDocumentSync"]
    assert made == []  # lsprotocol's converter writes a function per class (10 ms)
    # the same server, writing its answer as pygls does
    monkeypatch.setattr(
        TunaProtocol, "_serialize_message", LanguageServerProtocol._serialize_message
    )
    theirs, made = await _answer(message)
    assert made, "pygls's own path should have generated its functions"
    assert ours == theirs


def test_server_set_up_generates_no_unstructuring_function() -> None:
    # pygls writes each feature's options with the converter to check their type; for the
    # options tuna-lsp registers, that is the walk's work, not cattrs's code generation
    from tuna_lsp.setup import create_server
    from tuna_lsp.transport import ONCE_UNSTRUCTURED

    with pytest.MonkeyPatch.context() as patch:
        made = _generated(patch, "make_dict_unstructure_fn")
        server = create_server()
    assert made == []
    options = server.protocol.fm.feature_options
    assert {type(o) for o in options.values()} <= set(ONCE_UNSTRUCTURED), options
    for value in options.values():
        assert unstructure_once(
            value, server.protocol._converter
        ) == default_converter().unstructure(value)


def test_unstructure_once_leaves_out_what_lsprotocol_leaves_out() -> None:
    value = types.InitializeResult(
        capabilities=types.ServerCapabilities(
            position_encoding=types.PositionEncodingKind.Utf8,
            text_document_sync=types.TextDocumentSyncOptions(
                open_close=True, change=types.TextDocumentSyncKind.Incremental
            ),
            completion_provider=types.CompletionOptions(trigger_characters=['"', ":"]),
            hover_provider=True,
            code_action_provider=types.CodeActionOptions(
                code_action_kinds=[types.CodeActionKind.QuickFix], resolve_provider=False
            ),
            document_symbol_provider=types.DocumentSymbolOptions(label="x"),
            workspace=types.WorkspaceOptions(
                workspace_folders=types.WorkspaceFoldersServerCapabilities(
                    supported=True, change_notifications="id"
                ),
                file_operations=types.FileOperationOptions(
                    did_create=types.FileOperationRegistrationOptions(
                        filters=[
                            types.FileOperationFilter(
                                pattern=types.FileOperationPattern(
                                    glob="**/*.json", matches=types.FileOperationPatternKind.File
                                ),
                                scheme="file",
                            )
                        ]
                    )
                ),
            ),
            experimental={"tuna": [1, None, {"a": True}]},
        ),
        server_info=types.ServerInfo(name="tuna-lsp"),
    )
    converter = default_converter()
    assert unstructure_once(value, converter) == converter.unstructure(value)
