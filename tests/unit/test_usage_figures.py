"""base/usage.py without files: the `tuna/usage` figures of PROTOCOL.md 10 (the window of days,
the save outcomes, the selections and time on each global model, the stale overwrites, the lines
skipped) and the table `tuna-lsp usage` prints. `savesByDay` is held by test_usage_by_day.py."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tuna_lsp.base.usage import DEFAULT_DAYS, MAX_DAYS, _duration, iso, table, usage, window

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
WEEK_AGO = NOW - dt.timedelta(days=7)  # `since` of a 7-day window
MS = dt.timedelta(milliseconds=1)


def ts(when: dt.datetime) -> str:
    return iso(when)


def save(when: dt.datetime | str, outcome: str, **kw: Any) -> bytes:
    """A line as SaveLog.record writes it: the timestamp first."""
    stamp = when if isinstance(when, str) else ts(when)
    return json.dumps(
        {"ts": stamp, "scope": "global", "kind": "set", "outcome": outcome, **kw}
    ).encode()


def change(
    when: dt.datetime | str,
    model: str,
    origin: str = "client",
    previous: str | None = None,
    scope: str = "global",
    **kw: Any,
) -> bytes:
    """A line as History.record writes it: the timestamp first."""
    stamp = when if isinstance(when, str) else ts(when)
    entry = {"ts": stamp, "previous": previous, "model": model, "scope": scope, "origin": origin}
    return json.dumps({**entry, "client": "test", **kw}).encode()


def at(days: float = 0, hours: float = 0) -> dt.datetime:
    """`days` and `hours` before NOW."""
    return NOW - dt.timedelta(days=days, hours=hours)


# ---- the window -------------------------------------------------------------------------------


def test_iso_is_utc_to_the_millisecond_with_a_z() -> None:
    assert (
        iso(dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)) == "2026-01-02T03:04:05.678Z"
    )


def test_the_documented_range_of_days() -> None:
    assert (DEFAULT_DAYS, MAX_DAYS) == (30, 3650)


def test_the_window_is_the_last_days_up_to_now() -> None:
    assert window(7, NOW) == (WEEK_AGO, NOW)
    assert window(1, NOW) == (NOW - dt.timedelta(days=1), NOW)


def test_the_window_without_now_ends_at_this_moment_in_utc() -> None:
    before = dt.datetime.now(dt.UTC)
    since, until = window(2)
    after = dt.datetime.now(dt.UTC)
    assert before <= until <= after
    assert until.utcoffset() == dt.timedelta(0)
    assert until - since == dt.timedelta(days=2)


def test_the_default_window_is_30_days() -> None:
    u = usage([], [], now=NOW)
    assert (u["since"], u["until"]) == ("2026-02-08T12:00:00.000Z", "2026-03-10T12:00:00.000Z")


def test_nothing_recorded_is_every_figure_at_zero_or_null() -> None:
    assert usage([], [], days=7, now=NOW) == {
        "since": "2026-03-03T12:00:00.000Z",
        "until": "2026-03-10T12:00:00.000Z",
        "saves": {
            "attempts": 0,
            "saved": 0,
            "unchanged": 0,
            "failed": 0,
            "failedByReason": {},
            "successRate": None,
            "latencyMs": None,
        },
        "savesByDay": [],
        "selections": [],
        "timeOnModel": [],
        "overwrites": {"caught": 0, "restored": 0, "kept": 0},
        "skipped": 0,
    }


def test_a_save_at_either_end_of_the_window_counts_and_one_just_outside_does_not() -> None:
    saves = [
        save(WEEK_AGO - MS, "saved", ms=1),
        save(WEEK_AGO, "saved", ms=2),
        save(NOW, "failed", reason="io", ms=3),
        save(NOW + MS, "saved", ms=4),
    ]
    u = usage([], saves, days=7, now=NOW)
    assert (u["saves"]["attempts"], u["saves"]["saved"], u["saves"]["failed"]) == (2, 1, 1)
    assert u["saves"]["latencyMs"] == {"p50": 2.0, "p90": 2.0, "p99": 2.0, "max": 2.0}
    assert u["skipped"] == 0  # outside the window is not "did not parse"


def test_a_line_older_than_the_window_is_passed_over_unread() -> None:
    # written before `since`: never parsed, so never counted as skipped even when it is torn
    torn = b'{"ts": "' + ts(WEEK_AGO - MS).encode() + b'", "outcome": "sav'
    u = usage([torn], [torn], days=7, now=NOW)
    assert u["skipped"] == 0
    # the same torn line inside the window did not parse
    inside = b'{"ts": "' + ts(WEEK_AGO).encode() + b'", "outcome": "sav'
    assert usage([inside], [inside], days=7, now=NOW)["skipped"] == 2


def test_a_line_in_another_form_is_read_then_left_out_by_its_time() -> None:
    compact = json.dumps(
        {"outcome": "saved", "ts": ts(at(days=8)), "ms": 5}, separators=(",", ":")
    ).encode()
    u = usage([], [compact], days=7, now=NOW)
    assert (u["saves"]["attempts"], u["skipped"]) == (0, 0)
    compact_inside = compact.replace(ts(at(days=8)).encode(), ts(at(days=6)).encode())
    assert usage([], [compact_inside], days=7, now=NOW)["saves"]["attempts"] == 1


# ---- saves --------------------------------------------------------------------------------------


def test_success_rate_is_saved_over_saved_and_failed_rounded_to_6_places() -> None:
    saves = [save(at(1), "saved", ms=5)] * 2 + [save(at(1), "failed", reason="io", ms=5)]
    saves += [save(at(2), "unchanged", ms=1)] * 4  # not in the rate
    s = usage([], saves, days=7, now=NOW)["saves"]
    assert (s["attempts"], s["saved"], s["unchanged"], s["failed"]) == (7, 2, 4, 1)
    assert s["successRate"] == 0.666667


def test_success_rate_is_null_with_only_unchanged_saves_and_zero_with_only_failures() -> None:
    only_unchanged = usage([], [save(at(1), "unchanged", ms=1)], days=7, now=NOW)["saves"]
    assert only_unchanged["successRate"] is None
    assert only_unchanged["latencyMs"] is None
    only_failed = usage([], [save(at(1), "failed", reason="io", ms=9)], days=7, now=NOW)["saves"]
    assert only_failed["successRate"] == 0.0
    assert only_failed["successRate"] is not None
    assert only_failed["latencyMs"] is None  # latency is over the saved attempts only


def test_failures_by_reason_most_first_and_a_missing_reason_is_unknown() -> None:
    saves = [
        save(at(3), "failed", reason="io-error"),
        save(at(3), "failed"),
        save(at(3), "failed", reason=""),
        save(at(2), "failed", reason="lock-timeout"),
        save(at(2), "failed", reason="lock-timeout"),
        save(at(2), "failed", reason="lock-timeout"),
        save(at(2), "failed", reason="lock-timeout"),
        save(at(1), "failed", reason=None),
        save(at(1), "failed", reason=7),
        save(at(1), "saved", reason="ignored-on-a-success"),
    ]
    s = usage([], saves, days=7, now=NOW)["saves"]
    assert list(s["failedByReason"].items()) == [
        ("lock-timeout", 4),
        ("unknown", 3),
        ("io-error", 1),  # ties: in the order first seen
        ("7", 1),
    ]


def test_latency_percentiles_are_nearest_rank_over_the_saved_attempts() -> None:
    values = list(range(1, 101))
    random.Random(4).shuffle(values)
    saves = [save(at(1), "saved", ms=v) for v in values]
    assert usage([], saves, days=7, now=NOW)["saves"]["latencyMs"] == {
        "p50": 50.0,
        "p90": 90.0,
        "p99": 99.0,
        "max": 100.0,
    }
    ten = [save(at(1), "saved", ms=v) for v in (10, 1, 9, 2, 8, 3, 7, 4, 6, 5)]
    assert usage([], ten, days=7, now=NOW)["saves"]["latencyMs"] == {
        "p50": 5.0,
        "p90": 9.0,
        "p99": 10.0,
        "max": 10.0,
    }


def test_one_saved_attempt_is_every_percentile() -> None:
    lat = usage([], [save(at(1), "saved", ms=42.5)], days=7, now=NOW)["saves"]["latencyMs"]
    assert lat == {"p50": 42.5, "p90": 42.5, "p99": 42.5, "max": 42.5}


def test_latency_leaves_out_what_is_not_a_finite_number_and_other_outcomes() -> None:
    saves = [
        save(at(1), "saved", ms=3),
        save(at(1), "saved"),
        save(at(1), "saved", ms="12"),
        save(at(1), "saved", ms=None),
        save(at(1), "saved", ms=float("nan")),
        save(at(1), "saved", ms=float("inf")),
        save(at(1), "failed", ms=5000),
        save(at(1), "unchanged", ms=4000),
    ]
    s = usage([], saves, days=7, now=NOW)["saves"]
    assert s["saved"] == 6  # counted, but only one has a latency
    assert s["latencyMs"] == {"p50": 3.0, "p90": 3.0, "p99": 3.0, "max": 3.0}


def test_save_lines_that_do_not_parse_are_skipped_and_blank_ones_are_not() -> None:
    saves = [
        b"",
        b"   ",
        b"{not json",
        b"[1, 2]",
        b'"a string"',
        b"3",
        json.dumps({"outcome": "saved"}).encode(),  # no time
        json.dumps({"ts": 20260301, "outcome": "saved"}).encode(),  # not a string
        save("yesterday", "saved"),  # not a time
        save(at(1), "bogus"),
        json.dumps({"ts": ts(at(1))}).encode(),  # no outcome
        save(at(1), "saved", ms=1),
    ]
    u = usage([], saves, days=7, now=NOW)
    assert u["skipped"] == 9
    assert u["saves"]["attempts"] == 1


@pytest.fixture
def eastern_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time zone set to UTC-5 (a POSIX TZ: no tz database needed)."""
    monkeypatch.setenv("TZ", "EST+5")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="sets the local zone with tzset")
