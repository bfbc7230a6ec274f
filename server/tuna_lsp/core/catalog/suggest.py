"""Did you mean: the known names closest to an unknown one, and the clause every "unknown X"
message ends with."""

from __future__ import annotations

from collections.abc import Sequence


def did_you_mean(close: Sequence[str]) -> str:
    """The suggestion clause every "unknown X" message ends with: "; did you mean 'a', 'b'?"."""
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def close_matches(word: str, known: list[str], n: int, cutoff: float = 0.5) -> list[str]:
    """The `n` best of `known` that look like `word` (difflib's ratio of at least `cutoff`)."""
    import difflib  # only for an unknown name: not in every server

    return difflib.get_close_matches(word, known, n=n, cutoff=cutoff)


def closest(word: str, known: list[str], n: int) -> list[str]:
    """`close_matches`, then those of `known` that hold `word` or that `word` holds."""
    close = close_matches(word, known, n)
    if len(close) < n:
        close += [k for k in known if (word in k or k in word) and k not in close]
    return close[:n]
