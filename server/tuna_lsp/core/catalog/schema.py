"""The format of the catalog's sqlite index, shared by its writer (`index.write_index`) and its
readers (`index.Catalog`, `search`): the tables, the columns a ModelInfo is read from, and the
terms of the search index (how a string is spelled as a term the tokenizer keeps whole).
Pure: no sqlite here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .sources import ModelInfo

SCHEMA = 3
# Characters the search index's tokenizer keeps inside a term (besides a-z, 0-9 and non-ASCII);
# every other ASCII character of a term is escaped (`term`).
_TOKENCHARS = frozenset("-./:_+@#!$%&*,;<=>?[]^{|}()~")
_ESCAPE = {
    c: f"~{c:02x}"
    for c in range(128)
    if not (chr(c).isdigit() or "a" <= chr(c) <= "z") and (chr(c) not in _TOKENCHARS or c == 126)
}
_UNSAFE = re.compile("[" + re.escape("".join(map(chr, _ESCAPE))) + "]")
# A token longer than this is looked up by its substrings of this length, then checked by instr.
GRAM = 8

# The search index: one contentless full-text document per listable model, whose rowid is the
# model's place among equals (`pos`) and whose terms are whole strings, found by equality, each
# tagged with what it says of the model (`term`):
#   g  every substring of at most GRAM characters of a haystack's word (whitespace-separated:
#      a query token has no whitespace, so it is in the haystack iff it is in one of its words);
#   x  the lowercased id, canonical id and model string (a token equal to one scores 100),
#   p  every prefix of those (40), v  the provider id (40),
#   w  every prefix of the name's first word and of each word of the id and name (20),
#   c  the canonical id (tokens joined by '-' equal to it: +100).
# detail=none: FTS5 merges the rowid lists in C, in rowid order, and stops at a LIMIT.
# `dense`: the g and v terms of at least index._DENSE models, each with a bitmap of them (bit
# `pos`): the total of a query of such terms is a popcount (FTS5 counts a match row by row).
DDL = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE providers(
    id TEXT PRIMARY KEY, name TEXT NOT NULL, env TEXT NOT NULL, models INT, listable INT);
CREATE TABLE makers(canonical TEXT PRIMARY KEY, maker TEXT NOT NULL);
CREATE TABLE models(
    provider TEXT NOT NULL, model_id TEXT NOT NULL, model TEXT NOT NULL, name TEXT,
    context INT, output INT, cost_in, cost_out, reasoning INT, tool_call INT,
    canonical TEXT NOT NULL, listable INT NOT NULL, hay TEXT, slash INT, not_maker INT, pos INT);
CREATE UNIQUE INDEX models_by_id ON models(provider, model_id);
CREATE INDEX models_by_canonical ON models(canonical);
CREATE INDEX models_by_model ON models(model);
CREATE VIRTUAL TABLE terms USING fts5(
    t, content='', detail=none, columnsize=0, tokenize="ascii tokenchars '{}'");
CREATE TABLE dense(term TEXT PRIMARY KEY, bits BLOB NOT NULL) WITHOUT ROWID;
""".format("".join(sorted(_TOKENCHARS)))
# the same without the full-text tables (where sqlite3 has no FTS5)
DDL_NO_FTS5 = DDL.split("CREATE VIRTUAL TABLE terms")[0]

# The `models` column of each ModelInfo field; INFO selects them in the fields' order, and
# `model_info` makes a ModelInfo of the values a SELECT of INFO gives.
_INFO_COLUMNS = {
    "provider": "provider",
    "model_id": "model_id",
    "name": "name",
    "context_window": "context",
    "output_limit": "output",
    "cost_input": "cost_in",
    "cost_output": "cost_out",
    "reasoning": "reasoning",
    "tool_call": "tool_call",
}
INFO = ", ".join(_INFO_COLUMNS[f] for f in ModelInfo._fields)
INFO_M = ", ".join("m." + _INFO_COLUMNS[f] for f in ModelInfo._fields)  # (`models m`)


def model_info(values: Sequence[Any]) -> ModelInfo:
    """The ModelInfo of the values of INFO's columns (sqlite has integers for booleans)."""
    provider, model_id, name, context, output, cost_in, cost_out, reasoning, tool_call = values
    return ModelInfo(
        provider, model_id, name, context, output, cost_in, cost_out,
        None if reasoning is None else bool(reasoning),
        None if tool_call is None else bool(tool_call),
    )  # fmt: skip


def term(kind: str, text: str) -> str:
    """A term as the ascii tokenizer keeps it whole: ASCII other than lowercase letters, digits
    and _TOKENCHARS (its separators, capitals it would fold, '~') written as ~ and two hex
    digits, a code no two strings share."""
    return kind + text.translate(_ESCAPE)


def grams(kind: str, word: str) -> set[str]:
    """The terms of every substring of `word` of at most GRAM characters."""
    if _UNSAFE.search(word):  # rare: escape each
        n = len(word)
        subs = (word[i:j] for i in range(n) for j in range(i + 1, min(i + GRAM, n) + 1))
        return {term(kind, sub) for sub in subs}
    heads = [kind + word[i : i + GRAM] for i in range(len(word))]
    return {head[:k] for head in heads for k in range(2, len(head) + 1)}


def prefixes(kind: str, text: str) -> set[str]:
    """The terms of every prefix of `text`."""
    if _UNSAFE.search(text):
        return {term(kind, text[:i]) for i in range(1, len(text) + 1)}
    whole = kind + text
    return {whole[:k] for k in range(2, len(whole) + 1)}


def first_word(text: str) -> str:
    """What a whitespace-free token that `text` starts with is a prefix of."""
    return text.split(maxsplit=1)[0] if text and not text[0].isspace() else ""


def windows(token: str) -> list[str]:
    """The `g` terms a token in a haystack's word implies: itself, or its substrings of GRAM."""
    if len(token) <= GRAM:
        return [token]
    return [token[i : i + GRAM] for i in range(len(token) - GRAM + 1)]


# A word: a run of characters str.isalnum() accepts (for str patterns, \w is isalnum() plus "_";
# all 1 114 112 code points checked alike).
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def quote(term: str) -> str:
    return '"' + term + '"'


def all_of(*exprs: str) -> str:
    return " AND ".join(exprs)


def any_of(*exprs: str) -> str:
    return "(" + " OR ".join(exprs) + ")"