def test_days_are_utc_days_whatever_the_machines_zone(eastern_zone: None) -> None:
    u = usage([], [save("2026-03-09T02:00:00.000Z", "saved", ms=1)], days=7, now=NOW)
    assert u["savesByDay"] == [{"day": "2026-03-09", "saved": 1, "unchanged": 0, "failed": 0}]
    assert (u["since"], u["until"]) == ("2026-03-03T12:00:00.000Z", "2026-03-10T12:00:00.000Z")


def test_a_time_without_an_offset_is_utc() -> None:
    saves = [
        save("2026-03-09T23:30:00.000", "saved", ms=1),
        save("2026-03-10T12:00:00.001", "saved", ms=1),  # just after `until`
    ]
    u = usage([], saves, days=7, now=NOW)
    assert u["savesByDay"] == [{"day": "2026-03-09", "saved": 1, "unchanged": 0, "failed": 0}]
    assert u["skipped"] == 0


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["saved", "unchanged", "failed"]),
            st.integers(0, 7 * 24 * 60 - 1),
            st.floats(0, 10_000, allow_nan=False),
        ),
        max_size=60,
    )
)
def test_save_figures_agree_with_the_outcomes_recorded(
    attempts: list[tuple[str, int, float]],
) -> None:
    saves = [save(NOW - dt.timedelta(minutes=m), o, ms=ms) for o, m, ms in attempts]
    s = usage([], saves, days=7, now=NOW)["saves"]
    n = {o: sum(1 for a in attempts if a[0] == o) for o in ("saved", "unchanged", "failed")}
    assert (s["saved"], s["unchanged"], s["failed"]) == (n["saved"], n["unchanged"], n["failed"])
    assert s["attempts"] == len(attempts)
    done = n["saved"] + n["failed"]
    assert s["successRate"] == (round(n["saved"] / done, 6) if done else None)
    latencies = sorted(ms for o, _, ms in attempts if o == "saved")
    if not latencies:
        assert s["latencyMs"] is None
        return
    lat = s["latencyMs"]
    assert lat["max"] == latencies[-1]
    assert lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    for key, share in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        rank = math.ceil(share * len(latencies))  # nearest rank: the smallest value with
        assert sum(v <= lat[key] for v in latencies) >= rank  # at least `rank` at or below it
        assert sum(v < lat[key] for v in latencies) < rank


