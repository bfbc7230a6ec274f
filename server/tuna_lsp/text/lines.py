"""Lines as editors and our file formats count them.

A line ends at `\n`, `\r\n` or `\r`: LSP's positions count these and no others (3.17,
`Position`), JSON and TOML too. Python's `str.splitlines` also breaks at U+2028, U+2029, U+0085,
`\v`, `\f` and `\x1c` to `\x1e`, which a JSON or TOML string may hold: counted that way, every
position after one of them is a line off, and an edit the client sends lands on the wrong line.
Must not import lsprotocol.
"""

from __future__ import annotations

_BREAKS = ("\n", "\r")  # "\r\n" ends with "\n"


def split_lines(text: str) -> list[str]:
    """The lines of `text`, each with its line break (the last may have none); [] for "".
    str.splitlines first (C speed, 5 times a regex's), then the lines it ended at a character
    LSP does not break at are joined to the next (rare)."""
    lines = text.splitlines(keepends=True)
    # as many lines as LSP counts: no other break but maybe a last character (same lines then)
    breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
    if len(lines) == breaks + (0 if not text or text.endswith(_BREAKS) else 1):
        return lines
    out: list[str] = []
    pending = ""
    for line in lines:
        if line.endswith(_BREAKS):
            out.append(pending + line)
            pending = ""
        else:
            pending += line
    if pending:
        out.append(pending)
    return out


def line_content(line: str) -> str:
    """A line of `split_lines` without its line break."""
    return line.rstrip("\r\n")
