"""Stale overwrites by a running tunacode (PROTOCOL.md section 9), as pure functions on the config's
data: recognizing one, and the data a restore writes.

tunacode 0.2.3 keeps the config it read at start in memory; every save other than `/model` writes
that copy back in place, which puts back the `default_model` it started with and drops every key
it does not know. Such a write changes `default_model` away from the current value while the model
it replaces is no longer in `recent_models`: it was there before the write and is gone after (a CLI
that re-read the file, as `/model` does, keeps it there; a default set by hand without a recent
was never recorded, so replacing it undoes nothing). Must not import lsprotocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from ..storage.config_store import with_model
from ..storage.jsonl import iso, utc_now

Resolution = Literal["pending", "restored", "kept"]


class Overwrite(NamedTuple):
    model: str | None  # what the overwrite put in
    replaced_model: str  # the choice it undid
    dropped_keys: tuple[str, ...]  # "key" or "parent.key", names only, never values
    at: str
    resolution: Resolution
    # the data from before the overwrite: where a restore takes the dropped keys' last values
    base: Mapping[str, Any]

    def resolved(self, resolution: Resolution) -> Overwrite:
        return self._replace(resolution=resolution)


def _default(data: Mapping[str, Any]) -> str | None:
    value = data.get("default_model")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _recents(data: Mapping[str, Any]) -> list[str]:
    value = data.get("recent_models")
    return [v.strip() for v in value if isinstance(v, str)] if isinstance(value, list) else []


def dropped_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Keys present before and gone after: top-level ones, and those one level down in objects
    both versions have (a setting tunacode does not know, say)."""
    out: list[str] = []
    for key, value in before.items():
        if key not in after:
            out.append(key)
        elif isinstance(value, dict) and isinstance(after[key], dict):
            out += [f"{key}.{k}" for k in value if k not in after[key]]
    return out


def detect(before: Mapping[str, Any], after: Mapping[str, Any]) -> Overwrite | None:
    replaced, model = _default(before), _default(after)
    if replaced is None or model == replaced or replaced in _recents(after):
        return None
    if replaced not in _recents(before):
        return (
            None  # "no longer" in the recents: a model set by hand, never recorded, is not undone
        )
    return Overwrite(
        model, replaced, tuple(dropped_keys(before, after)), iso(utc_now()), "pending", dict(before)
    )


def never_restored(name: str) -> bool:
    """API keys (`env`) the overwrite removed stay removed: the user may have revoked them
    through the CLI (PROTOCOL.md 9)."""
    return name == "env" or name.startswith("env.")


def still_in_effect(ow: Overwrite, data: Mapping[str, Any]) -> bool:
    """Whether the file still shows the overwrite (nobody restored or changed the model since)."""
    return _default(data) == ow.model and ow.replaced_model not in _recents(data)


def restored(ow: Overwrite, data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The data a restore writes: the undone model back as default and first recent, the dropped
    keys back with their last values; everything else the overwrite changed stays. None when the
    file no longer shows the overwrite (another window restored it first): nothing to write."""
    if not still_in_effect(ow, data):
        return None
    new = dict(data)
    for name in ow.dropped_keys:
        if never_restored(name):
            continue
        parent, _, child = name.partition(".")
        if not child:
            if parent not in new and parent in ow.base:
                new[parent] = ow.base[parent]
        elif (
            isinstance(new.get(parent), dict)
            and isinstance(ow.base.get(parent), dict)
            and child not in new[parent]
            and child in ow.base[parent]
        ):
            new[parent] = {**new[parent], child: ow.base[parent][child]}
    return with_model(new, ow.replaced_model)


def message(found: Overwrite, path: object) -> str:
    """What the user is told: both models and the dropped keys' names, never a value."""
    dropped = f" and dropped {', '.join(found.dropped_keys)}" if found.dropped_keys else ""
    kept_out = [name for name in found.dropped_keys if never_restored(name)]
    not_restored = (
        f" (a restore leaves {', '.join(kept_out)} out: an API key removed may have been revoked)"
        if kept_out
        else ""
    )
    return (
        f"A stale copy of {path} was written back (a running tunacode saves the config it loaded "
        f"at start): it replaced {found.replaced_model} with {found.model or 'no model'}{dropped}"
        f"{not_restored}"
    )
