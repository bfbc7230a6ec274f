"""A JSON value's type as a user would name it, for every "must be X, got Y" message."""

from __future__ import annotations

from typing import Any

_NAMES: dict[type, str] = {str: "a string", list: "a list", dict: "an object"}


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return _NAMES.get(type(value), type(value).__name__)
