"""The tuna/* protocol in types: the params of every custom method and the arguments of every
command, structured on the way in, and the shapes of what goes out (PROTOCOL.md sections 3 to 10).

Params arrive as plain JSON (transport.py keeps them so). `server.py` hands each tuna/* handler
its params structured here, by one cattrs converter (`converter`), into the attrs class that
`REQUEST_PARAMS` (or `COMMANDS`) names for the method: a handler never sees raw JSON. A value the
converter refuses is `InvalidParams` (-32602) with a message that says what was wrong and what is
expected. The checks are the `Rule`s in the fields' types (`Annotated[T, Rule]`); a field is named
on the wire by its attribute in camelCase; null and [] (Neovim's empty table) are no params;
unknown fields are ignored (the contract lets clients send more).

Results are built by `wire.py` as the TypedDicts below; `vscode-extension/src/lsp_ext.ts` mirrors
them, and tests compare the two (and what the Neovim plugin reads). Must not import lsprotocol.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, NamedTuple, TypedDict, TypeVar

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote, ClassValidationError, IterableValidationNote
from cattrs.gen import make_dict_structure_fn, override
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from .base.json_kind import json_kind
from .base.model_string import PROVIDER_RE

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
MAX_TEXT = 512
USAGE_DAYS = (1, 3650, 30)  # base.usage's MIN, MAX_DAYS, DEFAULT_DAYS (a test holds them equal)

T = TypeVar("T")


class RequestFailed(JsonRpcException):
    CODE = REQUEST_FAILED


class NotInitialized(JsonRpcException):
    CODE = SERVER_NOT_INITIALIZED

    def __init__(self) -> None:
        super().__init__("the server is not initialized yet", code=SERVER_NOT_INITIALIZED)


# ---- rules: what a field takes ---------------------------------------------------------------


def _keep(value: Any) -> Any:
    return value


class Rule:
    """What a field of type `Annotated[T, rule]` takes: a value `accept` refuses is reported as
    "<field> <must>; expected <expected>[, got <value>]"; an accepted one goes through `convert`,
    then the converter's hook for T."""

    __slots__ = ("accept", "convert", "expected", "must", "show_value")

    def __init__(
        self,
        must: str,
        expected: str,
        accept: Callable[[Any], bool],
        convert: Callable[[Any], Any] = _keep,
        *,
        show_value: bool = False,
    ) -> None:
        self.must, self.expected, self.accept = must, expected, accept
        self.convert, self.show_value = convert, show_value

    def problem(self, name: str, value: Any) -> str:
        got = f", got {value!r:.40}" if self.show_value else ""
        return f"{name} {self.must}; expected {self.expected}{got}"


class Invalid(ValueError):
    """A value a rule refused (raised inside the converter, reported with the field's name)."""

    def __init__(self, rule: Rule, value: Any) -> None:
        super().__init__(rule.problem("value", value))
        self.rule = rule
        self.value = value


def int_range(lo: int, hi: int, default: int) -> Rule:
    """An integer from lo to hi; null is the default. (A boolean is not an integer.)"""
    return Rule(
        "must be an integer",
        f"{lo} to {hi}",
        lambda v: v is None or (type(v) is int and lo <= v <= hi),
        lambda v: default if v is None else v,
        show_value=True,
    )


def _text(v: Any) -> bool:
    return v is None or (isinstance(v, str) and len(v) <= MAX_TEXT)


def _set_scope(v: Any) -> bool:
    return isinstance(v, str) and v in SET_SCOPES


def _model_id(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip()) and len(v) <= 256


def _providers(v: Any) -> bool:
    return (
        isinstance(v, list)
        and 0 < len(v) <= 64
        and all(isinstance(x, str) and PROVIDER_RE.fullmatch(x) for x in v)
    )


def _uint(v: Any) -> bool:
    return type(v) is int and 0 <= v < 2**31


