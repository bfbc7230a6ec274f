"""The JSON-lines files of the state directory (storage/jsonl.py): appends, rotation, and the
bisection that finds where a window of days starts."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tuna_lsp.storage.jsonl import _first_since, append_line, read_lines, rotated

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def stamp(seconds: int) -> str:
    when = START + dt.timedelta(seconds=seconds)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@settings(max_examples=300, deadline=None)
@given(
    times=st.lists(st.integers(0, 10**7), max_size=60).map(sorted),
    odd=st.sets(st.integers(0, 59), max_size=3),
    since=st.integers(-10, 10**7 + 10),
)
def test_the_window_starts_where_a_linear_scan_says(
    times: list[int], odd: set[int], since: int
) -> None:
    """Lines in time order, a few of them not in the written form (read, as the reader skips
    them): the bisection finds the offset a scan from the start finds."""
    lines = [
        b"not json\n" if i in odd else json.dumps({"ts": stamp(t), "x": i}).encode() + b"\n"
        for i, t in enumerate(times)
    ]
    data = b"".join(lines)
    cut = stamp(since).encode()
    found = _first_since(data, cut)
    assert data[found:] == b"".join(lines)[found:]
    # every line before the offset that shows a time is older (one that does not, between
    # older ones, is passed over with them); the line at it is not, or shows no time
    before = data[:found].splitlines()
    assert all(line[8:32] < cut for line in before if line.startswith(b'{"ts": "'))
    rest = data[found:].splitlines()
    assert not rest or not rest[0].startswith(b'{"ts": "') or rest[0][8:32] >= cut
    # a linear scan stops at the same line when every line shows its time
    if not odd:
        scan = next((i for i, t in enumerate(times) if stamp(t).encode() >= cut), len(times))
        assert found == sum(len(line) for line in lines[:scan])


@pytest.mark.posix
def test_rotation_keeps_every_line_and_bounds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "saves.jsonl"
    line = b'{"ts": "2026-01-01T00:00:00.000Z", "n": 0}\n'
    for _ in range(100):
        append_line(path, line, limit=1000)
    assert path.stat().st_size <= 1000 and rotated(path).stat().st_size <= 1000
    assert len(list(read_lines(path))) == len(path.read_bytes().splitlines()) + len(
        rotated(path).read_bytes().splitlines()
    )
    assert os.stat(path).st_mode & 0o777 == 0o600


@pytest.mark.posix
def test_a_fifo_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "saves.jsonl"
    os.mkfifo(path)
    try:
        list(read_lines(path))
    except OSError as exc:
        assert "is not a regular file" in str(exc) and str(path) in str(exc)
    else:
        raise AssertionError("a FIFO was read")
