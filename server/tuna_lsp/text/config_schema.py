"""What is wrong in a tunacode.json or preferences.toml text, and where: the findings behind the
diagnostics, hovers and quick fixes of the config documents.

The schema rules are the ones tunacode 0.2.3's `load_config` enforces after merging its defaults
(so a missing key is fine, a wrong type is not); a finding with code `syntax` or `schema` means
the CLI refuses to start with this file. The rest (unknown provider or model, missing key,
duplicates) come from the catalog. Must not import lsprotocol.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..core.catalog import Catalog
from ..core.model_string import ModelStringError, parse_model
from .json_doc import Node, offset_of, value_ranges

Severity = Literal["error", "warning", "information", "hint"]
CLI_REFUSES = frozenset({"syntax", "schema"})
REFUSE = "tunacode 0.2.3 refuses to start with this file"

# tunacode 0.2.3 `validate_user_config`: settings fields and their types ("int?" allows null).
SETTINGS: dict[str, Any] = {
    "max_retries": "int",
    "max_iterations": "int",
    "request_delay": "float",
    "global_request_timeout": "float",
    "tool_strict_validation": "bool",
    "theme": "str",
    "stream_agent_text": "bool",
    "max_command_output": "int",
    "max_tokens": "int?",
    "ripgrep": {"timeout": "int", "max_results": "int", "enable_metrics": "bool"},
}
KNOWN_TOP = ("default_model", "recent_models", "env", "settings")
TYPE_NAMES = {"int": "an integer", "int?": "an integer or null", "float": "a number",
              "bool": "true or false", "str": "a non-empty string"}  # fmt: skip


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    severity: Severity
    code: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {str: "a string", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _type_ok(value: Any, want: str) -> bool:
    if want == "int?" and value is None:
        return True
    if want in ("int", "int?"):
        return isinstance(value, int) and not isinstance(value, bool)
    if want == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if want == "bool":
        return isinstance(value, bool)
    return isinstance(value, str) and bool(value.strip())


class ConfigChecker:
    def __init__(
        self,
        catalog: Catalog | None,
        environ: Mapping[str, str] | None = None,
        env_var_for: Callable[[str], str] | None = None,
    ) -> None:
        self.catalog = catalog
        self.environ = environ if environ is not None else os.environ
        self.env_var_for = env_var_for or (lambda p: f"{p.upper().replace('-', '_')}_API_KEY")

    # ---- tunacode.json --------------------------------------------------------------------

    def check_config(self, text: str) -> list[Finding]:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            end = min(len(text), exc.pos + 1)
            return [Finding(exc.pos, end, "error", "syntax", f"Invalid JSON: {exc.msg}. {REFUSE}.")]
        except RecursionError:
            return [Finding(0, 1, "error", "syntax", f"JSON nested too deeply. {REFUSE}.")]
        nodes = value_ranges(text)
        out: list[Finding] = []
        root = nodes.get(())

        def at(path: tuple[str | int, ...]) -> Node:
            return nodes.get(path) or root or Node((), 0, len(text))

        def schema(path: tuple[str | int, ...], message: str) -> None:
            node = at(path)
            out.append(Finding(node.start, node.end, "error", "schema", f"{message}. {REFUSE}."))

        if not isinstance(data, dict):
            schema((), f"The file must hold a JSON object, got {_kind(data)}")
            return out
        if "default_model" in data:
            dm = data["default_model"]
            if not (isinstance(dm, str) and dm.strip()):
                schema(
                    ("default_model",), f"default_model must be a non-empty string, got {_kind(dm)}"
                )
            else:
                out += self._model(dm, at(("default_model",)), current=True, env=data.get("env"))
        if "recent_models" in data:
            recents = data["recent_models"]
            if not isinstance(recents, list):
                schema(
                    ("recent_models",),
                    f"recent_models must be a list of model strings, got {_kind(recents)}",
                )
            else:
                seen: dict[str, int] = {}
                for i, item in enumerate(recents):
                    if not (isinstance(item, str) and item.strip()):
                        schema(
                            ("recent_models", i),
                            f"recent_models[{i}] must be a non-empty string, got {_kind(item)}",
                        )
                        continue
                    node = at(("recent_models", i))
                    key = item.strip()
                    if key in seen:
                        out.append(Finding(node.start, node.end, "warning", "duplicate-recent",
                                           f"{key} is already recent_models[{seen[key]}]; tunacode "
                                           "shows it once", {"remove": [node.start, node.end]}))  # fmt: skip
                    else:
                        seen[key] = i
                        out += self._model(item, node, current=False, env=None)
        if "env" in data:
            env = data["env"]
            if not isinstance(env, dict):
                schema(
                    ("env",),
                    f"env must be an object of environment variable names to strings, got {_kind(env)}",
                )
            else:
                for name, value in env.items():
                    if not isinstance(value, str):
                        schema(("env", name), f"env.{name} must be a string, got {_kind(value)}")
        if "settings" in data:
            self._settings(data["settings"], ("settings",), SETTINGS, schema)
        for key in data:
            if key not in KNOWN_TOP:
                node = at((key,))
                # the key's name, inside its quotes
                start = node.key_start + 1 if node.key_start is not None else node.start
                end = node.key_end - 1 if node.key_end is not None else node.end
                out.append(Finding(start, end, "information", "dropped-by-cli",
                                   f"tunacode 0.2.3 does not know {key!r}: it keeps working, but the "
                                   "CLI drops this key the next time it saves its config"))  # fmt: skip
        return out

    def _settings(
        self,
        value: Any,
        path: tuple[str | int, ...],
        rules: dict[str, Any],
        schema: Callable[[tuple[str | int, ...], str], None],
    ) -> None:
        dotted = ".".join(str(p) for p in path)
        if not isinstance(value, dict):
            schema(path, f"{dotted} must be an object, got {_kind(value)}")
            return
        for key, want in rules.items():
            if key not in value:
                continue  # tunacode fills in its default
            if isinstance(want, dict):
                self._settings(value[key], (*path, key), want, schema)
            elif not _type_ok(value[key], want):
                schema(
                    (*path, key),
                    f"{dotted}.{key} must be {TYPE_NAMES[want]}, got {_kind(value[key])}",
                )

    def _model(self, text: str, node: Node, *, current: bool, env: Any) -> list[Finding]:
        start, end = node.start + 1, max(node.start + 1, node.end - 1)  # inside the quotes
        try:
            ref = parse_model(text)
        except ModelStringError as exc:
            return [Finding(start, end, "warning", "model-format", str(exc))]
        if ref.provider is None:
            return [Finding(start, end, "warning", "model-format",
                            f"{text.strip()!r} has no provider; tunacode expects 'provider:model_id'")]  # fmt: skip
        cat = self.catalog
        if cat is None:
            return []
        if ref.provider not in cat.providers:
            close = cat.closest_providers(ref.provider)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            offset = text.index(ref.provider) if ref.provider in text else 0
            return [Finding(start + offset, start + offset + len(ref.provider), "error", "unknown-provider",
                            f"Unknown provider {ref.provider!r}{hint}",
                            {"suggestions": close})]  # fmt: skip
        out = []
        if cat.model(ref.provider, ref.model_id) is None:
            close = cat.closest_models(ref.provider, ref.model_id)
            hint = f"; close matches: {', '.join(close)}" if close else ""
            out.append(Finding(start, end, "warning", "unknown-model",
                               f"{ref.model} is not in the model catalog (fine for a custom or new "
                               f"model){hint}", {"suggestions": close, "whole": True}))  # fmt: skip
        if current:
            var = self.env_var_for(ref.provider)
            in_doc = isinstance(env, dict) and isinstance(env.get(var), str) and env[var].strip()
            if not in_doc and not self.environ.get(var, "").strip():
                out.append(Finding(start, end, "warning", "missing-key",
                                   f"No API key for {ref.provider}: set {var} in env here or in the "
                                   "environment tunacode runs in"))  # fmt: skip
        return out

    # ---- preferences.toml -----------------------------------------------------------------

    def check_preferences(self, text: str) -> list[Finding]:
        import tomlkit

        try:
            doc = tomlkit.parse(text)
        except Exception as exc:
            # tomlkit's line is 1-based, its column 0-based
            line, col = getattr(exc, "line", 1) or 1, getattr(exc, "col", 0) or 0
            start = offset_of(text, line - 1, col, utf16=False)
            msg = str(exc).split(" at line ")[0]
            return [Finding(start, min(len(text), start + 1), "error", "syntax",
                            f"Invalid TOML: {msg}. The server ignores this file until it parses.")]  # fmt: skip
        out: list[Finding] = []
        table = doc.get("providers")
        if table is None:
            return out
        if not isinstance(table, dict):
            m = re.search(r"^[ \t]*(providers)\s*=", text, re.M)
            s = m.start(1) if m else 0
            return [Finding(s, s + 9, "error", "schema", "providers must be a table: [providers]")]
        for key, where in _toml_entries(text):
            value = table.get(key)
            if value is None:
                continue
            kstart, kend, strings = where
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                out.append(Finding(kstart, kend, "error", "schema",
                                   f"providers.{key!r} must be a list of provider ids, like [\"openai\"]"))  # fmt: skip
                continue
            cat = self.catalog
            if cat is None:
                continue
            serving = {i.provider for i in cat.serving(key.lower())}
            if not serving:
                close = cat.closest_canonical(key.lower())
                hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                out.append(Finding(kstart, kend, "warning", "unknown-model",
                                   f"No provider in the catalog serves {key!r}{hint}",
                                   {"suggestions": close}))  # fmt: skip
            for sstart, send, prov in strings:
                if prov not in cat.providers:
                    close = cat.closest_providers(prov)
                    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                    out.append(Finding(sstart, send, "error", "unknown-provider",
                                       f"Unknown provider {prov!r}{hint}", {"suggestions": close}))  # fmt: skip
                elif serving and prov not in serving:
                    out.append(Finding(sstart, send, "warning", "not-served",
                                       f"{prov} does not serve {key} according to the catalog"))  # fmt: skip
        return out


_TABLE = re.compile(r"^\s*\[([^\]]*)\]\s*(#.*)?$")
_KEY = re.compile(r'^\s*(?:"([^"]+)"|\'([^\']+)\'|([A-Za-z0-9_.-]+))\s*=')
_STRING = re.compile(r'"([^"\\]*)"|\'([^\']*)\'')


def _toml_entries(text: str) -> list[tuple[str, tuple[int, int, list[tuple[int, int, str]]]]]:
    """Keys of the [providers] table with their ranges and the strings of their arrays
    (inside the quotes). tomlkit keeps no positions; this scan only locates what it parsed."""
    out: list[tuple[str, tuple[int, int, list[tuple[int, int, str]]]]] = []
    table = None
    pos = 0
    current: list[tuple[int, int, str]] | None = None
    depth = 0
    for line in text.splitlines(keepends=True):
        body = line.split("#", 1)[0] if '"' not in line else line
        m = _TABLE.match(line) if depth == 0 else None
        if m:
            table = m.group(1).strip()
        elif table == "providers":
            k = _KEY.match(line) if depth == 0 else None
            start_scan = 0
            if k:
                key = k.group(1) or k.group(2) or k.group(3)
                current = []
                kstart = pos + (
                    k.start(1) if k.group(1) else k.start(2) if k.group(2) else k.start(3)
                )
                out.append((key, (kstart, kstart + len(key), current)))
                start_scan = k.end()
            if current is not None:
                segment = body[start_scan:]
                for sm in _STRING.finditer(segment):
                    value = sm.group(1) if sm.group(1) is not None else sm.group(2)
                    s = pos + start_scan + sm.start() + 1
                    current.append((s, s + len(value), value))
                depth += segment.count("[") - segment.count("]")
                depth = max(depth, 0)
                if depth == 0:
                    current = None
        pos += len(line)
    return out
