"""text.lines.split_lines against a regular expression of LSP's line breaks (\\n, \\r\\n, \\r):
both of its paths, str.splitlines as it is and the lines it broke elsewhere joined again."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st
from tuna_lsp.text.lines import line_content, split_lines

_LSP_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_CHARS = "ab é\n\r\u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(_CHARS)), max_size=30))
@example("")
@example('{"note": "one\u2028two"}\n')
@example("a\u2028")
@example("a\r\n\u2029b\r")
def test_split_lines_breaks_where_lsp_does(text: str) -> None:
    lines = split_lines(text)
    assert lines == _LSP_LINE.findall(text)
    assert "".join(lines) == text
    assert all(not re.search(r"[\r\n]", line_content(line)) for line in lines)


def test_line_content_strips_line_breaks_only() -> None:
    assert line_content("a \t\r\n") == "a \t"
    assert line_content("MAX\n") == "MAX"
    assert line_content("a\u2028") == "a\u2028"
    assert line_content("a\r\r\n") == "a"
    assert line_content("") == ""


def test_split_lines_keeps_other_breaks_inside_lines() -> None:
    assert split_lines("a\u2028b\x0cc\r\nd\re\nf") == ["a\u2028b\x0cc\r\n", "d\r", "e\n", "f"]
    assert split_lines("a\u2028b\u2028c\r\n") == ["a\u2028b\u2028c\r\n"]
    assert split_lines("\x85") == ["\x85"]
    assert split_lines("\n") == ["\n"]
    assert split_lines("") == []
