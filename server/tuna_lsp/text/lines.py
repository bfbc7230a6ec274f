"""Lines as editors and our file formats count them.

A line ends at `\n`, `\r\n` or `\r`: LSP's positions count these and no others (3.17,
`Position`), JSON and TOML too. Python's `str.splitlines` also breaks at U+2028, U+2029, U+0085,
`\v`, `\f` and `\x1c` to `\x1e`, which a JSON or TOML string may hold: counted that way, every
position after one of them is a line off, and an edit the client sends lands on the wrong line.
Must not import lsprotocol.
"""

from __future__ import annotations

import re

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def split_lines(text: str) -> list[str]:
    """The lines of `text`, each with its line break (the last may have none); [] for ""."""
    return _LINE.findall(text)


def line_content(line: str) -> str:
    """A line of `split_lines` without its line break."""
    return line.rstrip("\r\n")