# ---- the global model -------------------------------------------------------------------------


def test_time_on_model_splits_the_window_at_each_change_most_first() -> None:
    history = [
        change(at(days=0, hours=18), "b:new", previous="a:old"),  # a:old from `since` until here
        change(at(days=0, hours=6), "c:third", origin="external", previous="b:new"),
    ]
    u = usage(history, [], days=1, now=NOW)
    assert u["timeOnModel"] == [
        {"model": "b:new", "seconds": 43200.0},
        {"model": "a:old", "seconds": 21600.0},  # ties: by name
        {"model": "c:third", "seconds": 21600.0},
    ]
    assert u["selections"] == [
        {"model": "b:new", "count": 1, "byOrigin": {"client": 1}},
        {"model": "c:third", "count": 1, "byOrigin": {"external": 1}},
    ]


def test_time_on_a_model_adds_up_over_its_spells() -> None:
    history = [
        change(at(hours=20), "b", previous="a"),
        change(at(hours=10), "a", previous="b"),
        change(at(hours=4), "b", previous="a"),
    ]
    u = usage(history, [], days=1, now=NOW)
    # a: 4 h + 6 h; b: 10 h + 4 h
    assert u["timeOnModel"] == [
        {"model": "b", "seconds": 50400.0},
        {"model": "a", "seconds": 36000.0},
    ]