Text = Annotated[str | None, Rule("must be a string", f"at most {MAX_TEXT} characters", _text)]
Limit = Annotated[int, int_range(1, 1000, 50)]
HistoryLimit = Annotated[int, int_range(1, 1000, 20)]
Offset = Annotated[int, int_range(0, 1_000_000, 0)]
Days = Annotated[int, int_range(*USAGE_DAYS)]
SetScope = Annotated[
    Scope,
    Rule("must be one of three", SCOPE_HELP, _set_scope, SET_SCOPES.__getitem__, show_value=True),
]
ClearScope = Annotated[
    Literal["session", "workspace"],
    Rule(
        "must be 'session' or 'workspace'",
        "one of these (the global model is changed by setting another)",
        lambda v: v in CLEAR_SCOPES,
        show_value=True,
    ),
]
PREFERENCE_EXAMPLE = "{model: 'gpt-4.1', providers: ['openrouter', 'openai']}"
ModelId = Annotated[str, Rule("must be a model id", f"e.g. {PREFERENCE_EXAMPLE}", _model_id)]
Providers = Annotated[
    list[str],
    Rule(
        "must be a non-empty list of provider ids",
        "e.g. ['openrouter', 'openai']",
        _providers,
        lambda v: list(dict.fromkeys(v)),
    ),
]
UInt = Annotated[int, Rule("must be an integer", "0 or more", _uint, show_value=True)]
Str = Annotated[str, Rule("must be a string", "text", lambda v: isinstance(v, str))]
Version = Annotated[
    int | None,
    Rule("must be an integer or null", "the document's version", lambda v: v is None or _uint(v)),
]


# ---- params of each method -------------------------------------------------------------------


class Params:
    """An object of the wire: its fields are the attrs fields, named in camelCase. (Its
    subclasses are `attrs.frozen(repr=False, eq=False)`: these generic methods instead of
    generated ones, a fraction of a millisecond less each at start-up.)"""

    __slots__ = ()
    SHAPE: ClassVar[str | None] = None  # what to show as expected when a field is missing

    @classmethod
    def shape(cls) -> str:
        if cls.SHAPE is not None:
            return cls.SHAPE
        names = [
            camel(a.name) + ("?" if a.default is not attrs.NOTHING else "")
            for a in attrs.fields(cls)  # type: ignore[arg-type]
        ]
        return "{" + ", ".join(names) + "}"

    def _values(self) -> tuple[Any, ...]:
        return attrs.astuple(self, recurse=False)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        names = [a.name for a in attrs.fields(type(self))]  # type: ignore[arg-type]
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(names, self._values(), strict=True))
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Params)
            and type(other) is type(self)
            and self._values() == other._values()
        )

    def __hash__(self) -> int:
        return hash((type(self), self._values()))


@attrs.frozen(repr=False, eq=False)
class NoParams(Params):
    """tuna/getModel, tuna/restoreOverwrite, tuna/stats: no params (null, [] or any object)."""


@attrs.frozen(repr=False, eq=False)
class SetModelParams(Params):
    SHAPE = "{model: 'provider:model_id', scope?: 'global' | 'workspace' | 'session'}"

    model: Any  # checked by the model-string rules (base.model_string), not here
    scope: SetScope = "global"


@attrs.frozen(repr=False, eq=False)
class ClearModelParams(Params):
    SHAPE = "{scope: 'session' or 'workspace'}"

    scope: ClearScope


@attrs.frozen(repr=False, eq=False)
class ListModelsParams(Params):
    query: Text = None
    provider: Text = None
    limit: Limit = 50
    offset: Offset = 0


@attrs.frozen(repr=False, eq=False)
class SetProviderPreferenceParams(Params):
    SHAPE = PREFERENCE_EXAMPLE

    model: ModelId
    providers: Providers


@attrs.frozen(repr=False, eq=False)
class RefreshCatalogParams(Params):
    url: Text = None


@attrs.frozen(repr=False, eq=False)
class HistoryParams(Params):
    limit: HistoryLimit = 20


@attrs.frozen(repr=False, eq=False)
class UsageParams(Params):
    days: Days = USAGE_DAYS[2]


# tuna.applyEdit's argument, as wire.apply_edit_command writes it


@attrs.frozen(repr=False, eq=False)
class PositionArg(Params):
    line: UInt
    character: UInt


@attrs.frozen(repr=False, eq=False)
class RangeArg(Params):
    start: PositionArg
    end: PositionArg


@attrs.frozen(repr=False, eq=False)
class EditArg(Params):
    range: RangeArg
    new_text: Str


Edits = Annotated[
    list[EditArg], Rule("must be a list", "[{range, newText}, ...]", lambda v: isinstance(v, list))
]


@attrs.frozen(repr=False, eq=False)
class ApplyEditArgs(Params):
    uri: Str
    edits: Edits
    version: Version = None


