"""Offsets into a text (code points of the Python str, what the text analysis works in) to LSP
positions (line, character in UTF-8, UTF-16 or UTF-32 code units) and back, in time linear in
the text, whatever its shape.

A position used to be found by counting the units of its line up to it, character by character:
a one-line file of N bytes with F findings cost N x F, and a 200 KB one-line tunacode.json held
the server's one thread for minutes. Here the line starts are computed once per text, and a
line's units once per line (lazily, for the lines asked about): the units at every `_BLOCK`-th
code point, each block counted by the codec in C. A position then costs a bisection and the
units of at most one block. A line of ASCII (every JSON config, nearly) counts one unit per
code point in every encoding, and needs no table at all.

The results are the ones pygls's `PositionCodec` gives (tests/unit/test_positions.py): a
character inside a UTF-16 surrogate pair or a UTF-8 sequence rounds up to the character's end.
Lines are LSP's (text.lines). Must not import lsprotocol.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate

from .lines import line_content, split_lines

_BREAKS = ("\n", "\r")
_BLOCK = 256  # code points per step of a line's table of units
# encoding -> (Python codec, bytes per unit); anything else is UTF-16, as in pygls
_CODECS = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2), "utf-32": ("utf-32-le", 4)}


class LineIndex:
    """One text's lines, in one position encoding. Read-only once built (its per-line tables are
    filled in lazily, idempotently: two threads may share one)."""

    def __init__(
        self, text: str, encoding: str, lines: Sequence[str] | None = None, block: int = _BLOCK
    ) -> None:
        self.text = text
        self.block = block
        self.lines: Sequence[str] = split_lines(text) if lines is None else lines
        self.starts = list(accumulate((len(line) for line in self.lines), initial=0))
        self.codec, self.width = _CODECS.get(encoding, _CODECS["utf-16"])
        self.utf32 = self.width == 4
        # line -> the units before code point i * _BLOCK, for every block of the line and its
        # end; None for a line counted one unit per code point
        self._tables: dict[int, list[int] | None] = {}

    def __len__(self) -> int:
        return len(self.lines)

    # ---- one line -------------------------------------------------------------------------

    def _table(self, line: int) -> list[int] | None:
        try:
            return self._tables[line]
        except KeyError:
            pass
        text = self.lines[line]
        table: list[int] | None = None
        if not self.utf32 and not text.isascii():
            codec, width = self.codec, self.width
            step = self.block
            units = (
                len(text[i : i + step].encode(codec, "surrogatepass")) // width
                for i in range(0, len(text), step)
            )
            table = list(accumulate(units, initial=0))
            if table[-1] == len(text):  # no character wider than one unit (UTF-16, no astral)
                table = None
        self._tables[line] = table
        return table

    def units(self, line: int, column: int) -> int:
        """The code units of `lines[line][:column]` (column in code points, clamped to the line)."""
        table = self._table(line)
        if table is None:
            return min(column, len(self.lines[line]))
        block, rest = divmod(column, self.block)
        if block >= len(table) - 1:
            return table[-1]
        if not rest:
            return table[block]
        start = block * self.block
        piece = self.lines[line][start : start + rest]
        return table[block] + len(piece.encode(self.codec, "surrogatepass")) // self.width

    def column(self, line: int, units: int) -> int:
        """The first code point of `lines[line]` at which `units` code units are reached (so a
        unit inside a character rounds up to its end); the line's length past its end."""
        text = self.lines[line]
        if units <= 0:
            return 0
        table = self._table(line)
        if table is None:
            return min(units, len(text))
        if units >= table[-1]:
            return len(text)
        block = bisect_left(table, units)  # table[block - 1] < units <= table[block]
        step = self.block
        if table[block] == units:
            return block * step
        start = (block - 1) * step
        count = table[block - 1]
        codec, width = self.codec, self.width
        for i, char in enumerate(text[start : start + step]):
            if count >= units:
                return start + i
            count += len(char.encode(codec, "surrogatepass")) // width
        return min(start + step, len(text))

    def content(self, line: int) -> int:
        """The code points of a line without its line break."""
        text = self.lines[line]
        return len(text) - (2 if text.endswith("\r\n") else 1 if text.endswith(_BREAKS) else 0)

    # ---- the text -------------------------------------------------------------------------

    def position(self, offset: int) -> tuple[int, int]:
        """(line, character in code units) of an offset, clamped to the text. The very end of a
        text that ends with a line break is the start of the line after it, as LSP has it."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        if line == len(self.lines):  # the very end of the text
            last = self.lines[-1] if self.lines else ""
            if not last or line_content(last) != last:  # it ends with a line break
                return len(self.lines), 0
            line -= 1  # on the last line, which has no line break
        return line, self.units(line, offset - self.starts[line])

    def offset(self, line: int, character: int) -> int:
        """The offset of a position; past the end of its line means the line's end (before its
        line break), past the last line the end of the text."""
        if line >= len(self.lines) or line < 0:
            return len(self.text) if line >= 0 else 0
        column = min(self.column(line, max(0, character)), self.content(line))
        return min(len(self.text), self.starts[line] + column)
