"""protocol.py in-process: every tuna/* request's params and every command's arguments, structured
by the one converter. Good params give the typed value (extra fields ignored; null and [] are no
params); each kind of bad one is InvalidParams (-32602) naming the field, what was wrong and what
is expected. And every handler the features register takes the class protocol.py names for it."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest
from pygls.exceptions import JsonRpcInvalidParams
from tuna_lsp import protocol
from tuna_lsp.protocol import (
    COMMANDS,
    REQUEST_PARAMS,
    SCOPE_HELP,
    ApplyEditArgs,
    ClearModelParams,
    EditArg,
    HistoryParams,
    ListModelsParams,
    NoParams,
    PositionArg,
    RangeArg,
    RefreshCatalogParams,
    SetModelParams,
    SetProviderPreferenceParams,
    UsageParams,
    parse,
    parse_command,
)


def request(method: str, params: Any) -> Any:
    return parse(REQUEST_PARAMS[method], params, method)


def refused(method: str, params: Any) -> str:
    with pytest.raises(JsonRpcInvalidParams) as err:
        if method in COMMANDS:
            parse_command(method, tuple(params))
        else:
            request(method, params)
    assert err.value.code == -32602
    message = str(err.value.message)
    assert message.startswith(f"{method}: "), message
    assert "expected" in message, message
    return message


# ---- good params ------------------------------------------------------------------------------

GOOD: list[tuple[str, Any, Any]] = [
    ("tuna/getModel", {"anything": 1}, NoParams()),
    ("tuna/restoreOverwrite", {}, NoParams()),
    ("tuna/stats", {}, NoParams()),
    ("tuna/setModel", {"model": "openai:o3"}, SetModelParams("openai:o3", "global")),
    (
        "tuna/setModel",
        {"model": "openai:o3", "scope": "session"},
        SetModelParams("openai:o3", "session"),
    ),
    (
        "tuna/setModel",
        {"model": "openai:o3", "scope": "workspace"},
        SetModelParams("openai:o3", "workspace"),
    ),
    # tunacode's old keyword is the global scope
    (
        "tuna/setModel",
        {"model": "openai:o3", "scope": "default"},
        SetModelParams("openai:o3", "global"),
    ),
    # the model is checked by the model-string rules (with their own messages), not here
    ("tuna/setModel", {"model": None}, SetModelParams(None, "global")),
    ("tuna/setModel", {"model": 42}, SetModelParams(42, "global")),
    ("tuna/clearModel", {"scope": "session"}, ClearModelParams("session")),
    ("tuna/clearModel", {"scope": "workspace"}, ClearModelParams("workspace")),
    ("tuna/listModels", {}, ListModelsParams(None, None, 50, 0)),
    (
        "tuna/listModels",
        {"query": "gpt", "provider": "openai", "limit": 1000, "offset": 1_000_000},
        ListModelsParams("gpt", "openai", 1000, 1_000_000),
    ),
    # null is the default
    (
        "tuna/listModels",
        {"query": None, "provider": None, "limit": None, "offset": None},
        ListModelsParams(),
    ),
    ("tuna/listModels", {"query": "x" * 512, "limit": 1}, ListModelsParams("x" * 512, limit=1)),
    (
        "tuna/setProviderPreference",
        {"model": "gpt-4.1", "providers": ["openrouter", "openai", "openrouter"]},
        SetProviderPreferenceParams("gpt-4.1", ["openrouter", "openai"]),  # duplicates dropped
    ),
    ("tuna/refreshCatalog", {}, RefreshCatalogParams(None)),
    (
        "tuna/refreshCatalog",
        {"url": "file:///tmp/api.json"},
        RefreshCatalogParams("file:///tmp/api.json"),
    ),
    ("tuna/history", {}, HistoryParams(20)),
    ("tuna/history", {"limit": 5}, HistoryParams(5)),
    ("tuna/usage", {}, UsageParams(30)),
    ("tuna/usage", {"days": 3650}, UsageParams(3650)),
]


@pytest.mark.parametrize(("method", "params", "expected"), GOOD)
def test_good_params_are_structured(method: str, params: Any, expected: Any) -> None:
    got = request(method, params)
    assert got == expected and type(got) is REQUEST_PARAMS[method]
    # the contract lets clients send more: unknown fields are ignored
    assert request(method, {**params, "extra": {"x": [1]}, "Model": 1}) == expected


@pytest.mark.parametrize("method", sorted(REQUEST_PARAMS))
@pytest.mark.parametrize("nothing", [None, [], {}])
def test_null_and_empty_table_are_no_params(method: str, nothing: Any) -> None:
    cls = REQUEST_PARAMS[method]
    if method in ("tuna/setModel", "tuna/clearModel", "tuna/setProviderPreference"):
        message = refused(method, nothing)
        assert "missing '" in message
    else:
        assert request(method, nothing) == cls()


def test_every_request_the_server_answers_has_its_params() -> None:
    assert set(REQUEST_PARAMS) == set(protocol.REQUESTS)
    assert {m.split("/")[0] for m in REQUEST_PARAMS} == {"tuna"}


# ---- bad params: each kind ------------------------------------------------------------------

NOT_AN_OBJECT = ["nope", 3, 1.5, True, ["openai:o3"], [{}]]


@pytest.mark.parametrize("method", sorted(REQUEST_PARAMS))
@pytest.mark.parametrize("params", NOT_AN_OBJECT)
def test_params_that_are_not_an_object(method: str, params: Any) -> None:
    message = refused(method, params)
    assert "params must be an object, got " in message and "(see PROTOCOL.md)" in message


BAD: list[tuple[str, Any, list[str]]] = [
    # missing
    ("tuna/setModel", {}, ["missing 'model'", "{model: 'provider:model_id', scope?:"]),
    ("tuna/setModel", {"scope": "global"}, ["missing 'model'"]),
    ("tuna/clearModel", {}, ["missing 'scope'", "{scope: 'session' or 'workspace'}"]),
    ("tuna/setProviderPreference", {"providers": ["openai"]}, ["missing 'model'", "providers: ["]),
    ("tuna/setProviderPreference", {"model": "gpt-4.1"}, ["missing 'providers'"]),
    # a value outside the choices
    (
        "tuna/setModel",
        {"model": "m", "scope": "forever"},
        ["scope must be one of three", SCOPE_HELP, "got 'forever'"],
    ),
    ("tuna/setModel", {"model": "m", "scope": "Global"}, ["scope must be one of three"]),
    ("tuna/setModel", {"model": "m", "scope": None}, ["scope must be one of three", "got None"]),
    ("tuna/setModel", {"model": "m", "scope": 3}, ["scope must be one of three", "got 3"]),
    ("tuna/setModel", {"model": "m", "scope": ["global"]}, ["scope must be one of three"]),
    (
        "tuna/clearModel",
        {"scope": "global"},
        ["scope must be 'session' or 'workspace'", "got 'global'"],
    ),
    ("tuna/clearModel", {"scope": None}, ["scope must be 'session' or 'workspace'", "got None"]),
    ("tuna/clearModel", {"scope": {}}, ["scope must be 'session' or 'workspace'"]),
    # wrong type
    ("tuna/listModels", {"query": 5}, ["query must be a string", "at most 512 characters"]),
    ("tuna/listModels", {"provider": ["openai"]}, ["provider must be a string"]),
    ("tuna/refreshCatalog", {"url": {}}, ["url must be a string"]),
    ("tuna/listModels", {"limit": "ten"}, ["limit must be an integer", "1 to 1000", "got 'ten'"]),
    (
        "tuna/listModels",
        {"limit": True},
        ["limit must be an integer", "got True"],
    ),  # a bool is not one
    ("tuna/listModels", {"limit": 1.0}, ["limit must be an integer"]),
    ("tuna/listModels", {"limit": float("nan")}, ["limit must be an integer"]),
    ("tuna/listModels", {"offset": [1]}, ["offset must be an integer", "0 to 1000000"]),
    ("tuna/history", {"limit": "ten"}, ["limit must be an integer", "1 to 1000"]),
    ("tuna/usage", {"days": "30"}, ["days must be an integer", "1 to 3650"]),
    ("tuna/usage", {"days": True}, ["days must be an integer"]),
    (
        "tuna/setProviderPreference",
        {"model": 7, "providers": ["openai"]},
        ["model must be a model id", "e.g."],
    ),
    (
        "tuna/setProviderPreference",
        {"model": None, "providers": ["openai"]},
        ["model must be a model id"],
    ),
    (
        "tuna/setProviderPreference",
        {"model": "m", "providers": "openai"},
        ["providers must be a non-empty list of provider ids"],
    ),
    (
        "tuna/setProviderPreference",
        {"model": "m", "providers": [1]},
        ["providers must be a non-empty list"],
    ),
    # out of bounds
    ("tuna/listModels", {"query": "x" * 513}, ["query must be a string", "at most 512 characters"]),
    ("tuna/listModels", {"limit": 0}, ["limit must be an integer", "got 0"]),
    ("tuna/listModels", {"limit": 1001}, ["got 1001"]),
    ("tuna/listModels", {"offset": -1}, ["offset must be an integer", "got -1"]),
    ("tuna/listModels", {"offset": 10**40}, ["offset must be an integer"]),
    ("tuna/history", {"limit": 0}, ["limit must be an integer", "1 to 1000"]),
    ("tuna/usage", {"days": 0}, ["days must be an integer", "1 to 3650", "got 0"]),
    ("tuna/usage", {"days": 3651}, ["got 3651"]),
    (
        "tuna/setProviderPreference",
        {"model": "  ", "providers": ["openai"]},
        ["model must be a model id"],
    ),
    (
        "tuna/setProviderPreference",
        {"model": "m" * 257, "providers": ["openai"]},
        ["model must be a model id"],
    ),
    (
        "tuna/setProviderPreference",
        {"model": "m", "providers": []},
        ["providers must be a non-empty list"],
    ),
    (
        "tuna/setProviderPreference",
        {"model": "m", "providers": ["p"] * 65},
        ["providers must be a non-empty list"],
    ),
    (
        "tuna/setProviderPreference",
        {"model": "m", "providers": ["OpenAI"]},
        ["providers must be a non-empty list"],
    ),
]


@pytest.mark.parametrize(("method", "params", "says"), BAD)
def test_bad_params_say_what_was_wrong_and_what_is_expected(
    method: str, params: dict[str, Any], says: list[str]
) -> None:
    message = refused(method, params)
    for part in says:
        assert part in message, (part, message)
    # extra fields change nothing
    assert refused(method, {"other": 1, **params}) == message


def test_the_first_bad_field_is_the_one_reported() -> None:
    message = refused("tuna/listModels", {"offset": -1, "query": 5, "limit": 0})
    assert message.startswith("tuna/listModels: query must be a string")
    assert refused("tuna/setModel", {"scope": "x"}).startswith("tuna/setModel: missing 'model'")


def test_a_value_shown_is_cut_short() -> None:
    message = refused("tuna/listModels", {"limit": "9" * 10_000})
    assert len(message) < 200


# ---- commands -----------------------------------------------------------------------------------

COMMANDS_GOOD: list[tuple[str, tuple[Any, ...], Any]] = [
    ("tuna.setModel", ("openai:o3",), SetModelParams("openai:o3", "global")),
    ("tuna.setModel", ("openai:o3", "session"), SetModelParams("openai:o3", "session")),
    ("tuna.setModel", ("openai:o3", "default"), SetModelParams("openai:o3", "global")),
    (
        "tuna.setModel",
        ({"model": "openai:o3", "scope": "workspace", "x": 1},),
        SetModelParams("openai:o3", "workspace"),
    ),
    ("tuna.getModel", (), NoParams()),
    ("tuna.getModel", ("ignored", 1), NoParams()),
    ("tuna.clearModel", ("session",), ClearModelParams("session")),
    ("tuna.listModels", (), ListModelsParams()),
    ("tuna.listModels", ("gpt",), ListModelsParams("gpt")),
    ("tuna.listModels", (None,), ListModelsParams()),
    ("tuna.refreshCatalog", (), RefreshCatalogParams()),
    ("tuna.refreshCatalog", ("file:///x.json",), RefreshCatalogParams("file:///x.json")),
    (
        "tuna.applyEdit",
        (
            {
                "uri": "file:///c.json",
                "version": 3,
                "edits": [
                    {
                        "range": {
                            "start": {"line": 1, "character": 2},
                            "end": {"line": 1, "character": 9},
                        },
                        "newText": "x",
                    }
                ],
            },
        ),
        ApplyEditArgs(
            "file:///c.json", [EditArg(RangeArg(PositionArg(1, 2), PositionArg(1, 9)), "x")], 3
        ),
    ),
    ("tuna.applyEdit", ({"uri": "u", "version": None, "edits": []},), ApplyEditArgs("u", [], None)),
]


@pytest.mark.parametrize(("name", "args", "expected"), COMMANDS_GOOD)
def test_good_command_arguments_are_structured(
    name: str, args: tuple[Any, ...], expected: Any
) -> None:
    assert parse_command(name, args) == expected


EDIT = {
    "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}},
    "newText": "",
}
COMMANDS_BAD: list[tuple[str, list[Any], list[str]]] = [
    ("tuna.setModel", [], ["got 0 arguments", "[model], [model, scope]"]),
    ("tuna.setModel", ["a", "b", "c"], ["got 3 arguments"]),
    ("tuna.setModel", ["openai:o3", "x"], ["scope must be one of three", "got 'x'"]),
    ("tuna.setModel", [{"scope": "global"}], ["missing 'model'"]),
    ("tuna.setModel", [{"model": "m", "scope": "forever"}], ["scope must be one of three"]),
    ("tuna.clearModel", [], ["got 0 arguments", "['session'] or ['workspace']"]),
    ("tuna.clearModel", ["session", "x"], ["got 2 arguments"]),
    ("tuna.clearModel", ["global"], ["scope must be 'session' or 'workspace'"]),
    ("tuna.listModels", [5], ["query must be a string"]),
    ("tuna.listModels", ["x" * 513], ["at most 512 characters"]),
    ("tuna.listModels", ["a", "b"], ["got 2 arguments", "[] or [query]"]),
    ("tuna.refreshCatalog", [7], ["url must be a string"]),
    ("tuna.refreshCatalog", ["a", "b"], ["got 2 arguments", "[] or [url]"]),
    ("tuna.applyEdit", [], ["got 0 arguments", "{uri, version, edits}"]),
    ("tuna.applyEdit", ["x"], ["got one argument, a string", "{uri, version, edits}"]),
    ("tuna.applyEdit", [{"uri": "u"}, {}], ["got 2 arguments"]),
    ("tuna.applyEdit", [{"edits": []}], ["missing 'uri'"]),
    ("tuna.applyEdit", [{"uri": 3, "edits": []}], ["uri must be a string"]),
    ("tuna.applyEdit", [{"uri": "u", "edits": "x"}], ["edits must be a list"]),
    (
        "tuna.applyEdit",
        [{"uri": "u", "version": "1", "edits": []}],
        ["version must be an integer or null"],
    ),
    (
        "tuna.applyEdit",
        [{"uri": "u", "edits": ["x"]}],
        ["edits[0] must be an object", "{range, newText}"],
    ),
    (
        "tuna.applyEdit",
        [{"uri": "u", "edits": [EDIT, {"range": EDIT["range"]}]}],
        ["missing 'edits[1].newText'"],
    ),
    (
        "tuna.applyEdit",
        [
            {
                "uri": "u",
                "edits": [{**EDIT, "range": {"start": {"line": -1, "character": 0}, "end": {}}}],
            }
        ],
        ["edits[0].range.start.line must be an integer", "0 or more", "got -1"],
    ),
    (
        "tuna.applyEdit",
        [{"uri": "u", "edits": [{**EDIT, "newText": 5}]}],
        ["edits[0].newText must be a string"],
    ),
]


@pytest.mark.parametrize(("name", "args", "says"), COMMANDS_BAD)
def test_bad_command_arguments_say_what_is_expected(
    name: str, args: list[Any], says: list[str]
) -> None:
    message = refused(name, args)
    for part in says:
        assert part in message, (part, message)


def test_every_command_has_its_arguments() -> None:
    assert set(COMMANDS) == {
        "tuna.setModel",
        "tuna.getModel",
        "tuna.clearModel",
        "tuna.listModels",
        "tuna.refreshCatalog",
        "tuna.applyEdit",
    }


def test_usage_days_are_core_usages() -> None:
    from tuna_lsp.base.usage import DEFAULT_DAYS, MAX_DAYS

    assert protocol.USAGE_DAYS == (1, MAX_DAYS, DEFAULT_DAYS)
    assert UsageParams().days == DEFAULT_DAYS


# ---- the handlers take what protocol.py gives them -------------------------------------------


class Recorder:
    """Stands for the server: records what each feature registers."""

    def __init__(self) -> None:
        self.requests: dict[str, Any] = {}
        self.commands: dict[str, Any] = {}

    def handle(self, method: str, handler: Any, options: Any = None) -> None:
        self.requests[method] = handler

    def handle_command(self, name: str, handler: Any) -> None:
        self.commands[name] = handler


def registered() -> Recorder:
    from tuna_lsp.events import Events
    from tuna_lsp.features.catalog import CatalogFeature
    from tuna_lsp.features.documents import DocumentsFeature
    from tuna_lsp.features.listing import ListingFeature
    from tuna_lsp.features.model import ModelFeature

    server: Any = Recorder()
    events = Events()
    catalog = CatalogFeature(server, events)
    model = ModelFeature(server, events, catalog)
    listing = ListingFeature(server, model, catalog)
    for feature in (
        catalog,
        model,
        listing,
        DocumentsFeature(server, events, model, catalog, listing),
    ):
        feature.register()
    return typing.cast(Recorder, server)


def params_type(handler: Any) -> Any:
    """The type of a handler's one parameter."""
    (name,) = inspect.signature(handler).parameters
    return typing.get_type_hints(handler)[name]


