"""Where things are in a JSON text: value ranges by path, and the context at a cursor.

`json` parses but forgets positions; diagnostics, hover and completion need them. Parsing itself
stays `json`'s job (its errors name the place): this module only tokenizes, tolerating the
half-typed text of a buffer being edited. Must not import lsprotocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]

_TOKEN = re.compile(
    r'"(?:[^"\\\n]|\\.)*"?'  # a string, maybe unterminated
    r"|[{}\[\]:,]"
    r"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"
    r"|true|false|null"
    r"|\S"
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "string", "punct", "literal", "junk"
    start: int
    end: int
    text: str

    @property
    def closed(self) -> bool:
        return self.kind != "string" or (len(self.text) >= 2 and self.text.endswith('"'))

    @property
    def value(self) -> str:
        """The string's content, escapes left as they are (enough for ids and model strings)."""
        return self.text[1:-1] if self.closed else self.text[1:]


def tokenize(text: str) -> list[Token]:
    out = []
    for m in _TOKEN.finditer(text):
        t = m.group()
        if t.startswith('"'):
            kind = "string"
        elif t in "{}[]:,":
            kind = "punct"
        elif t[0] in "-0123456789tfn" and t not in ("t", "f", "n"):
            kind = "literal"
        else:
            kind = "junk"
        out.append(Token(kind, m.start(), m.end(), t))
    return out


@dataclass(slots=True)
class Node:
    path: Path
    start: int
    end: int
    key_start: int | None = None
    key_end: int | None = None
    children: list[Node] = field(default_factory=list)


def value_ranges(text: str) -> dict[Path, Node]:
    """Every value's span by its path, for a text `json.loads` accepted (a container left open
    ends at the end of the text). One pass over the tokens' matches, no token kept: linear, and
    a 4 MiB config makes its nodes only (it made 1.2 million Tokens first, and the garbage
    collector's pauses with them)."""
    nodes: dict[Path, Node] = {}
    # the open containers: [node, is an object, the next index (arrays), expects a key (objects)]
    stack: list[list[Any]] = []
    key: tuple[str, int, int] | None = None  # an object's key read, its value not yet
    for m in _TOKEN.finditer(text):
        t = m.group()
        if stack:
            frame = stack[-1]
            if t == ",":
                frame[3] = frame[1]
                continue
            if t == ":":
                continue
            if t == "}" or t == "]":
                frame[0].end = m.end()
                stack.pop()
                continue
            if frame[3]:  # an object's key
                key = (t[1:-1] if len(t) >= 2 and t.endswith('"') else t[1:], m.start(), m.end())
                frame[3] = False
                continue
            parent: Node = frame[0]
            if frame[1]:
                name, key_start, key_end = key if key is not None else ("", None, None)
                path: Path = (*parent.path, name)
                key = None
            else:
                path = (*parent.path, frame[2])
                frame[2] += 1
                key_start = key_end = None
            node = Node(path, m.start(), m.end(), key_start, key_end)
            parent.children.append(node)
        elif not nodes:
            path = ()
            node = Node(path, m.start(), m.end())
        else:
            break  # only the first value is the document
        nodes[path] = node
        if t == "{" or t == "[":
            stack.append([node, t == "{", 0, t == "{"])
    for frame in stack:
        frame[0].end = len(text)
    return nodes


@dataclass(frozen=True)
class Context:
    """What the cursor is in: the path of the container, whether it is at a key, and the
    string it is inside (its start and the prefix typed so far), if any."""

    path: Path
    at_key: bool
    string_start: int | None
    prefix: str


def context_at(text: str, offset: int) -> Context:
    """Tolerant: works on half-typed buffers, from the tokens before the cursor."""
    stack, inside = _open_before(text[:offset])
    path = _frames_path(stack)
    at_key = bool(stack and stack[-1].kind == "{" and stack[-1].expect_key)
    if inside is not None:
        return Context(path, at_key, inside.start, inside.text[1:])
    return Context(path, at_key, None, "")


@dataclass
class _Frame:
    """A container still open before the cursor."""

    kind: str  # "{" or "["
    key: str | None = None
    index: int = 0
    expect_key: bool = True


def _open_before(text: str) -> tuple[list[_Frame], Token | None]:
    """The containers open at the end of `text`, outermost first, and the string left open
    there (the cursor is inside it), if any."""
    stack: list[_Frame] = []
    for tok in tokenize(text):
        if tok.kind == "string" and not tok.closed:
            return stack, tok
        _step(stack, tok)
    return stack, None


def _step(stack: list[_Frame], tok: Token) -> None:
    """One token's effect on the open containers; a stray closer or separator changes nothing."""
    t = tok.text
    if t in "{[":
        stack.append(_Frame(t, expect_key=t == "{"))
    elif t in "}]":
        if stack:
            stack.pop()
    elif t == ":" and stack:
        stack[-1].expect_key = False
    elif t == "," and stack:
        stack[-1].expect_key = stack[-1].kind == "{"
        stack[-1].index += 1
    elif tok.kind == "string" and stack and stack[-1].kind == "{" and stack[-1].expect_key:
        stack[-1].key = tok.value


def _frames_path(stack: list[_Frame]) -> Path:
    """The path to the cursor: each array's index and each object's last key (but the innermost
    object's while the cursor is at a key)."""
    path: list[str | int] = []
    for i, frame in enumerate(stack):
        last = i == len(stack) - 1
        if frame.kind == "[":
            path.append(frame.index)
        elif frame.key is not None and not (last and frame.expect_key):
            path.append(frame.key)
    return tuple(path)


def string_at(text: str, offset: int) -> Token | None:
    """The string token under the cursor, if any."""
    for tok in tokenize(text):
        if tok.start <= offset <= tok.end and tok.kind == "string":
            return tok
        if tok.start > offset:
            break
    return None
