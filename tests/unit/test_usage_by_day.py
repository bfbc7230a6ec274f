"""base/usage.py without files: `savesByDay`, the attempts of each UTC day, for the chart of saves
over time (VS Code's Show Model Usage)."""

from __future__ import annotations

import datetime as dt
import json

from tuna_lsp.base.usage import usage

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def line(ts: str, outcome: str, **kw: object) -> bytes:
    return json.dumps(
        {"ts": ts, "scope": "global", "kind": "set", "outcome": outcome, **kw}
    ).encode()


def test_saves_by_day_counts_each_outcome_per_utc_day_oldest_first() -> None:
    saves = [
        line("2026-03-09T23:59:59.000Z", "saved", ms=10),
        line("2026-03-08T08:00:00.000Z", "failed", reason="lock-timeout", ms=5000),
        line("2026-03-09T00:00:00.000Z", "unchanged", ms=2),
        line("2026-03-08T09:00:00.000Z", "saved", ms=12),
        # 23:30 at UTC-2 is 01:30 UTC the next day
        line("2026-03-08T23:30:00.000-02:00", "failed", reason="invalid-config", ms=3),
        line("2026-03-10T11:00:00.000Z", "saved", ms=8),
    ]
    u = usage([], saves, days=30, now=NOW)
    assert u["savesByDay"] == [
        {"day": "2026-03-08", "saved": 1, "unchanged": 0, "failed": 1},
        {"day": "2026-03-09", "saved": 1, "unchanged": 1, "failed": 1},
        {"day": "2026-03-10", "saved": 1, "unchanged": 0, "failed": 0},
    ]
    s = u["saves"]
    # the days add up to the totals
    for key in ("saved", "unchanged", "failed"):
        assert sum(d[key] for d in u["savesByDay"]) == s[key]


def test_saves_by_day_leaves_out_what_is_outside_the_window_and_what_does_not_parse() -> None:
    saves = [
        line("2026-02-01T10:00:00.000Z", "saved", ms=10),  # 37 days ago
        line("2026-03-11T10:00:00.000Z", "saved", ms=10),  # after `until`
        b"{not json",
        line("2026-03-05T10:00:00.000Z", "bogus"),
        line("2026-03-05T10:00:00.000Z", "saved", ms=10),
    ]
    u = usage([], saves, days=30, now=NOW)
    assert u["savesByDay"] == [{"day": "2026-03-05", "saved": 1, "unchanged": 0, "failed": 0}]
    assert u["skipped"] == 2


def test_no_saves_is_an_empty_list() -> None:
    assert usage([], [], days=7, now=NOW)["savesByDay"] == []
