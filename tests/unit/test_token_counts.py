"""One rule for token counts in all three languages: the server's `wire.tokens` here; VS Code's
`formatTokenCount` and Neovim's formatter read the same cases (tests/data/token_counts.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tuna_lsp.wire import tokens

CASES = json.loads((Path(__file__).parent.parent / "data" / "token_counts.json").read_text())


@pytest.mark.parametrize(("n", "text"), CASES["cases"])
def test_a_token_count_reads_as_people_say_it(n: int, text: str) -> None:
    assert tokens(n) == text
