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

from ..base.config_rules import problems
from ..base.json_kind import json_kind
from ..base.model_string import ModelStringError, parse_model
from ..core.catalog import Catalog, did_you_mean
from ..core.keys import env_var_for
from ..storage.preferences import load_tomlkit
from .json_doc import Node, value_ranges
from .lines import split_lines

Severity = Literal["error", "warning", "information", "hint"]
CLI_REFUSES = frozenset({"syntax", "schema"})
REFUSE = "tunacode 0.2.3 refuses to start with this file"


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


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


class NonStandardNumber(ValueError):
    """NaN or Infinity: Python's json reads them, JSON (and every other reader) does not."""


# where the constant is, for the diagnostic's range: the first one outside a string
_CONSTANT = re.compile(r'(?:"(?:[^"\\]|\\.)*")|(-?Infinity|NaN)')


def _no_constant(name: str) -> Any:
    raise NonStandardNumber(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


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
    """`limit`: only the first `limit` findings of a check get the catalog's suggestions (a
    difflib search over its ids, a millisecond each); the ones after them go unseen (the server
    shows the first findings of a document and counts the rest), and a file of a hundred thousand
    bad model strings took minutes. Their messages then suggest nothing."""

    def __init__(
        self,
        catalog: Catalog | None,
        environ: Mapping[str, str] | None = None,
        limit: int | None = None,
    ) -> None:
        self.catalog = catalog
        self.environ = environ if environ is not None else os.environ
        self.limit = limit
        self._searches = 0

    def _close(self, search: Callable[..., list[str]], *args: str) -> list[str]:
        """The suggestions of one finding, while the check's budget lasts. Each search makes one
        finding, and findings are listed in the order they are made: every one of the first
        `limit` findings had its search."""
        self._searches += 1
        if self.limit is not None and self._searches > self.limit:
            return []
        return search(*args)

    # ---- tunacode.json --------------------------------------------------------------------

    def check_config(self, text: str) -> list[Finding]:
        self._searches = 0
        data, syntax = _parse_config(text)
        if syntax:
            return syntax
        nodes = value_ranges(text)
        out: list[Finding] = []
        root = nodes.get(())

        def at(path: tuple[str | int, ...]) -> Node:
            return nodes.get(path) or root or Node((), 0, len(text))

        def schema(path: tuple[str | int, ...], message: str) -> None:
            node = at(path)
            out.append(Finding(node.start, node.end, "error", "schema", f"{message}. {REFUSE}."))

        for problem in problems(data):
            schema(problem.path, problem.message)
        if not isinstance(data, dict):
            return out
        if _text(data.get("default_model")):
            out += self._model(
                data["default_model"], at(("default_model",)), current=True, env=data.get("env")
            )
        out += self._recent_models(data.get("recent_models"), at)
        if "settings" in data:
            self._settings(data["settings"], ("settings",), SETTINGS, schema)
        out += _dropped_keys(data, at)
        return out

    def _recent_models(
        self, recents: Any, at: Callable[[tuple[str | int, ...]], Node]
    ) -> list[Finding]:
        """`recent_models`' entries: each model string checked once, a repeat flagged."""
        out: list[Finding] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(recents if isinstance(recents, list) else []):
            if not _text(item):
                continue  # a problem above
            node = at(("recent_models", i))
            key = item.strip()
            if key in seen:
                out.append(Finding(node.start, node.end, "warning", "duplicate-recent",
                                   f"{key} is already recent_models[{seen[key]}]; tunacode "
                                   "shows it once", {"remove": [node.start, node.end]}))  # fmt: skip
            else:
                seen[key] = i
                out += self._model(item, node, current=False, env=None)
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
            schema(path, f"{dotted} must be an object, got {json_kind(value)}")
            return
        for key, want in rules.items():
            if key not in value:
                continue  # tunacode fills in its default
            if isinstance(want, dict):
                self._settings(value[key], (*path, key), want, schema)
            elif not _type_ok(value[key], want):
                schema(
                    (*path, key),
                    f"{dotted}.{key} must be {TYPE_NAMES[want]}, got {json_kind(value[key])}",
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
            close = self._close(cat.closest_providers, ref.provider)
            hint = did_you_mean(close)
            offset = text.index(ref.provider) if ref.provider in text else 0
            return [Finding(start + offset, start + offset + len(ref.provider), "error", "unknown-provider",
                            f"Unknown provider {ref.provider!r}{hint}",
                            {"suggestions": close})]  # fmt: skip
        out = []
        if cat.model(ref.provider, ref.model_id) is None:
            close = self._close(cat.closest_models, ref.provider, ref.model_id)
            hint = f"; close matches: {', '.join(close)}" if close else ""
            out.append(Finding(start, end, "warning", "unknown-model",
                               f"{ref.model} is not in the model catalog (fine for a custom or new "
                               f"model){hint}", {"suggestions": close, "whole": True}))  # fmt: skip
        if current:
            var = env_var_for(ref.provider, self.catalog)
            in_doc = isinstance(env, dict) and isinstance(env.get(var), str) and env[var].strip()
            if not in_doc and not self.environ.get(var, "").strip():
                out.append(Finding(start, end, "warning", "missing-key",
                                   f"No API key for {ref.provider}: set {var} in env here or in the "
                                   "environment tunacode runs in"))  # fmt: skip
        return out

    # ---- preferences.toml -----------------------------------------------------------------

    def _workspaces(self, text: str, doc: Any) -> list[Finding]:
        spaces = doc.get("workspaces")
        if spaces is None:
            return []
        if not isinstance(spaces, dict):
            m = re.search(r"^[ \t]*(workspaces)\s*=", text, re.M)
            s = m.start(1) if m else 0
            return [Finding(s, s + 10, "error", "schema",
                            'workspaces must be a table: [workspaces] "folder" = "provider:model"')]  # fmt: skip
        out: list[Finding] = []
        for key, where in _toml_entries(text, "workspaces"):
            if key in spaces:
                out += _workspace_findings(self.catalog, key, spaces[key], where, self._close)
        return out

    def check_preferences(self, text: str) -> list[Finding]:
        tomlkit = load_tomlkit()  # only with a preferences.toml open: tens of ms to import
        self._searches = 0
        try:
            doc = tomlkit.parse(text)
        except Exception as exc:
            start = _toml_error_offset(text, getattr(exc, "line", 1), getattr(exc, "col", 0))
            msg = str(exc).split(" at line ")[0]
            return [Finding(start, min(len(text), start + 1), "error", "syntax",
                            f"Invalid TOML: {msg}. The server ignores this file until it parses.")]  # fmt: skip
        out: list[Finding] = self._workspaces(text, doc)
        table = doc.get("providers")
        if table is None:
            return out
        if not isinstance(table, dict):
            m = re.search(r"^[ \t]*(providers)\s*=", text, re.M)
            s = m.start(1) if m else 0
            return [
                *out,
                Finding(s, s + 9, "error", "schema", "providers must be a table: [providers]"),
            ]
        for key, where in _toml_entries(text, "providers"):
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
                close = self._close(cat.closest_canonical, key.lower())
                hint = did_you_mean(close)
                out.append(Finding(kstart, kend, "warning", "unknown-model",
                                   f"No provider in the catalog serves {key!r}{hint}",
                                   {"suggestions": close}))  # fmt: skip
            for sstart, send, prov in strings:
                if prov not in cat.providers:
                    close = self._close(cat.closest_providers, prov)
                    hint = did_you_mean(close)
                    out.append(Finding(sstart, send, "error", "unknown-provider",
                                       f"Unknown provider {prov!r}{hint}", {"suggestions": close}))  # fmt: skip
                elif serving and prov not in serving:
                    out.append(Finding(sstart, send, "warning", "not-served",
                                       f"{prov} does not serve {key} according to the catalog"))  # fmt: skip
        return out


def _parse_config(text: str) -> tuple[Any, list[Finding]]:
    """The tunacode.json's value, or the syntax finding that makes the CLI refuse it (then the
    value is None)."""
    try:
        return json.loads(text, parse_constant=_no_constant), []
    except NonStandardNumber as exc:
        found = next((m for m in _CONSTANT.finditer(text) if m.group(1)), None)
        start, end = found.span(1) if found else (0, 1)
        return None, [Finding(start, end, "error", "syntax", f"{exc}. {REFUSE}.")]
    except json.JSONDecodeError as exc:
        end = min(len(text), exc.pos + 1)
        return None, [
            Finding(exc.pos, end, "error", "syntax", f"Invalid JSON: {exc.msg}. {REFUSE}.")
        ]
    except RecursionError:
        return None, [Finding(0, 1, "error", "syntax", f"JSON nested too deeply. {REFUSE}.")]


def _dropped_keys(
    data: dict[str, Any], at: Callable[[tuple[str | int, ...]], Node]
) -> list[Finding]:
    """The top-level keys tunacode 0.2.3 does not know: it drops them when it saves."""
    out: list[Finding] = []
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


def _workspace_findings(
    catalog: Catalog | None,
    key: str,
    value: Any,
    where: tuple[int, int, list[tuple[int, int, str]]],
    close: Callable[..., list[str]] = lambda search, *args: search(*args),
) -> list[Finding]:
    """One `[workspaces]` entry: an absolute folder path = a model string."""
    kstart, kend, strings = where
    out: list[Finding] = []
    if not os.path.isabs(key):
        out.append(Finding(kstart, kend, "error", "schema",
                           f"{key!r} is not an absolute path; expected the workspace folder's "
                           "absolute path, like \"/home/me/src/app\""))  # fmt: skip
    elif not os.path.isdir(key):
        out.append(Finding(kstart, kend, "warning", "no-folder",
                           f"No folder {key!r} here: this entry applies to no window"))  # fmt: skip
    vstart, vend = (strings[0][0], strings[0][1]) if strings else (kstart, kend)
    if not isinstance(value, str):
        out.append(Finding(vstart, vend, "error", "schema",
                           f"workspaces.{key!r} must be a model string like \"openai:gpt-4.1\", "
                           f"got {json_kind(value)}"))  # fmt: skip
        return out
    try:
        ref = parse_model(value)
        if ref.provider is None:
            raise ModelStringError(
                f"{value.strip()!r} has no provider; expected 'provider:model_id'"
            )
    except ModelStringError as exc:
        out.append(Finding(vstart, vend, "error", "model-format",
                           f"{exc}. The server ignores this entry."))  # fmt: skip
        return out
    if catalog is not None and ref.provider not in catalog.providers:
        near = close(catalog.closest_providers, ref.provider)
        out.append(Finding(vstart, vend, "error", "unknown-provider",
                           f"Unknown provider {ref.provider!r}{did_you_mean(near)}"))  # fmt: skip
    return out


def _toml_error_offset(text: str, line: Any, col: Any) -> int:
    """The offset tomlkit's error names: a 1-based line of `str.splitlines` (tomlkit's own
    count, U+2028 and the like included: not the editor's, see text.lines) and a 0-based
    column in code points (tomlkit counts in the Python str, as the text analysis does)."""
    row: int = line if isinstance(line, int) and line >= 1 else 1
    column: int = col if isinstance(col, int) and col >= 0 else 0
    start = sum(len(x) for x in text.splitlines(keepends=True)[: row - 1])
    return min(len(text), start + column)


_TABLE = re.compile(r"^\s*\[([^\]]*)\]\s*(#.*)?$")
TOML_KEY = re.compile(r'^\s*(?:"([^"]+)"|\'([^\']+)\'|([A-Za-z0-9_.-]+))\s*=')
_STRING = re.compile(r'"([^"\\]*)"|\'([^\']*)\'')


def _toml_entries(
    text: str, table_name: str
) -> list[tuple[str, tuple[int, int, list[tuple[int, int, str]]]]]:
    """Keys of one table (`[providers]`, `[workspaces]`) with their ranges and the strings of their
    values (inside the quotes). tomlkit keeps no positions; this scan only locates what it parsed."""
    out: list[tuple[str, tuple[int, int, list[tuple[int, int, str]]]]] = []
    table = None
    pos = 0
    current: list[tuple[int, int, str]] | None = None
    depth = 0
    for line in split_lines(text):
        body = line.split("#", 1)[0] if '"' not in line else line
        m = _TABLE.match(line) if depth == 0 else None
        if m:
            table = m.group(1).strip()
        elif table == table_name:
            k = TOML_KEY.match(line) if depth == 0 else None
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
