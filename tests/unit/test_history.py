"""The model history (storage/history.py) on real files: one JSON line per change, newest first,
an external change recorded once across servers, bad lines skipped."""

from __future__ import annotations

import datetime as dt
import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from tuna_lsp.storage import history as history_module
from tuna_lsp.storage.history import History


@pytest.fixture
def hist(tmp_path: Path) -> History:
    return History(tmp_path / "state" / "model-history.jsonl")


def record(
    h: History, model: str, origin: str = "client", previous: str | None = None, **kw: Any
) -> None:
    h.record(previous=previous, model=model, scope=kw.get("scope", "global"), origin=origin,
             client=kw.get("client", "test"))  # fmt: skip


@pytest.mark.posix
def test_a_change_is_one_json_line(hist: History) -> None:
    record(hist, "openai:o3", previous="a:b", client="Neovim")
    lines = hist.path.read_text().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert list(entry) == ["ts", "previous", "model", "scope", "origin", "client"]
    assert (
        entry["previous"],
        entry["model"],
        entry["scope"],
        entry["origin"],
        entry["client"],
    ) == (
        "a:b",
        "openai:o3",
        "global",
        "client",
        "Neovim",
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])
    ts = dt.datetime.fromisoformat(entry["ts"].replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.UTC) - ts).total_seconds()) < 60
    assert stat.S_IMODE(hist.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(hist.path.parent.stat().st_mode) == 0o700


def test_entries_newest_first_and_limited(hist: History) -> None:
    for i in range(5):
        record(hist, f"p:m{i}")
    assert [e["model"] for e in hist.entries(limit=3)] == ["p:m4", "p:m3", "p:m2"]
    assert len(hist.entries(limit=10)) == 5
    assert hist.entries(limit=0) == []


def test_no_file_no_entries(hist: History) -> None:
    assert hist.entries(limit=5) == []


def test_bad_lines_are_skipped_and_extra_keys_dropped(hist: History) -> None:
    hist.path.parent.mkdir(parents=True)
    good = {"ts": "t", "model": "a:b", "previous": None, "scope": "global", "origin": "client",
            "client": None, "secret": "sk-1"}  # fmt: skip
    hist.path.write_text(
        json.dumps(good) + "\nnot json\n" + json.dumps({"model": 3}) + "\n[1]\n\n"
        + json.dumps({"model": "c:d"}) + "\n"
    )  # fmt: skip
    entries = hist.entries(limit=10)
    assert [e["model"] for e in entries] == ["c:d", "a:b"]
    assert "secret" not in entries[1]
    assert entries[0] == {"ts": None, "previous": None, "model": "c:d", "scope": None,
                          "origin": None, "client": None}  # fmt: skip


def test_a_long_history_reads_its_tail(hist: History, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_module, "_TAIL_BYTES", 256)
    for i in range(60):
        record(hist, f"provider:model-{i:03d}")
    assert [e["model"] for e in hist.entries(limit=2)] == [
        "provider:model-059",
        "provider:model-058",
    ]
    # more than one tail holds: the window grows until it has enough whole lines
    models = [e["model"] for e in hist.entries(limit=40)]
    assert models == [f"provider:model-{i:03d}" for i in range(59, 19, -1)]
    assert len(hist.entries(limit=100)) == 60


def test_an_external_change_is_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    a, b = History(path), History(path)  # two servers
    record(a, "c:d", origin="external", previous="a:b")
    record(b, "c:d", origin="external", previous="a:b")
    assert len(hist_lines(path)) == 1
    record(b, "e:f", origin="external", previous="c:d")  # a different change
    record(a, "c:d", origin="external", previous="e:f")
    assert len(hist_lines(path)) == 3


def test_client_changes_are_always_recorded(hist: History) -> None:
    record(hist, "c:d", previous="a:b")
    record(hist, "c:d", previous="a:b")
    assert len(hist_lines(hist.path)) == 2


def test_an_old_external_change_does_not_hide_a_new_one(hist: History) -> None:
    record(hist, "c:d", origin="external", previous="a:b")
    lines = hist_lines(hist.path)
    old = json.loads(lines[0])
    old["ts"] = "2020-01-01T00:00:00.000Z"
    hist.path.write_text(json.dumps(old) + "\n")
    record(hist, "c:d", origin="external", previous="a:b")
    assert len(hist_lines(hist.path)) == 2
    # a client change with the same models is not the same external change
    hist.path.write_text("")
    record(hist, "c:d", origin="client", previous="a:b")
    record(hist, "c:d", origin="external", previous="a:b")
    assert len(hist_lines(hist.path)) == 2


def test_bad_timestamps_do_not_hide_a_change(hist: History) -> None:
    hist.path.parent.mkdir(parents=True)
    hist.path.write_text(json.dumps({"ts": "yesterday", "model": "c:d", "previous": "a:b",
                                     "origin": "external"}) + "\n")  # fmt: skip
    record(hist, "c:d", origin="external", previous="a:b")
    assert len(hist_lines(hist.path)) == 2


def test_the_dedup_window(hist: History, monkeypatch: pytest.MonkeyPatch) -> None:
    record(hist, "c:d", origin="external", previous="a:b")
    monkeypatch.setattr(history_module, "DEDUP_WINDOW_S", 0.0)
    record(hist, "c:d", origin="external", previous="a:b")
    assert len(hist_lines(hist.path)) == 2


@pytest.mark.posix
def test_a_removed_state_dir_is_made_again(tmp_path: Path) -> None:
    hist = History(tmp_path / "state" / "tunacode" / "model-history.jsonl")
    record(hist, "a:b")
    hist.path.unlink()
    hist.path.parent.rmdir()
    hist.path.parent.parent.rmdir()
    record(hist, "c:d")
    assert [e["model"] for e in hist.entries(limit=5)] == ["c:d"]
    assert stat.S_IMODE(hist.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(hist.path.parent.stat().st_mode) == 0o700


def test_a_write_failure_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    h = History(blocker / "h.jsonl")
    record(h, "a:b")
    assert any("could not append to the model history" in r.getMessage() for r in caplog.records)


def test_a_lone_surrogate_in_a_client_name_is_escaped(hist: History) -> None:
    record(hist, "a:b", client="bad\ud800name")
    raw = hist.path.read_bytes()
    raw.decode("utf-8")  # still UTF-8
    assert b"\\ud800" in raw
    assert hist.entries(limit=1)[0]["client"] == "bad\ud800name"
    record(hist, "c:d", client="é")
    assert "é".encode() in hist.path.read_bytes()  # plain UTF-8 otherwise


def hist_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line]


def test_the_state_dir_is_made_with_its_parents(tmp_path: Path) -> None:
    h = History(tmp_path / "state" / "tunacode" / "model-history.jsonl")
    record(h, "a:b")
    assert [e["model"] for e in h.entries(limit=5)] == ["a:b"]


def test_dedup_looks_past_other_entries_but_only_at_the_newest_twenty(hist: History) -> None:
    record(hist, "c:d", origin="external", previous="a:b")
    record(hist, "x:y")  # a client change in between
    record(hist, "c:d", origin="external", previous="a:b")
    assert len(hist_lines(hist.path)) == 2  # still the same external change
    for i in range(18):
        record(hist, f"p:{i}")
    record(hist, "c:d", origin="external", previous="a:b")
    assert len(hist_lines(hist.path)) == 20  # the 20th line from the end: still in sight
    record(hist, "p:18")
    record(hist, "c:d", origin="external", previous="a:b")
    assert len(hist_lines(hist.path)) == 22  # the 21st: out of sight, recorded again


def test_a_busy_lock_records_the_external_change_anyway(hist: History) -> None:
    from filelock import FileLock

    record(hist, "c:d", origin="external", previous="a:b")
    with FileLock(str(hist.path) + ".lock"):
        record(hist, "c:d", origin="external", previous="a:b")  # waits 1 s, then appends
    assert [e["model"] for e in hist.entries(limit=5)] == ["c:d", "c:d"]


def test_naive_timestamps_do_not_break_dedup(hist: History) -> None:
    hist.path.parent.mkdir(parents=True)
    old = {"ts": "2030-01-01T00:00:00", "model": "c:d", "previous": "a:b", "origin": "external"}
    hist.path.write_text(json.dumps(old) + "\n")
    record(hist, "c:d", origin="external", previous="a:b")
    assert len(hist_lines(hist.path)) == 2


def test_a_tail_cut_inside_a_character_is_fine(
    hist: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(20):
        record(hist, f"p:{i}", client="é" * 40)
    for tail in range(250, 258):  # one of these cuts a two-byte character in half
        monkeypatch.setattr(history_module, "_TAIL_BYTES", tail)
        assert [e["model"] for e in hist.entries(limit=1)] == ["p:19"]
