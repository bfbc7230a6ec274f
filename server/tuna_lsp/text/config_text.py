"""What the config documents' handlers (features/documents.py) ask of a document's text, in one
place: its findings (the schema's and the catalog's), the JSON context at an offset, the model
string under the cursor, and the preferences.toml key a value belongs to.

The handlers load it once, with the first config document: it brings the schema, the JSON reader
and the catalog package they check against, none of which a server needs at start (nor at all
without a config document open). Must not import lsprotocol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config_schema import TOML_KEY, ConfigChecker, Finding
from .json_doc import Context, context_at, string_at
from .lines import line_content, split_lines

if TYPE_CHECKING:
    from ..core.catalog import Catalog


class ConfigText:
    """The analysis of a config document's text ("config": a tunacode.json; "preferences": a
    preferences.toml), in offsets. `limit`: only the first `limit` findings of a text get the
    catalog's suggestions (`ConfigChecker`): the ones a document shows."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def findings(self, kind: str, text: str, catalog: Catalog | None) -> list[Finding]:
        checker = ConfigChecker(catalog, limit=self.limit)
        return checker.check_config(text) if kind == "config" else checker.check_preferences(text)

    @staticmethod
    def context_at(text: str, offset: int) -> Context:
        """Where the cursor is in a tunacode.json, however half-typed (`json_doc.context_at`)."""
        return context_at(text, offset)

    @staticmethod
    def model_token(text: str, offset: int, kind: str) -> tuple[int, int, str] | None:
        """The model string under the cursor: (start, end, value), inside the quotes."""
        if kind == "config":
            tok = string_at(text, offset)
            if tok is None or not tok.closed:
                return None
            ctx = context_at(text, tok.start + 1)
            if ctx.at_key or not ctx.path or ctx.path[0] not in ("default_model", "recent_models"):
                return None
            return tok.start + 1, tok.end - 1, tok.value
        return None

    @staticmethod
    def preferences_key(text: str, offset: int) -> str | None:
        """The key of the preferences.toml entry `offset` is in the value of, if any."""
        lines = [line_content(line) for line in split_lines(text[:offset])]
        for line in reversed(lines):
            m = TOML_KEY.match(line)
            if m:
                return m.group(1) or m.group(2) or m.group(3)
            if line.lstrip().startswith("[") and "=" not in line:
                return None
        return None