REQUEST_PARAMS: dict[str, type[Params]] = {
    "tuna/getModel": NoParams,
    "tuna/setModel": SetModelParams,
    "tuna/clearModel": ClearModelParams,
    "tuna/listModels": ListModelsParams,
    "tuna/setProviderPreference": SetProviderPreferenceParams,
    "tuna/refreshCatalog": RefreshCatalogParams,
    "tuna/restoreOverwrite": NoParams,
    "tuna/history": HistoryParams,
    "tuna/stats": NoParams,
    "tuna/usage": UsageParams,
}


class Command(NamedTuple):
    """A command's arguments: `positional` names them in order (at least `required` of them), or,
    with `object_form`, a single object holds them; `forms` says what is expected otherwise.
    With `ignore_args`, whatever is passed is ignored."""

    params: type[Params]
    forms: str = ""
    positional: tuple[str, ...] = ()
    required: int = 0
    object_form: bool = False
    ignore_args: bool = False


SET_MODEL_FORMS = (
    "expected [model], [model, scope] (scope 'global', 'workspace', 'session' or 'default') "
    "or [{model, scope}]"
)
COMMANDS: dict[str, Command] = {
    "tuna.setModel": Command(SetModelParams, SET_MODEL_FORMS, ("model", "scope"), 1, True),
    "tuna.getModel": Command(NoParams, ignore_args=True),
    "tuna.clearModel": Command(
        ClearModelParams, "expected ['session'] or ['workspace']", ("scope",), 1
    ),
    "tuna.listModels": Command(ListModelsParams, "expected [] or [query] (a string)", ("query",)),
    "tuna.refreshCatalog": Command(RefreshCatalogParams, "expected [] or [url]", ("url",)),
    "tuna.applyEdit": Command(
        ApplyEditArgs,
        "expected one argument {uri, version, edits}, as a quick fix sends it",
        object_form=True,
    ),
}


# ---- structuring -----------------------------------------------------------------------------