def test_every_tuna_request_handler_takes_its_params_class() -> None:
    server = registered()
    tuna = {m: h for m, h in server.requests.items() if m.startswith("tuna/")}
    assert set(tuna) == set(REQUEST_PARAMS)
    for method, handler in tuna.items():
        assert params_type(handler) is REQUEST_PARAMS[method], method


def test_every_command_handler_takes_its_params_class() -> None:
    server = registered()
    assert set(server.commands) == set(COMMANDS)
    for name, handler in server.commands.items():
        assert params_type(handler) is COMMANDS[name].params, name


async def test_the_server_hands_handlers_structured_params() -> None:
    """server.handle wraps a tuna/* handler: raw JSON in, the typed value to the handler; sync
    stays sync and async stays async (pygls calls them differently)."""
    import inspect

    from tuna_lsp.protocol import structured_command, structured_request

    seen: list[Any] = []

    def sync_handler(params: HistoryParams) -> str:
        seen.append(params)
        return "done"

    async def async_handler(params: SetModelParams) -> str:
        seen.append(params)
        return "done"

    run = structured_request("tuna/history", sync_handler)
    assert not inspect.iscoroutinefunction(run) and run({"limit": 3}) == "done"
    run_async = structured_request("tuna/setModel", async_handler)
    assert inspect.iscoroutinefunction(run_async) and await run_async({"model": "m"}) == "done"
    command = structured_command("tuna.setModel", async_handler)
    assert await command("m", "session") == "done"
    assert seen == [HistoryParams(3), SetModelParams("m"), SetModelParams("m", "session")]
    with pytest.raises(JsonRpcInvalidParams):
        run({"limit": 0})
    assert len(seen) == 3  # a refused request never reaches its handler
