"""Where things are in a JSON text: value ranges by path, and the context at a cursor.

`json` parses but forgets positions; diagnostics, hover and completion need them. Parsing itself
stays `json`'s job (its errors name the place): this module only tokenizes, tolerating the
half-typed text of a buffer being edited. Must not import lsprotocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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


@dataclass
class Node:
    path: Path
    start: int
    end: int
    key_start: int | None = None
    key_end: int | None = None
    children: list[Node] = field(default_factory=list)


def value_ranges(text: str) -> dict[Path, Node]:
    """Every value's span by its path, for a text `json.loads` accepted."""
    tokens = tokenize(text)
    nodes: dict[Path, Node] = {}
    pos = 0

    def parse(path: Path, key: Token | None) -> Node:
        nonlocal pos
        tok = tokens[pos]
        node = Node(path, tok.start, tok.end, key.start if key else None, key.end if key else None)
        nodes[path] = node
        pos += 1
        if tok.text == "{":
            while pos < len(tokens) and tokens[pos].text != "}":
                if tokens[pos].text == ",":
                    pos += 1
                    continue
                k = tokens[pos]
                pos += 2  # the key and the colon
                node.children.append(parse((*path, k.value), k))
            node.end = tokens[pos].end if pos < len(tokens) else len(text)
            pos += 1
        elif tok.text == "[":
            index = 0
            while pos < len(tokens) and tokens[pos].text != "]":
                if tokens[pos].text == ",":
                    pos += 1
                    continue
                node.children.append(parse((*path, index), None))
                index += 1
            node.end = tokens[pos].end if pos < len(tokens) else len(text)
            pos += 1
        return node

    if tokens:
        parse((), None)
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

    @dataclass
    class Frame:
        kind: str  # "{" or "["
        key: str | None = None
        index: int = 0
        expect_key: bool = True

    stack: list[Frame] = []
    inside: Token | None = None
    for tok in tokenize(text[:offset]):
        t = tok.text
        if tok.kind == "string" and not tok.closed:
            inside = tok
            break
        if t in "{[":
            stack.append(Frame(t, expect_key=t == "{"))
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
    path: list[str | int] = []
    for i, frame in enumerate(stack):
        last = i == len(stack) - 1
        if frame.kind == "[":
            path.append(frame.index)
        elif frame.key is not None and not (last and frame.expect_key):
            path.append(frame.key)
    at_key = bool(stack and stack[-1].kind == "{" and stack[-1].expect_key)
    if inside is not None:
        return Context(tuple(path), at_key, inside.start, inside.text[1:])
    return Context(tuple(path), at_key, None, "")


def string_at(text: str, offset: int) -> Token | None:
    """The string token under the cursor, if any."""
    for tok in tokenize(text):
        if tok.start <= offset <= tok.end and tok.kind == "string":
            return tok
        if tok.start > offset:
            break
    return None
