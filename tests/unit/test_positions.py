"""text.positions.LineIndex (and wire.DocPositions on it) against the straightforward conversion
it replaced: pygls's PositionCodec counting each line's units up to the position, character by
character, on LSP's lines. Same results, in every encoding, on texts with astral characters, lone
surrogates, \\r\\n, \\r and \\n line breaks, and U+2028 / U+0085 (no line breaks in LSP); blocks
of a few code points so that the tables' block boundaries fall everywhere."""

from __future__ import annotations

import time
from bisect import bisect_right
from itertools import accumulate

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace import PositionCodec, ServerTextPosition, TextDocument
from tuna_lsp.text.lines import line_content, split_lines
from tuna_lsp.text.positions import LineIndex

ENCODINGS = ["utf-8", "utf-16", "utf-32"]
_ALPHABET = list('a"{: \n\r' + "éß☃🐟𝄞􏿿\ud800\u2028\u2029\u0085\x0c")
texts = st.text(alphabet=st.sampled_from(_ALPHABET), max_size=60)


class OldPositions:
    """wire.DocPositions as it was: pygls's codec on every call (the whole line counted)."""

    def __init__(self, text: str, encoding: str) -> None:
        self.text = text
        self.lines = tuple(split_lines(text))
        self.codec = PositionCodec(encoding)
        self.starts = list(accumulate((len(line) for line in self.lines), initial=0))

    def position(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        if line == len(self.lines):
            last = self.lines[-1] if self.lines else ""
            if not last or line_content(last) != last:
                return len(self.lines), 0
            line -= 1
        where = ServerTextPosition(line, offset - self.starts[line])
        p = self.codec.position_to_client_units(self.lines, where)
        return p.line, p.character

    def offset(self, line: int, character: int) -> int:
        if line >= len(self.lines):
            return len(self.text)
        content = line_content(self.lines[line])
        character = min(character, self.codec.client_num_units(content))
        where = self.codec.position_from_client_units(
            self.lines, types.Position(line=line, character=character)
        )
        return min(len(self.text), self.starts[where.line] + where.character)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("block", [1, 3, 256])
@settings(max_examples=200, deadline=None)
@given(text=texts)
@example(text="")
@example(text="\r\n")
@example(text="a🐟b\r\nc\u2028🐟\rd")
@example(text="🐟🐟🐟🐟🐟🐟🐟\n")
def test_same_positions_and_offsets_as_pygls_codec(encoding: str, block: int, text: str) -> None:
    new = LineIndex(text, encoding, block=block)
    old = OldPositions(text, encoding)
    assert list(new.lines) == list(old.lines)
    for offset in range(-1, len(text) + 2):
        assert new.position(offset) == old.position(offset), (text, offset)
    for line in range(len(old.lines) + 2):
        units = old.codec.client_num_units(old.lines[line]) if line < len(old.lines) else 3
        for character in range(units + 3):
            assert new.offset(line, character) == old.offset(line, character), (
                text,
                line,
                character,
            )


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=50, deadline=None)
@given(text=texts)
def test_doc_positions_uses_the_fast_index(encoding: str, text: str) -> None:
    """wire.DocPositions (the server's own conversion) gives the old answers, once per text."""
    from tuna_lsp.wire import DocPositions, LspTextDocument

    doc = LspTextDocument("file:///t/tunacode.json", text, position_codec=PositionCodec(encoding))
    pos = DocPositions.of(doc)
    assert DocPositions.of(doc) is pos  # computed once per text
    old = OldPositions(text, encoding)
    for offset in range(len(text) + 1):
        line, character = old.position(offset)
        assert pos.position(offset) == types.Position(line=line, character=character)
        assert pos.offset(types.Position(line=line, character=character)) == old.offset(
            line, character
        )


