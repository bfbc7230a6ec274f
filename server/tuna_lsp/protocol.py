"""The tuna/* protocol in types: the params of every custom method and command, checked on the way
in, and the shapes of what goes out (PROTOCOL.md sections 3 to 9).

Params arrive as plain JSON (see the converter in `server.py`). Each `parse` either returns a typed
value or raises `InvalidParams` (-32602) with a message that says what was wrong and what is
expected. Results are built by `wire.py` as the TypedDicts below; `vscode-extension/src/lsp_ext.ts`
mirrors them, and a test compares the two. Must not import lsprotocol.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, TypedDict

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from .core.json_kind import json_kind

REQUEST_FAILED = -32803
SERVER_NOT_INITIALIZED = -32002

Scope = Literal["global", "workspace", "session"]
StateScope = Literal["session", "workspace", "global", "default"]
Origin = Literal["initial", "client", "external"]
SET_SCOPES: dict[str, Scope] = {
    "global": "global",
    "default": "global",  # tunacode's old keyword: global, kept working
    "workspace": "workspace",
    "session": "session",
}
CLEAR_SCOPES = ("session", "workspace")
SCOPE_HELP = (
    "'global' (saved to the shared config, the default), 'workspace' (this folder, remembered "
    "by tuna-lsp) or 'session' (this window only)"
)


class RequestFailed(JsonRpcException):
    CODE = REQUEST_FAILED


class NotInitialized(JsonRpcException):
    CODE = SERVER_NOT_INITIALIZED

    def __init__(self) -> None:
        super().__init__("the server is not initialized yet", code=SERVER_NOT_INITIALIZED)


# ---- reading params -------------------------------------------------------------------------


def params_object(params: Any, method: str) -> dict[str, Any]:
    """Params as a dict; null and [] (Neovim's empty table) mean no params."""
    if params is None or params == []:
        return {}
    if isinstance(params, dict):
        return params
    raise JsonRpcInvalidParams(
        f"{method}: params must be an object, got {json_kind(params)}; expected {{...}} (see PROTOCOL.md)"
    )


def int_param(p: dict[str, Any], key: str, default: int, lo: int, hi: int, method: str) -> int:
    value = p.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise JsonRpcInvalidParams(
            f"{method}: {key} must be an integer; expected {lo} to {hi}, got {value!r:.40}"
        )
    return value


def str_param(p: dict[str, Any], key: str, method: str) -> str | None:
    value = p.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 512:
        raise JsonRpcInvalidParams(
            f"{method}: {key} must be a string; expected at most 512 characters"
        )
    return value


def set_scope(value: Any, method: str) -> Scope:
    if not isinstance(value, str) or value not in SET_SCOPES:
        raise JsonRpcInvalidParams(
            f"{method}: scope must be one of three; expected {SCOPE_HELP}, got {value!r:.40}"
        )
    return SET_SCOPES[value]


# ---- params of each method ------------------------------------------------------------------

SET_MODEL_FORMS = (
    "expected [model], [model, scope] (scope 'global', 'workspace', 'session' or 'default') "
    "or [{model, scope}]"
)


class SetModelParams(NamedTuple):
    model: object  # checked by the model-string rules (core.model_string), not here
    scope: Scope

    @classmethod
    def parse(cls, params: Any) -> SetModelParams:
        p = params_object(params, "tuna/setModel")
        if "model" not in p:
            raise JsonRpcInvalidParams(
                "tuna/setModel: missing 'model'; expected {model: 'provider:model_id', "
                "scope?: 'global' | 'workspace' | 'session'}"
            )
        return cls(p["model"], set_scope(p.get("scope", "global"), "tuna/setModel"))

    @classmethod
    def from_command(cls, args: tuple[Any, ...]) -> SetModelParams:
        if len(args) == 1 and isinstance(args[0], dict):
            if "model" not in args[0]:
                raise JsonRpcInvalidParams(f"tuna.setModel: missing 'model'; {SET_MODEL_FORMS}")
            return cls(args[0]["model"], set_scope(args[0].get("scope", "global"), "tuna.setModel"))
        if len(args) in (1, 2) and isinstance(args[0], str):
            scope = args[1] if len(args) == 2 else "global"
            return cls(args[0], set_scope(scope, "tuna.setModel"))
        raise JsonRpcInvalidParams(f"tuna.setModel: got {len(args)} arguments; {SET_MODEL_FORMS}")


class ClearModelParams(NamedTuple):
    scope: Literal["session", "workspace"]

    @classmethod
    def parse(cls, params: Any) -> ClearModelParams:
        p = params_object(params, "tuna/clearModel")
        return cls._of(p.get("scope"), "tuna/clearModel")

    @classmethod
    def from_command(cls, args: tuple[Any, ...]) -> ClearModelParams:
        if len(args) != 1:
            raise JsonRpcInvalidParams(
                f"tuna.clearModel: got {len(args)} arguments; expected ['session'] or ['workspace']"
            )
        return cls._of(args[0], "tuna.clearModel")

    @classmethod
    def _of(cls, scope: Any, method: str) -> ClearModelParams:
        if scope not in CLEAR_SCOPES:
            raise JsonRpcInvalidParams(
                f"{method}: scope must be 'session' or 'workspace'; expected one of these (the global model "
                f"is changed by setting another), got {scope!r:.40}"
            )
        return cls(scope)


class ListModelsParams(NamedTuple):
    query: str | None = None
    provider: str | None = None
    limit: int = 50
    offset: int = 0

    @classmethod
    def parse(cls, params: Any) -> ListModelsParams:
        method = "tuna/listModels"
        p = params_object(params, method)
        return cls(
            str_param(p, "query", method),
            str_param(p, "provider", method),
            int_param(p, "limit", 50, 1, 1000, method),
            int_param(p, "offset", 0, 0, 1_000_000, method),
        )

    @classmethod
    def from_command(cls, args: tuple[Any, ...]) -> ListModelsParams:
        if len(args) > 1 or (args and args[0] is not None and not isinstance(args[0], str)):
            raise JsonRpcInvalidParams("tuna.listModels: expected [] or [query] (a string)")
        if args and args[0] is not None and len(args[0]) > 512:
            raise JsonRpcInvalidParams("tuna.listModels: query must be at most 512 characters")
        return cls(args[0] if args else None)


class SetProviderPreferenceParams(NamedTuple):
    model: str
    providers: list[str]

    @classmethod
    def parse(cls, params: Any) -> SetProviderPreferenceParams:
        from .core.model_string import PROVIDER_RE

        method = "tuna/setProviderPreference"
        p = params_object(params, method)
        model, providers = p.get("model"), p.get("providers")
        if not isinstance(model, str) or not model.strip() or len(model) > 256:
            raise JsonRpcInvalidParams(
                f"{method}: model must be a model id; expected e.g. {{model: 'gpt-4.1', "
                "providers: ['openrouter', 'openai']}"
            )
        if (
            not isinstance(providers, list)
            or not providers
            or len(providers) > 64
            or not all(isinstance(x, str) and PROVIDER_RE.fullmatch(x) for x in providers)
        ):
            raise JsonRpcInvalidParams(
                f"{method}: providers must be a non-empty list of provider ids; expected e.g. "
                "['openrouter', 'openai']"
            )
        return cls(model, list(dict.fromkeys(providers)))


class RefreshCatalogParams(NamedTuple):
    url: str | None = None

    @classmethod
    def parse(cls, params: Any) -> RefreshCatalogParams:
        p = params_object(params, "tuna/refreshCatalog")
        return cls(str_param(p, "url", "tuna/refreshCatalog"))

    @classmethod
    def from_command(cls, args: tuple[Any, ...]) -> RefreshCatalogParams:
        if len(args) > 1 or (args and not isinstance(args[0], str)):
            raise JsonRpcInvalidParams("tuna.refreshCatalog: expected [] or [url]")
        return cls(args[0] if args else None)


class HistoryParams(NamedTuple):
    limit: int = 20

    @classmethod
    def parse(cls, params: Any) -> HistoryParams:
        p = params_object(params, "tuna/history")
        return cls(int_param(p, "limit", 20, 1, 1000, "tuna/history"))


# ---- results ----------------------------------------------------------------------------------


class OverwriteWire(TypedDict):
    model: str | None
    replacedModel: str
    droppedKeys: list[str]
    at: str
    resolution: Literal["pending", "restored", "kept"]


class ModelStateWire(TypedDict):
    model: str
    provider: str
    modelId: str
    scope: StateScope
    workspaceFolder: str | None
    workspaceModel: str | None
    persistedModel: str | None
    configPath: str
    name: str | None
    contextWindow: int | None
    apiKey: Literal["present", "missing"]
    apiKeyEnvVar: str | None
    recentModels: list[str]
    warnings: list[str]
    origin: Origin
    viaEditor: bool
    overwrite: OverwriteWire | None
    resolvedFrom: str | None
    configValid: bool
    catalog: dict[str, Any] | None


class SetModelResult(ModelStateWire):
    message: str


class CostWire(TypedDict):
    input: float | None
    output: float | None


class ModelInfoWire(TypedDict):
    model: str
    provider: str
    providerName: str
    modelId: str
    name: str | None
    contextWindow: int | None
    outputLimit: int | None
    cost: CostWire | None
    reasoning: bool | None
    toolCall: bool | None
    recent: bool
    current: bool
    apiKey: Literal["present", "missing"]
    inCatalog: bool


class ListModelsResult(TypedDict):
    items: list[ModelInfoWire]
    total: int
    catalog: dict[str, Any] | None


class CatalogChanged(TypedDict):
    catalog: dict[str, Any] | None
    state: ModelStateWire


# Every custom request and command the server answers, for the clients' typed mirror.
REQUESTS = (
    "tuna/getModel",
    "tuna/setModel",
    "tuna/clearModel",
    "tuna/listModels",
    "tuna/setProviderPreference",
    "tuna/refreshCatalog",
    "tuna/restoreOverwrite",
    "tuna/history",
    "tuna/stats",
)
NOTIFICATIONS = ("tuna/modelChanged", "tuna/catalogChanged")
