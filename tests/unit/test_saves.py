"""The save outcomes log (storage/saves.py) on real files: one JSON line per attempt to write a
choice, the timestamp first, never a key's value; and `read_usage`, the Usage object of
PROTOCOL.md 10 from the history and the save outcomes, with their rotated copies."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path

import pytest
from tuna_lsp.base import usage as usage_module
from tuna_lsp.base.usage import iso
from tuna_lsp.storage import saves as saves_module
from tuna_lsp.storage.saves import SAVES_NAME, SaveLog, read_usage

EMPTY_SAVES = {
    "attempts": 0,
    "saved": 0,
    "unchanged": 0,
    "failed": 0,
    "failedByReason": {},
    "successRate": None,
    "latencyMs": None,
}


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def save_line(when: dt.datetime, outcome: str, ms: float = 1.0) -> str:
    entry = {"ts": iso(when), "scope": "global", "kind": "set", "outcome": outcome, "ms": ms}
    return json.dumps(entry) + "\n"


def change_line(when: dt.datetime, model: str, previous: str | None) -> str:
    entry = {"ts": iso(when), "previous": previous, "model": model, "scope": "global"}
    return json.dumps({**entry, "origin": "client", "client": "test"}) + "\n"


def test_the_file_name() -> None:
    assert SAVES_NAME == "saves.jsonl"


def test_an_attempt_is_one_line_with_the_time_first(tmp_path: Path) -> None:
    log = SaveLog(tmp_path / SAVES_NAME)
    before = dt.datetime.now(dt.UTC)
    log.record(scope="global", kind="set", outcome="saved", ms=12.3456, client="Neovim")
    after = dt.datetime.now(dt.UTC)
    raw = log.path.read_bytes()
    # readers pass over old lines by this prefix without parsing them (base/usage.py, jsonl.py)
    assert raw.startswith(b'{"ts": "')
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1
    (entry,) = lines(log.path)
    assert list(entry) == ["ts", "scope", "kind", "outcome", "ms", "client"]
    assert {k: v for k, v in entry.items() if k != "ts"} == {
        "scope": "global",
        "kind": "set",
        "outcome": "saved",
        "ms": 12.35,
        "client": "Neovim",
    }
    stamp = str(entry["ts"])
    assert len(stamp) == len("2026-01-01T00:00:00.000Z") and stamp.endswith("Z")
    when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= when <= after


def test_a_failure_records_its_reason_before_the_time_it_took(tmp_path: Path) -> None:
    log = SaveLog(tmp_path / SAVES_NAME)
    log.record(
        scope="workspace", kind="clear", outcome="failed", ms=5000, client=None, reason="lock"
    )
    log.record(scope="global", kind="restore", outcome="failed", ms=0.004, client="c", reason="")
    first, second = lines(log.path)
    assert list(first) == ["ts", "scope", "kind", "outcome", "reason", "ms", "client"]
    assert (first["scope"], first["kind"], first["reason"]) == ("workspace", "clear", "lock")
    assert (first["ms"], first["client"]) == (5000, None)
    assert (second["reason"], second["ms"]) == ("", 0.0)  # an empty reason is still recorded


def test_lines_are_appended_oldest_first(tmp_path: Path) -> None:
    log = SaveLog(tmp_path / SAVES_NAME)
    for outcome in ("saved", "unchanged", "failed"):
        log.record(scope="global", kind="set", outcome=outcome, ms=1, client="c")
    assert [e["outcome"] for e in lines(log.path)] == ["saved", "unchanged", "failed"]


def test_a_client_name_of_any_text_is_written_as_ascii(tmp_path: Path) -> None:
    log = SaveLog(tmp_path / SAVES_NAME)
    for name in ("Zed é", "lone \udc80 surrogate"):
        log.record(scope="global", kind="set", outcome="saved", ms=1, client=name)
    raw = log.path.read_bytes()
    assert raw.isascii()
    assert [e["client"] for e in lines(log.path)] == ["Zed é", "lone \udc80 surrogate"]


@pytest.mark.posix
def test_the_state_dir_is_made_when_missing_and_the_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "tuna" / SAVES_NAME
    SaveLog(path).record(scope="global", kind="set", outcome="saved", ms=1, client="c")
    assert len(lines(path)) == 1
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_log_that_cannot_be_written_is_a_warning_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / SAVES_NAME
    path.mkdir()
    with caplog.at_level(logging.WARNING, logger="tuna_lsp.storage.saves"):
        SaveLog(path).record(scope="global", kind="set", outcome="saved", ms=1, client="c")
    (rec,) = [r for r in caplog.records if r.name == "tuna_lsp.storage.saves"]
    assert rec.levelno == logging.WARNING
    message = rec.getMessage()
    assert message.startswith(f"could not append to the save outcomes {path}: ")
    assert "Is a directory" in message or "not a regular file" in message
    assert list(path.iterdir()) == []


# ---- read_usage --------------------------------------------------------------------------------


def test_recorded_attempts_are_read_back_as_usage(tmp_path: Path) -> None:
    log = SaveLog(tmp_path / SAVES_NAME)
    for outcome, ms, reason in (
        ("saved", 10.0, None),
        ("saved", 30.0, None),
        ("unchanged", 2.0, None),
        ("failed", 900.0, "lock-timeout"),
    ):
        log.record(scope="global", kind="set", outcome=outcome, ms=ms, client="c", reason=reason)
    u = read_usage(tmp_path / "model-history.jsonl", log.path, 1)
    assert u["saves"] == {
        "attempts": 4,
        "saved": 2,
        "unchanged": 1,
        "failed": 1,
        "failedByReason": {"lock-timeout": 1},
        "successRate": 0.666667,
        "latencyMs": {"p50": 10.0, "p90": 30.0, "p99": 30.0, "max": 30.0},
    }
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert u["savesByDay"] in (
        [{"day": today, "saved": 2, "unchanged": 1, "failed": 1}],
        # the day turned between the record and now
        [
            {"day": str(e["ts"])[:10], "saved": 2, "unchanged": 1, "failed": 1}
            for e in lines(log.path)
        ][:1],
    )
    assert u["skipped"] == 0


def test_no_files_is_nothing_recorded_over_the_last_days(tmp_path: Path) -> None:
    before = dt.datetime.now(dt.UTC)
    u = read_usage(tmp_path / "model-history.jsonl", tmp_path / SAVES_NAME, 3)
    after = dt.datetime.now(dt.UTC)
    until = dt.datetime.fromisoformat(u["until"].replace("Z", "+00:00"))
    since = dt.datetime.fromisoformat(u["since"].replace("Z", "+00:00"))
    assert before - dt.timedelta(milliseconds=1) <= until <= after
    assert until - since == dt.timedelta(days=3)
    assert u["saves"] == EMPTY_SAVES
    assert (u["savesByDay"], u["selections"], u["timeOnModel"], u["skipped"]) == ([], [], [], 0)
    assert u["overwrites"] == {"caught": 0, "restored": 0, "kept": 0}


def test_only_the_last_days_are_read(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    saves = tmp_path / SAVES_NAME
    saves.write_text(
        save_line(now - dt.timedelta(days=3, minutes=5), "failed")
        + save_line(now - dt.timedelta(days=2, hours=23), "saved")
        + save_line(now - dt.timedelta(hours=1), "unchanged")
    )
    s = read_usage(tmp_path / "h.jsonl", saves, 3)["saves"]
    assert (s["attempts"], s["saved"], s["unchanged"], s["failed"]) == (2, 1, 1, 0)
    s = read_usage(tmp_path / "h.jsonl", saves, 4)["saves"]
    assert (s["attempts"], s["failed"]) == (3, 1)


def test_the_rotated_copies_are_read_too_oldest_first(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    history, saves = tmp_path / "model-history.jsonl", tmp_path / SAVES_NAME
    Path(f"{saves}.1").write_text(save_line(now - dt.timedelta(hours=5), "failed"))
    saves.write_text(save_line(now - dt.timedelta(hours=4), "saved"))
    Path(f"{history}.1").write_text(change_line(now - dt.timedelta(hours=12), "b", "a"))
    history.write_text(change_line(now - dt.timedelta(hours=8), "c", "b"))
    u = read_usage(history, saves, 1)
    assert (u["saves"]["saved"], u["saves"]["failed"]) == (1, 1)
    assert [x["model"] for x in u["selections"]] == ["b", "c"]
    assert [x["model"] for x in u["timeOnModel"]] == ["a", "c", "b"]  # about 12 h, 8 h, 4 h
    seconds = {x["model"]: x["seconds"] for x in u["timeOnModel"]}
    assert seconds["b"] == 14400.0
    assert seconds["a"] + seconds["b"] + seconds["c"] == pytest.approx(86400.0, abs=0.002)


def test_the_files_are_read_from_the_windows_start_and_counted_over_that_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One window for both: the files are read from its first line (older lines are never
    split), and the figures are over the same window, even when the clock moves meanwhile."""
    t0 = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    moments = iter([t0, t0 + dt.timedelta(hours=1), t0 + dt.timedelta(hours=2)])
    real_window = usage_module.window

    def window(days: int, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
        return real_window(days, now or next(moments))

    read: list[tuple[Path, bytes]] = []
    real_read_lines = saves_module.read_lines

    def read_lines(path: Path, since: bytes = b"") -> object:
        read.append((path, since))
        return real_read_lines(path, since)

    monkeypatch.setattr(usage_module, "window", window)
    monkeypatch.setattr(saves_module, "read_lines", read_lines)
    history, saves = tmp_path / "model-history.jsonl", tmp_path / SAVES_NAME
    u = read_usage(history, saves, 2)
    assert (u["since"], u["until"]) == ("2026-03-08T12:00:00.000Z", "2026-03-10T12:00:00.000Z")
    assert read == [(history, b"2026-03-08T12:00:00.000Z"), (saves, b"2026-03-08T12:00:00.000Z")]


def test_the_persisted_model_fills_a_window_the_history_says_nothing_of(tmp_path: Path) -> None:
    h, s = tmp_path / "model-history.jsonl", tmp_path / SAVES_NAME
    assert read_usage(h, s, 2, persisted="openai:o3")["timeOnModel"] == [
        {"model": "openai:o3", "seconds": 172800.0}
    ]
    assert read_usage(h, s, 2)["timeOnModel"] == []  # no persisted model by default


def test_lines_that_do_not_parse_are_counted_not_fatal(tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    saves = tmp_path / SAVES_NAME
    saves.write_bytes(
        b"\xff\xfe garbage\n" + save_line(now - dt.timedelta(minutes=1), "saved").encode() + b"{\n"
    )
    u = read_usage(tmp_path / "h.jsonl", saves, 1)
    assert (u["saves"]["saved"], u["skipped"]) == (1, 2)


@pytest.mark.parametrize("which", ["history", "saves"])
def test_a_directory_in_place_of_a_file_is_an_error_that_says_so(
    tmp_path: Path, which: str
) -> None:
    history, saves = tmp_path / "model-history.jsonl", tmp_path / SAVES_NAME
    (history if which == "history" else saves).mkdir()
    bad = history if which == "history" else saves
    with pytest.raises(OSError) as err:
        read_usage(history, saves, 30)
    assert str(err.value) == f"{bad} is not a regular file; expected the JSON lines tuna-lsp writes"


@pytest.mark.posix
def test_a_fifo_in_place_of_the_saves_is_an_error_at_once(tmp_path: Path) -> None:
    saves = tmp_path / SAVES_NAME
    os.mkfifo(saves)
    with pytest.raises(OSError, match="is not a regular file"):
        read_usage(tmp_path / "h.jsonl", saves, 30)