def test_a_new_text_gets_new_positions() -> None:
    from tuna_lsp.wire import DocPositions, LspTextDocument

    doc = LspTextDocument("file:///t/tunacode.json", "ab", position_codec=PositionCodec("utf-16"))
    first = DocPositions.of(doc)
    doc.apply_change(types.TextDocumentContentChangeWholeDocument(text="🐟ab"))
    second = DocPositions.of(doc)
    assert second is not first and second.position(3) == types.Position(line=0, character=4)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_many_positions_on_one_long_line_in_linear_time(encoding: str) -> None:
    """A 4 MiB one-line text with a non-ASCII character every few code points, and a position
    every 20: building and converting stay well within a second or two (the old conversion took
    hours: each position counted the line up to it)."""
    text = ('{"k": "é🐟", ' * 350_000)[: 4 << 20]
    t0 = time.perf_counter()
    index = LineIndex(text, encoding)
    got = [index.position(offset) for offset in range(0, len(text), 20)]
    back = [index.offset(line, character) for line, character in got[::50]]
    elapsed = time.perf_counter() - t0
    assert back == list(range(0, len(text), 20))[::50]
    codec, width = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2), "utf-32": ("utf-32-le", 4)}[
        encoding
    ]
    last = (len(got) - 1) * 20
    assert got[-1] == (0, len(text[:last].encode(codec)) // width)
    assert elapsed < 10, elapsed


class _PyglsLines(TextDocument):
    """pygls's document, incremental changes and all, on LSP's lines (as LspTextDocument)."""

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(split_lines(self.source))


def _range(a: tuple[int, int], b: tuple[int, int]) -> types.Range:
    return types.Range(
        start=types.Position(line=a[0], character=a[1]),
        end=types.Position(line=b[0], character=b[1]),
    )


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=300, deadline=None)
@given(
    text=texts,
    start=st.tuples(st.integers(0, 4), st.integers(0, 8)),
    end=st.tuples(st.integers(0, 4), st.integers(0, 8)),
    new=st.sampled_from(["", "x", "🐟\r\n", "é\u2028"]),
)
@example(text="a🐟b", start=(0, 2), end=(0, 2), new="x")  # inside a surrogate pair (UTF-16)
@example(text="ab\r\ncd", start=(0, 3), end=(1, 1), new="")  # between \r and \n
def test_incremental_changes_as_pygls_applies_them(
    encoding: str, text: str, start: tuple[int, int], end: tuple[int, int], new: str
) -> None:
    """wire.LspTextDocument applies a range change on its positions: the text pygls makes of it,
    whatever the range (inside a character, past a line's end, past the last line, reversed)."""
    from tuna_lsp.wire import LspTextDocument

    ours = LspTextDocument("file:///t/tunacode.json", text, position_codec=PositionCodec(encoding))
    ref = _PyglsLines("file:///t/tunacode.json", text, position_codec=PositionCodec(encoding))
    ours.apply_change(types.TextDocumentContentChangePartial(range=_range(start, end), text=new))
    ref.apply_change(types.TextDocumentContentChangePartial(range=_range(start, end), text=new))
    assert ours.source == ref.source


@pytest.mark.parametrize("encoding", ["utf-7", "", "UTF-8"])
def test_an_unknown_encoding_counts_utf_16(encoding: str) -> None:
    """As pygls: a client that names no encoding we know gets UTF-16 (LSP's default)."""
    index = LineIndex("a🐟b\né", encoding)
    assert (index.codec, index.width) == ("utf-16-le", 2)
    assert [index.position(offset) for offset in range(6)] == [
        (0, 0),
        (0, 1),
        (0, 3),
        (0, 4),
        (1, 0),
        (1, 1),
    ]
    assert index.offset(0, 2) == 2  # inside the surrogate pair: the character's end


def test_len_is_the_number_of_lsp_lines() -> None:
    assert len(LineIndex("", "utf-16")) == 0
    assert len(LineIndex("a", "utf-16")) == 1
    assert len(LineIndex("a\n", "utf-16")) == 1
    assert len(LineIndex("a\nb\r\nc\rd\u2028e", "utf-16")) == 4


@pytest.mark.parametrize(
    ("line", "content"),
    [("ab\r\n", 2), ("ab\n", 2), ("ab\r", 2), ("ab", 2), ("\r\n", 0), ("\n", 0), ("a\u2028", 2)],
)
def test_content_leaves_out_the_line_break(line: str, content: int) -> None:
    assert LineIndex(line, "utf-8").content(0) == content


def test_given_lines_are_used_as_they_are() -> None:
    lines = ("ab\n", "c")
    index = LineIndex("ab\nc", "utf-16", lines=lines)
    assert index.lines is lines
    assert index.starts == [0, 3, 4]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_before_the_first_line_or_character_is_the_start(encoding: str) -> None:
    index = LineIndex("ab\ncd", encoding)
    assert index.offset(-1, 0) == 0
    assert index.offset(-1, 5) == 0
    assert index.offset(-5, -5) == 0
    assert index.offset(1, -3) == 3
    assert index.offset(2, 0) == 5  # past the last line: the end of the text
    assert index.position(-10) == (0, 0)
    assert index.position(99) == (1, 2)


def test_a_line_is_counted_in_blocks_of_256_code_points() -> None:
    index = LineIndex("é" * 600 + "\n", "utf-8")
    assert index.block == 256
    assert index._table(0) == [0, 512, 1024, 1201]
    assert index.units(0, 256) == 512
    assert index.units(0, 300) == 600
    assert index.units(0, 1000) == 1201
    assert index.units(0, 768) == 1201  # the start of a block past the line
    assert index.units(0, 1024) == 1201
    assert index.column(0, 1201) == 601  # the line's end, not its last block's start
    assert index.column(0, 1200) == 600
    assert index.column(0, 601) == 301  # inside "é": its end
    assert index.column(0, 5000) == 601
    assert LineIndex("é" * 600, "utf-16")._table(0) is None  # one unit each: no table
    assert LineIndex("🐟" * 3, "utf-32")._table(0) is None
    assert LineIndex("", "utf-32").utf32 is True  # code points: never a table
    assert LineIndex("", "utf-16").utf32 is False


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_positions_are_integers(encoding: str) -> None:
    """LSP's positions are uinteger: a float would go out as 4.0."""
    text = "é🐟" * 200 + "\nab"
    index = LineIndex(text, encoding, block=7)
    for offset in range(len(text) + 1):
        line, character = index.position(offset)
        assert type(line) is int and type(character) is int, offset
    for character in range(0, 1300, 13):
        assert type(index.offset(0, character)) is int