def camel(name: str) -> str:
    """A field's name on the wire: `new_text` is `newText` (as lsprotocol names them)."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _rule_of(tp: Any) -> Rule | None:
    if typing.get_origin(tp) is Annotated:
        return next((m for m in tp.__metadata__ if isinstance(m, Rule)), None)
    return None


def _is_params(tp: Any) -> bool:
    return inspect.isclass(tp) and issubclass(tp, Params)


@functools.cache
def converter() -> cattrs.Converter:
    """The one converter of tuna/* params and initialization options: lsprotocol's library, our
    hooks. Built on first use (never before the first status), each class's function when the
    class is first met."""
    conv = cattrs.Converter(detailed_validation=True, forbid_extra_keys=False)

    def rule_hook(tp: Any) -> Callable[[Any, Any], Any]:
        rule = _rule_of(tp)
        assert rule is not None
        base = typing.get_args(tp)[0]
        structure_base = conv.get_structure_hook(base)

        def structure(value: Any, _: Any) -> Any:
            if not rule.accept(value):
                raise Invalid(rule, value)
            return structure_base(rule.convert(value), base)

        return structure

    def params_hook(cls: type[Params]) -> Callable[[Any, Any], Any]:
        renames = {
            a.name: override(rename=camel(a.name))
            for a in attrs.fields(cls)  # type: ignore[arg-type]
            if camel(a.name) != a.name
        }
        structure_fields = make_dict_structure_fn(cls, conv, **renames)  # type: ignore[arg-type]
        is_object = Rule("must be an object", cls.shape(), lambda v: isinstance(v, dict))

        def structure(value: Any, _: Any) -> Any:
            if not is_object.accept(value):
                raise Invalid(is_object, value)
            return structure_fields(value, cls)

        return structure

    conv.register_structure_hook_factory(lambda tp: _rule_of(tp) is not None, rule_hook)
    conv.register_structure_hook_factory(_is_params, params_hook)
    return conv


def structure(value: Any, tp: Any) -> Any:
    """`value` as `tp` (a field's type): raises `Invalid`."""
    return converter().structure(value, tp)


def _first_problem(exc: BaseException, cls: type) -> tuple[str, BaseException, type]:
    """The first field the converter refused (it tries them in order): its path such as
    `edits[0].range.start.line`, what it raised, and the class it belongs to."""
    path = ""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        if isinstance(exc, ClassValidationError):
            cls = exc.cl
        exc = exc.exceptions[0]
        for note in getattr(exc, "__notes__", ()):
            if isinstance(note, AttributeValidationNote):
                path = f"{path}.{camel(note.name)}" if path else camel(note.name)
                break
            if isinstance(note, IterableValidationNote):
                path = f"{path}[{note.index}]"
                break
    return path, exc, cls


def _shape(cls: type) -> str:
    return cls.shape() if issubclass(cls, Params) else "{...}"


def parse(cls: type[T], params: Any, method: str) -> T:
    """The params of `method` as `cls`, or InvalidParams saying what was wrong and what is
    expected."""
    if params is None or params == []:
        params = {}
    if not isinstance(params, dict):
        raise JsonRpcInvalidParams(
            f"{method}: params must be an object, got {json_kind(params)}; expected "
            f"{_shape(cls)} (see PROTOCOL.md)"
        )
    try:
        return converter().structure(params, cls)
    except Exception as exc:  # the converter's errors, grouped by class and field
        path, cause, owner = _first_problem(exc, cls)
        if isinstance(cause, Invalid):
            problem = cause.rule.problem(path, cause.value)
        elif isinstance(cause, KeyError):
            problem = f"missing '{path}'; expected {_shape(owner)}"
        else:  # no rule of ours refused it (a bug): still bad input, still said
            problem = f"{path} is not valid ({cause}); expected {_shape(owner)}"
        raise JsonRpcInvalidParams(f"{method}: {problem}") from None


def parse_command(name: str, args: tuple[Any, ...]) -> Any:
    """The arguments of command `name` as its params class, or InvalidParams."""
    spec = COMMANDS[name]
    if spec.ignore_args:
        return spec.params()
    if spec.object_form and len(args) == 1 and isinstance(args[0], dict):
        return parse(spec.params, args[0], name)
    if spec.positional and spec.required <= len(args) <= len(spec.positional):
        return parse(spec.params, dict(zip(spec.positional, args, strict=False)), name)
    got = f"one argument, {json_kind(args[0])}" if len(args) == 1 else f"{len(args)} arguments"
    raise JsonRpcInvalidParams(f"{name}: got {got}; {spec.forms}")


def _calling(
    handler: Callable[[Any], Any], structure: Callable[[tuple[Any, ...]], Any]
) -> Callable[..., Any]:
    """`handler` behind `structure` (of what pygls passes); async stays async, sync stays sync
    (pygls calls them differently). The `*args` signature tells pygls to pass a command's
    arguments as they came."""
    if inspect.iscoroutinefunction(handler):

        async def run_async(*args: Any) -> Any:
            return await handler(structure(args))

        return run_async

    def run(*args: Any) -> Any:
        return handler(structure(args))

    return run


def structured_request(method: str, handler: Callable[[Any], Any]) -> Callable[..., Any]:
    """`handler`, taking its params as REQUEST_PARAMS[method] says (pygls passes them raw)."""
    cls = REQUEST_PARAMS[method]
    return _calling(handler, lambda args: parse(cls, args[0], method))


def structured_command(name: str, handler: Callable[[Any], Any]) -> Callable[..., Any]:
    """`handler`, taking the command's arguments as COMMANDS[name] says."""
    return _calling(handler, lambda args: parse_command(name, args))


# ---- results ----------------------------------------------------------------------------------


class OverwriteWire(TypedDict):
    model: str | None
    replacedModel: str
    droppedKeys: list[str]
    at: str
    resolution: Literal["pending", "restored", "kept"]


class ModelStateWire(TypedDict):
    """PROTOCOL.md 3: the state, the one definition of its fields in Python. Each is the
    domain's `ModelState` attribute of the same name in snake_case (wire.state_to_wire; tests
    hold the domain, lsp_ext.ts and what the Neovim plugin reads to it)."""

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


class HistoryResult(TypedDict):
    entries: list[dict[str, Any]]


class SetProviderPreferenceResult(TypedDict):
    model: str
    providers: list[str]
    path: str


class RefreshCatalogResult(TypedDict):
    path: str
    providers: int
    catalog: dict[str, Any] | None


class CatalogChanged(TypedDict):
    catalog: dict[str, Any] | None
    state: ModelStateWire


# Every custom request and command the server answers, for the clients' typed mirror.
REQUESTS = tuple(REQUEST_PARAMS)
NOTIFICATIONS = ("tuna/modelChanged", "tuna/catalogChanged")