def test_selections_most_first_then_by_name_with_origins_most_first() -> None:
    history = [
        change(at(5), "m", previous="z"),
        change(at(4), "z", origin="restored", previous="m"),
        change(at(3), "a", previous="z"),
        change(at(2), "z", origin="external", previous="a"),
        change(at(1), "z", origin="external", previous="z"),
    ]
    assert usage(history, [], days=7, now=NOW)["selections"] == [
        {"model": "z", "count": 3, "byOrigin": {"external": 2, "restored": 1}},
        {"model": "a", "count": 1, "byOrigin": {"client": 1}},
        {"model": "m", "count": 1, "byOrigin": {"client": 1}},
    ]
    z = usage(history, [], days=7, now=NOW)["selections"][0]
    assert list(z["byOrigin"]) == ["external", "restored"]


def test_the_first_change_without_a_previous_model_credits_no_one_before_it() -> None:
    u = usage([change(at(hours=6), "b")], [], days=1, now=NOW, persisted="p")
    assert u["timeOnModel"] == [{"model": "b", "seconds": 21600.0}]


def test_a_window_the_history_says_nothing_of_is_all_the_persisted_model() -> None:
    assert usage([], [], days=2, now=NOW, persisted="openai:o3")["timeOnModel"] == [
        {"model": "openai:o3", "seconds": 172800.0}
    ]
    assert usage([], [], days=2, now=NOW)["timeOnModel"] == []
    # once the history says what was in use, the persisted model does not count
    history = [change(at(hours=12), "b", previous="a")]
    assert usage(history, [], days=1, now=NOW, persisted="p")["timeOnModel"] == [
        {"model": "a", "seconds": 43200.0},
        {"model": "b", "seconds": 43200.0},
    ]


def test_seconds_are_rounded_to_the_millisecond() -> None:
    history = [change("2026-03-10T00:00:00.123456Z", "b", previous="a")]
    assert usage(history, [], days=1, now=NOW)["timeOnModel"] == [
        {"model": "a", "seconds": 43200.123},
        {"model": "b", "seconds": 43199.877},
    ]


def test_equal_times_on_models_are_ordered_by_name() -> None:
    history = [change(at(hours=12), "a", previous="z")]
    assert usage(history, [], days=1, now=NOW)["timeOnModel"] == [
        {"model": "a", "seconds": 43200.0},
        {"model": "z", "seconds": 43200.0},
    ]


def test_a_model_in_use_for_under_a_second_is_listed() -> None:
    history = [
        change("2026-03-10T00:00:00.000Z", "brief", previous="first"),
        change("2026-03-10T00:00:00.500Z", "last", previous="brief"),
    ]
    assert usage(history, [], days=1, now=NOW)["timeOnModel"] == [
        {"model": "first", "seconds": 43200.0},
        {"model": "last", "seconds": 43199.5},
        {"model": "brief", "seconds": 0.5},
    ]


def test_a_model_in_use_for_no_time_is_left_out() -> None:
    history = [
        change(at(hours=12), "brief", previous="first"),
        change(at(hours=12), "last", previous="brief"),  # at the same moment
    ]
    u = usage(history, [], days=1, now=NOW)
    assert u["timeOnModel"] == [
        {"model": "first", "seconds": 43200.0},
        {"model": "last", "seconds": 43200.0},
    ]
    assert [x["model"] for x in u["selections"]] == ["brief", "last"]


