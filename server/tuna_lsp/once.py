"""`initialize`'s messages, structured and unstructured without writing code.

cattrs structures an attrs class through a function it writes and compiles the first time it
meets the class. That pays for itself on messages that come again and again; `initialize` comes
once per process, and the capabilities a real client sends name dozens of classes (VS Code's: 61,
about 45 ms of code generation, some 7% of a server's start). Here its params are walked by
reflection instead: the attrs fields of each class, renamed to camelCase as lsprotocol names them
on the wire. Every other type (lsprotocol's unions, enums, literals, scalars) still goes through
the converter, so its rules apply unchanged.

The result equals lsprotocol's own (tests compare them for the capabilities of every client
pytest-lsp ships). Anything the walk does not take as it is (a missing field, a list where an
object belongs) is handed to a converter of lsprotocol's, which structures or rejects it exactly as
pygls always did.

The answer, the server's capabilities, is written the same way (`unstructure_once`: another 10 ms
of generated code, for one message): the fields lsprotocol's converter would write, under the
same names, with the same ones left out.
"""

from __future__ import annotations

import enum
import functools
import typing
from collections.abc import Callable, Sequence
from types import NoneType
from typing import Any, TypeVar

import attrs
from lsprotocol.types import is_special_property

T = TypeVar("T")


def _camel(name: str) -> str:
    """lsprotocol's field names on the wire: `text_document` is `textDocument`, `type_` is
    `type`."""
    head, *rest = name.removesuffix("_").split("_")
    return head + "".join(part.title() for part in rest)


def _unresolved(kind: Any) -> bool:
    if isinstance(kind, str | typing.ForwardRef):
        return True
    return any(_unresolved(arg) for arg in typing.get_args(kind))


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, str, Any], ...]:
    """(argument, wire key, resolved type) of each field of an attrs class."""
    fields = attrs.fields(cls)
    # typing.get_type_hints costs more than the rest of the walk: only where a name is unresolved
    hints = typing.get_type_hints(cls) if any(_unresolved(a.type) for a in fields) else {}
    return tuple((a.alias, _camel(a.name), hints.get(a.name, a.type)) for a in fields)


class _NotPlain(Exception):
    """A value the walk does not take as it is: the converter decides."""


def _walker(structure: Callable[[Any, Any], Any]) -> Callable[[Any, type], Any]:
    def obj(value: Any, cls: type) -> Any:
        if type(value) is not dict:
            # cattrs reads a list without strings as an object without fields (Neovim 0.9 sends
            # callHierarchy as [{...}]); anything else, it decides
            if type(value) is not list or any(type(item) is str for item in value):
                raise _NotPlain
            value = {}
        kwargs = {arg: any_(value[key], kind) for arg, key, kind in _fields(cls) if key in value}
        return cls(**kwargs)  # a required field missing: TypeError, and the converter decides

    def any_(value: Any, kind: Any) -> Any:
        if attrs.has(kind):
            return obj(value, kind)
        args = typing.get_args(kind)
        if typing.get_origin(kind) is typing.Union and len(args) == 2 and NoneType in args:
            inner = args[0] if args[1] is NoneType else args[1]
            if value is None:
                return None
            if attrs.has(inner) or _sequence_of_objects(inner):
                return any_(value, inner)
        elif _sequence_of_objects(kind):
            if type(value) is not list:
                raise _NotPlain
            items = [obj(item, args[0]) for item in value]
            return items if typing.get_origin(kind) is list else tuple(items)  # as cattrs does
        return structure(value, kind)

    return obj


def _sequence_of_objects(kind: Any) -> bool:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    return origin in (list, Sequence) and len(args) == 1 and attrs.has(args[0])


def structure_once(
    converter: Any, fresh_converter: Callable[[], Any]
) -> Callable[[Any, type], Any]:
    """A structure hook (for a class met once per process) that walks by reflection, and leaves
    what it does not take as it is to `fresh_converter()`, a converter of lsprotocol's without
    this hook."""
    walk = _walker(converter.structure)

    def hook(value: Any, cls: type[T]) -> T:
        try:
            result: T = walk(value, cls)
            return result
        except Exception:  # whatever it is, lsprotocol's converter decides
            result = fresh_converter().structure(value, cls)
            return result

    return hook


@functools.cache
def _wire_fields(cls: type) -> tuple[tuple[str, str, Any], ...]:
    """(attribute, wire key, default or _KEEP) of each field; a field at its default is left out
    unless lsprotocol marks it special (a discriminator such as `kind`), as its converter does."""

    def default(a: Any) -> Any:
        if a.default is attrs.NOTHING or is_special_property(cls, a.name):
            return _KEEP
        if isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            return _KEEP if a.default.takes_self else a.default.factory()
        return a.default

    return tuple((a.name, _camel(a.name), default(a)) for a in attrs.fields(cls))


_KEEP = object()
_SCALARS = (str, int, float, bool, NoneType)


def unstructure_once(value: Any, converter: Any) -> Any:
    """`value` as lsprotocol's converter would write it on the wire, by reflection (for a message
    sent once per process, such as initialize's result). What is not an attrs object, an enum, a
    list, a dict or a scalar goes through `converter`."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if attrs.has(kind):
        out = {}
        for name, key, default in _wire_fields(kind):
            field = getattr(value, name)
            if default is _KEEP or field != default:
                out[key] = unstructure_once(field, converter)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if kind in (list, tuple):
        return [unstructure_once(item, converter) for item in value]
    if kind is dict:
        return {k: unstructure_once(v, converter) for k, v in value.items()}
    return converter.unstructure(value)
