"""The client's `initializationOptions`, with defaults. Invalid options are reported and ignored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

DEFAULT_CATALOG_URL = "https://models.dev/api.json"


class InitializationOptions(NamedTuple):
    config_path: str | None = None
    catalog_url: str = DEFAULT_CATALOG_URL
    catalog_auto_refresh: bool = False
    include_tunacode_registry: bool = True
    stale_overwrite: str = "ask"  # PROTOCOL.md section 9: "ask", "restore" or "accept"


_CAMEL = {
    "configPath": "config_path",
    "catalogUrl": "catalog_url",
    "catalogAutoRefresh": "catalog_auto_refresh",
    "includeTunacodeRegistry": "include_tunacode_registry",
    "staleOverwrite": "stale_overwrite",
}
STALE_OVERWRITE = ("ask", "restore", "accept")


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


_ACCEPTS: dict[str, Callable[[Any], bool]] = {
    "config_path": lambda v: v is None or _text(v),
    "catalog_url": _text,
    "catalog_auto_refresh": lambda v: isinstance(v, bool),
    "include_tunacode_registry": lambda v: isinstance(v, bool),
    "stale_overwrite": lambda v: v in STALE_OVERWRITE,
}


_EXPECTED = {
    "config_path": "a path (a string)",
    "catalog_url": "a URL (a string)",
    "catalog_auto_refresh": "true or false",
    "include_tunacode_registry": "true or false",
    "stale_overwrite": "'ask', 'restore' or 'accept'",
}


def parse_options(raw: Any) -> tuple[InitializationOptions, list[str]]:
    """Options and the problems found; a bad option keeps its default."""
    opts = InitializationOptions()
    chosen: dict[str, Any] = {}
    problems: list[str] = []
    if raw is None or raw == []:
        return opts, problems
    if not isinstance(raw, dict):
        return opts, [f"initializationOptions must be an object, got {type(raw).__name__}"]
    for key, value in raw.items():
        name = _CAMEL.get(key)
        if name is None:
            continue  # unknown options are other tools' business
        if not _ACCEPTS[name](value):
            problems.append(
                f"initializationOptions.{key} is {value!r:.40}, expected "
                + _EXPECTED.get(name, f"a value of another type than {type(value).__name__}")
                + f"; using the default ({getattr(opts, name)!r})"
            )
            continue
        chosen[name] = value
    return opts._replace(**chosen), problems