@pytest.mark.parametrize(
    "entry",
    [
        change(at(hours=12), "w", scope="workspace", previous="p"),
        change(at(hours=12), "s", scope="session", previous="p"),
        change(at(hours=12), "k", origin="kept", previous="p"),
        change(at(hours=12), "o", origin="stale-overwrite", previous="p"),
        change(at(hours=12), "x", origin="someday", previous="p"),
        change(at(hours=12), "c", previous="p", kind="clear"),
        json.dumps(  # no scope
            {"ts": ts(at(hours=12)), "previous": "p", "model": "n", "origin": "client"}
        ).encode(),
    ],
    ids=["workspace", "session", "kept", "stale-overwrite", "unknown-origin", "clear", "no-scope"],
)
def test_what_does_not_change_the_global_model(entry: bytes) -> None:
    u = usage([entry], [], days=1, now=NOW, persisted="g")
    assert u["selections"] == []
    assert u["timeOnModel"] == [{"model": "g", "seconds": 86400.0}]


@pytest.mark.parametrize("origin", ["client", "external", "restored"])
def test_every_origin_of_a_global_change_counts(origin: str) -> None:
    u = usage([change(at(hours=6), "m", origin=origin, previous="p")], [], days=1, now=NOW)
    assert u["selections"] == [{"model": "m", "count": 1, "byOrigin": {origin: 1}}]
    assert u["timeOnModel"] == [
        {"model": "p", "seconds": 64800.0},
        {"model": "m", "seconds": 21600.0},
    ]


def test_changes_at_either_end_of_the_window_count_and_after_it_do_not() -> None:
    history = [
        change(at(days=1) - MS, "x", origin="kept"),
        change(at(days=1), "first", previous="before"),  # exactly `since`
        change(at(days=1), "first", origin="stale-overwrite"),
        change(NOW, "last", previous="first"),  # exactly `until`
        change(NOW, "last", origin="kept"),
        change(NOW + MS, "future", previous="last"),
        change(NOW + MS, "future", origin="stale-overwrite"),
        change(NOW + MS, "future", origin="kept"),
    ]
    u = usage(history, [], days=1, now=NOW)
    assert u["selections"] == [
        {"model": "first", "count": 1, "byOrigin": {"client": 1}},
        {"model": "last", "count": 1, "byOrigin": {"client": 1}},
    ]
    assert u["timeOnModel"] == [{"model": "first", "seconds": 86400.0}]
    assert u["overwrites"] == {"caught": 1, "restored": 0, "kept": 1}


def test_a_change_before_the_window_in_another_form_says_what_was_in_use_at_its_start() -> None:
    early = json.dumps(
        {"scope": "global", "origin": "client", "model": "early", "ts": ts(at(days=3))},
        separators=(",", ":"),
    ).encode()
    early_overwrite = json.dumps(
        {"origin": "stale-overwrite", "model": "early", "ts": ts(at(days=3))}
    ).encode()
    later = change(at(hours=6), "later", previous="ignored")
    u = usage([early, early_overwrite, later], [], days=1, now=NOW)
    assert u["timeOnModel"] == [
        {"model": "early", "seconds": 64800.0},
        {"model": "later", "seconds": 21600.0},
    ]
    assert u["selections"] == [{"model": "later", "count": 1, "byOrigin": {"client": 1}}]
    assert u["overwrites"] == {"caught": 0, "restored": 0, "kept": 0}


def test_history_lines_are_taken_in_time_order() -> None:
    history = [
        change(at(hours=6), "c", previous="b"),
        change(at(hours=18), "b", previous="a"),
    ]
    assert usage(history, [], days=1, now=NOW)["timeOnModel"] == [
        {"model": "b", "seconds": 43200.0},
        {"model": "a", "seconds": 21600.0},
        {"model": "c", "seconds": 21600.0},
    ]


def test_overwrites_count_caught_restored_and_kept_in_the_window() -> None:
    history = [
        change(at(3), "cli", origin="external", previous="mine"),
        change(at(3), "cli", origin="stale-overwrite", previous="mine"),
        change(at(2), "mine", origin="restored", previous="cli"),
        change(at(1), "cli2", origin="stale-overwrite", previous="mine"),
        change(at(1), "cli2", origin="kept", previous="mine"),
        change(at(1), "w", origin="restored", scope="workspace"),
    ]
    u = usage(history, [], days=7, now=NOW)
    assert u["overwrites"] == {"caught": 2, "restored": 2, "kept": 1}
    assert u["selections"] == [
        {"model": "cli", "count": 1, "byOrigin": {"external": 1}},
        {"model": "mine", "count": 1, "byOrigin": {"restored": 1}},
    ]


