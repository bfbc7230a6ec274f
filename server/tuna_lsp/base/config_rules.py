"""The rules of tunacode.json's fields, written once: tunacode 0.2.3's `load_config` checks
after merging its defaults (a missing key is fine, a wrong type is not). Two readers walk them:

- the store (storage/config_store.py) refuses to write a file whose fields the server owns or
  relies on (`owned`) break a rule: the first such problem is its `invalid-config` message;
- the diagnostics (text/config_schema.py) show every problem at its value, as an error the CLI
  would refuse to start with.

Pure: no file, no LSP. Must not import lsprotocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from .json_kind import json_kind

Path = tuple[str | int, ...]


class Problem(NamedTuple):
    path: Path  # of the value at fault; () is the whole document
    message: str  # lower case first, no full stop: "default_model must be ..."
    owned: bool  # a field the server writes or reads to do its job: it will not write the file


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def problems(data: Any) -> Iterator[Problem]:
    """Each broken rule of the top level, `default_model`, `recent_models` and `env`, in the
    order the fields are checked. (`settings` has its own table in text/config_schema.py: only
    the diagnostics read it.)"""
    if not isinstance(data, dict):
        yield Problem((), f"the top level must be a JSON object, got {json_kind(data)}", True)
        return
    if "default_model" in data and not _text(data["default_model"]):
        got = json_kind(data["default_model"])
        yield Problem(
            ("default_model",), f"default_model must be a non-empty string, got {got}", True
        )
    if "recent_models" in data:
        recents = data["recent_models"]
        if not isinstance(recents, list):
            got = json_kind(recents)
            yield Problem(
                ("recent_models",),
                f"recent_models must be a list of model strings, got {got}",
                True,
            )
        else:
            for i, item in enumerate(recents):
                if not _text(item):
                    yield Problem(
                        ("recent_models", i),
                        f"recent_models[{i}] must be a non-empty string, got {json_kind(item)}",
                        True,
                    )
    if "env" in data:
        env = data["env"]
        if not isinstance(env, dict):
            yield Problem(
                ("env",),
                "env must be an object of environment variable names to strings, "
                f"got {json_kind(env)}",
                True,
            )
        else:
            for name, value in env.items():
                if not isinstance(value, str):  # the CLI's rule; the server reads env as a dict
                    yield Problem(
                        ("env", name), f"env.{name} must be a string, got {json_kind(value)}", False
                    )


def first_owned(data: Any) -> str | None:
    """The store's verdict: why the server will not write this document, or None."""
    return next((p.message for p in problems(data) if p.owned), None)
