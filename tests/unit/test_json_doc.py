"""Where things are in a JSON text (text/json_doc.py), in offsets: value ranges by path, the
context at a cursor in a half-typed buffer, and the string under the cursor."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tuna_lsp.text.json_doc import Context, context_at, string_at, tokenize, value_ranges

DOC = '{\n  "default_model": "openai:gpt-4.1",\n  "recent_models": ["a:b", "c:d"],\n  "env": {"K": "v"},\n  "n": -1.5e3,\n  "t": true\n}'


def span(text: str, path: tuple[str | int, ...]) -> str:
    node = value_ranges(text)[path]
    return text[node.start : node.end]


def test_value_ranges_by_path() -> None:
    assert span(DOC, ()) == DOC
    assert span(DOC, ("default_model",)) == '"openai:gpt-4.1"'
    assert span(DOC, ("recent_models",)) == '["a:b", "c:d"]'
    assert span(DOC, ("recent_models", 0)) == '"a:b"'
    assert span(DOC, ("recent_models", 1)) == '"c:d"'
    assert span(DOC, ("env",)) == '{"K": "v"}'
    assert span(DOC, ("env", "K")) == '"v"'
    assert span(DOC, ("n",)) == "-1.5e3"
    assert span(DOC, ("t",)) == "true"
    assert set(value_ranges(DOC)) == {
        (),
        ("default_model",),
        ("recent_models",),
        ("recent_models", 0),
        ("recent_models", 1),
        ("env",),
        ("env", "K"),
        ("n",),
        ("t",),
    }


def test_key_ranges_include_the_quotes() -> None:
    node = value_ranges(DOC)[("env",)]
    assert node.key_start is not None and node.key_end is not None
    assert DOC[node.key_start : node.key_end] == '"env"'
    assert value_ranges(DOC)[()].key_start is None
    assert value_ranges(DOC)[("recent_models", 0)].key_start is None


def test_children_in_order() -> None:
    root = value_ranges(DOC)[()]
    assert [c.path for c in root.children] == [
        ("default_model",),
        ("recent_models",),
        ("env",),
        ("n",),
        ("t",),
    ]
    assert [c.path for c in value_ranges(DOC)[("recent_models",)].children] == [
        ("recent_models", 0),
        ("recent_models", 1),
    ]


def test_nested_and_empty_containers() -> None:
    text = '[[], {}, [1, [2]], {"a": {"b": null}}]'
    assert span(text, (0,)) == "[]"
    assert span(text, (1,)) == "{}"
    assert span(text, (2, 1, 0)) == "2"
    assert span(text, (3, "a", "b")) == "null"
    assert value_ranges("") == {}


def test_escaped_quotes_inside_strings() -> None:
    text = '{"a\\"b": "x\\"y", "c": 1}'
    assert span(text, ('a\\"b',)) == '"x\\"y"'
    assert span(text, ("c",)) == "1"


def test_unclosed_container_ends_at_the_text_end() -> None:
    assert value_ranges('{"a": [1, 2')[()].end == len('{"a": [1, 2')
    assert value_ranges('{"a": [1, 2')[("a",)].end == len('{"a": [1, 2')


def test_tokenize_kinds() -> None:
    kinds = [(t.kind, t.text) for t in tokenize('{"a": -1, "b": tru x, "c": "op')]
    assert kinds == [
        ("punct", "{"),
        ("string", '"a"'),
        ("punct", ":"),
        ("literal", "-1"),
        ("punct", ","),
        ("string", '"b"'),
        ("punct", ":"),
        ("junk", "t"),
        ("junk", "r"),
        ("junk", "u"),
        ("junk", "x"),
        ("punct", ","),
        ("string", '"c"'),
        ("punct", ":"),
        ("string", '"op'),
    ]
    toks = tokenize('"done" "open')
    assert [(t.closed, t.value) for t in toks] == [(True, "done"), (False, "open")]
    assert tokenize('"')[0].closed is False
    assert tokenize('"')[0].value == ""
    assert [t.kind for t in tokenize("null false f n")] == ["literal", "literal", "junk", "junk"]


def test_string_at() -> None:
    text = '{"default_model": "openai:gpt"}'
    value_start = text.index('"openai')
    for offset in (value_start, value_start + 3, value_start + len('"openai:gpt"')):
        tok = string_at(text, offset)
        assert tok is not None and tok.value == "openai:gpt"
    assert string_at(text, text.index(":") + 1) is None  # between tokens
    key = string_at(text, 1)
    assert key is not None and key.value == "default_model"
    assert string_at(text, len(text)) is None
    assert string_at('{"a": 1}', 6) is None  # a number, not a string


def test_context_at_value_of_a_key() -> None:
    text = '{"default_model": "open'
    assert context_at(text, len(text)) == Context(("default_model",), False, 18, "open")
    text = '{"default_model": '
    assert context_at(text, len(text)) == Context(("default_model",), False, None, "")


def test_context_at_key_position() -> None:
    text = '{"default_model": "x", "rec'
    assert context_at(text, len(text)) == Context((), True, text.rindex('"'), "rec")
    text = '{"default_model": "x", '
    assert context_at(text, len(text)) == Context((), True, None, "")
    assert context_at("{", 1) == Context((), True, None, "")


def test_context_in_a_list() -> None:
    text = '{"recent_models": ["a:b", "c'
    assert context_at(text, len(text)) == Context(
        ("recent_models", 1), False, text.rindex('"'), "c"
    )
    text = '{"recent_models": ['
    assert context_at(text, len(text)) == Context(("recent_models", 0), False, None, "")


def test_context_after_closed_containers() -> None:
    text = '{"env": {"K": "v"}, "settings": {"theme": "d'
    ctx = context_at(text, len(text))
    assert ctx.path == ("settings", "theme") and not ctx.at_key and ctx.prefix == "d"
    text = '{"a": [1, 2], "b": '
    assert context_at(text, len(text)).path == ("b",)
    assert context_at("}]", 2) == Context((), False, None, "")  # stray closers are tolerated


def test_context_uses_only_the_text_before_the_offset() -> None:
    text = '{"default_model": "openai:gpt-4.1"}'
    offset = text.index("gpt")
    assert context_at(text, offset) == Context(("default_model",), False, 18, "openai:")


# keys are reported as written, escapes and all: keep them free of characters JSON escapes
plain_keys = st.text(
    st.characters(blacklist_characters='"\\', blacklist_categories=("Cc", "Cs")), max_size=6
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(plain_keys, inner, max_size=3),
    max_leaves=12,
)


@given(value=json_values, indent=st.sampled_from([None, 2, 4]))
def test_every_value_span_parses_back_to_the_value(value: object, indent: int | None) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    nodes = value_ranges(text)

    def walk(path: tuple[str | int, ...], v: object) -> None:
        node = nodes[path]
        assert json.loads(text[node.start : node.end]) == v
        if isinstance(v, dict):
            for k, child in v.items():
                walk((*path, k), child)
        elif isinstance(v, list):
            for i, child in enumerate(v):
                walk((*path, i), child)

    walk((), value)


def test_context_counts_every_element_of_a_list() -> None:
    text = '["a", "b", "c'
    assert context_at(text, len(text)).path == (2,)


def test_context_after_a_value_string_keeps_its_key() -> None:
    text = '{"a": "x" '
    assert context_at(text, len(text)) == Context(("a",), False, None, "")
    assert context_at('"x" ', 4) == Context((), False, None, "")  # a bare string document


def _value_ranges_before(text: str) -> dict[tuple[str | int, ...], tuple[Any, ...]]:
    """value_ranges as it was (recursive, over a list of Tokens): the reference."""
    tokens = tokenize(text)
    nodes: dict[tuple[str | int, ...], list[Any]] = {}
    pos = 0

    def parse(path: tuple[str | int, ...], key: Any) -> list[Any]:
        nonlocal pos
        tok = tokens[pos]
        node = [path, tok.start, tok.end, key.start if key else None, key.end if key else None, []]
        nodes[path] = node
        pos += 1
        if tok.text in "{[":
            index = 0
            while pos < len(tokens) and tokens[pos].text not in "}]":
                if tokens[pos].text == ",":
                    pos += 1
                    continue
                if tok.text == "{":
                    k = tokens[pos]
                    pos += 2
                    node[5].append(parse((*path, k.value), k)[0])
                else:
                    node[5].append(parse((*path, index), None)[0])
                    index += 1
            node[2] = tokens[pos].end if pos < len(tokens) else len(text)
            pos += 1
        return node

    if tokens:
        parse((), None)
    return {p: tuple(n) for p, n in nodes.items()}


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.sampled_from(list('a"\\é🐟\u2028\n{}[]:, ')), max_size=6),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(alphabet=st.sampled_from(list('ab"\\{}[]:,é ')), max_size=4), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(value=_json_values, indent=st.sampled_from([None, 0, 2]), ascii_only=st.booleans())
def test_value_ranges_in_one_pass_as_before(
    value: Any, indent: int | None, ascii_only: bool
) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    got = {
        p: (n.path, n.start, n.end, n.key_start, n.key_end, tuple(c.path for c in n.children))
        for p, n in value_ranges(text).items()
    }
    want = {p: (*n[:5], tuple(n[5])) for p, n in _value_ranges_before(text).items()}
    assert got == want