def test_history_lines_without_a_model_or_a_time_are_skipped() -> None:
    history = [
        json.dumps({"ts": ts(at(1)), "scope": "global", "origin": "client"}).encode(),
        change(at(1), None, previous="a"),  # type: ignore[arg-type]
        change(at(1), 42, previous="a"),  # type: ignore[arg-type]
        change("not a time", "m", previous="a"),
        b"{not json",
        change(at(1), "m", previous="a"),
    ]
    u = usage(history, [], days=7, now=NOW)
    assert u["skipped"] == 5
    assert u["selections"] == [{"model": "m", "count": 1, "byOrigin": {"client": 1}}]


def test_skipped_counts_both_files() -> None:
    assert usage([b"{bad"], [b"{bad", b"[]"], days=7, now=NOW)["skipped"] == 3


# ---- the table ------------------------------------------------------------------------------


def test_the_table_of_a_week() -> None:
    saves = [
        save(at(2), "saved", ms=10),
        save(at(2), "saved", ms=20),
        save(at(1), "saved", ms=30.5),
        save(at(1), "failed", reason="lock-timeout", ms=1000),
        save(at(1), "failed", reason="invalid-config", ms=3),
        save(at(1), "failed", reason="lock-timeout", ms=1000),
        save(at(1), "unchanged", ms=1),
    ]
    history = [
        change(at(days=1), "openai:gpt-4.1", previous="abc"),
        change(at(hours=12), "abc", origin="external", previous="openai:gpt-4.1"),
        change(at(hours=12), "abc", origin="stale-overwrite", previous="openai:gpt-4.1"),
        change(at(hours=6), "openai:gpt-4.1", origin="restored", previous="abc"),
        b"{torn",
    ]
    assert table(usage(history, saves, days=7, now=NOW)) == (
        "tuna-lsp usage, 2026-03-03 to 2026-03-10 (UTC)\n"
        "\n"
        "Saves: 7 attempts, 3 saved, 1 unchanged, 3 failed; success rate 50.00% (target 99.9%)\n"
        "  failures: lock-timeout 2, invalid-config 1\n"
        "  latency: p50 20.0 ms, p90 30.5 ms, p99 30.5 ms, max 30.5 ms (budget 100 ms)\n"
        "\n"
        "Selections (global model):\n"
        "  openai:gpt-4.1      2  (client 1, restored 1)\n"
        "  abc                 1  (external 1)\n"
        "\n"
        "Time as the global model:\n"
        "  abc             6d 6h 0m\n"
        "  openai:gpt-4.1  18h 0m\n"
        "\n"
        "Stale overwrites: 1 caught, 1 restored, 0 kept\n"
        "Lines skipped (did not parse): 1\n"
    )


def test_the_table_of_nothing_recorded() -> None:
    assert table(usage([], [], days=7, now=NOW)) == (
        "tuna-lsp usage, 2026-03-03 to 2026-03-10 (UTC)\n"
        "\n"
        "Saves: 0 attempts, 0 saved, 0 unchanged, 0 failed; success rate n/a (target 99.9%)\n"
        "\n"
        "Selections (global model):\n"
        "  none\n"
        "\n"
        "Time as the global model:\n"
        "  none\n"
        "\n"
        "Stale overwrites: 0 caught, 0 restored, 0 kept\n"
    )


def test_the_table_pads_short_model_names_to_five_and_shows_the_rate_to_two_places() -> None:
    saves = [save(at(1), "saved", ms=1.25)] * 1998 + [save(at(1), "failed", reason="io", ms=1)]
    history = [change(at(hours=1), "m", previous="ab")]
    text = table(usage(history, saves, days=1, now=NOW))
    assert "success rate 99.95% (target 99.9%)\n" in text
    assert "  failures: io 1\n" in text
    assert "  latency: p50 1.2 ms, p90 1.2 ms, p99 1.2 ms, max 1.2 ms (budget 100 ms)\n" in text
    assert "\n  m          1  (client 1)\n" in text
    assert "\n  ab     23h 0m\n  m      1h 0m\n" in text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0m 0s"),
        (59.99, "0m 59s"),
        (60, "1m 0s"),
        (3599, "59m 59s"),
        (3600, "1h 0m"),
        (3661, "1h 1m"),
        (86399, "23h 59m"),
        (86400, "1d 0h 0m"),
        (90061, "1d 1h 1m"),
        (3650 * 86400, "3650d 0h 0m"),
    ],
)
def test_a_duration_for_people(seconds: float, text: str) -> None:
    assert _duration(seconds) == text
