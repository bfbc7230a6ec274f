"""The client's `initializationOptions` (PROTOCOL.md 11), with defaults: one attrs class, each
option a field named in camelCase on the wire, its check a `Rule` in its type, read by protocol's
cattrs converter. A bad option is reported (named, with what is expected) and keeps its default;
the others are used; unknown ones (other tools' business) are ignored. (`authToken` is removed by
the transport before anything reads the options.)

Read an option at a time, not as a class: so one bad option costs only itself, and `initialize`
(before the first status) has the converter write no code."""

import functools
from typing import Annotated, Any, Literal

import attrs

from .protocol import Invalid, Rule, camel, structure

DEFAULT_CATALOG_URL = "https://models.dev/api.json"
STALE_OVERWRITE = ("ask", "restore", "accept")


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _option(expected: str, accept: Any) -> Rule:
    return Rule("is not valid", expected, accept)


# (no `from __future__ import annotations` here: the fields' types are objects at once, and
# `initialize` resolves no strings)
ConfigPath = Annotated[str | None, _option("a path (a string)", lambda v: v is None or _text(v))]
Url = Annotated[str, _option("a URL (a string)", _text)]
Flag = Annotated[bool, _option("true or false", _is_bool)]
StaleOverwrite = Annotated[
    Literal["ask", "restore", "accept"],
    _option("'ask', 'restore' or 'accept'", lambda v: v in STALE_OVERWRITE),
]


@attrs.frozen
class InitializationOptions:
    config_path: ConfigPath = None
    catalog_url: Url = DEFAULT_CATALOG_URL
    catalog_auto_refresh: Flag = False
    include_tunacode_registry: Flag = True
    stale_overwrite: StaleOverwrite = "ask"  # PROTOCOL.md section 9: what to do about one


@functools.cache
def _fields() -> "tuple[tuple[str, attrs.Attribute[Any]], ...]":
    """Each option's key on the wire and its field."""
    return tuple((camel(field.name), field) for field in attrs.fields(InitializationOptions))


def parse_options(raw: Any) -> tuple[InitializationOptions, list[str]]:
    """Options and the problems found; a bad option keeps its default."""
    opts = InitializationOptions()
    if raw is None or raw == []:
        return opts, []
    if not isinstance(raw, dict):
        return opts, [f"initializationOptions must be an object, got {type(raw).__name__}"]
    chosen: dict[str, Any] = {}
    problems: list[str] = []
    for key, field in _fields():
        if key not in raw:
            continue
        value = raw[key]
        try:
            chosen[field.name] = structure(value, field.type)
        except Invalid as exc:
            problems.append(
                f"initializationOptions.{key} is {value!r:.40}, expected {exc.rule.expected}"
                f"; using the default ({field.default!r})"
            )
    return attrs.evolve(opts, **chosen), problems
