"""Usage (PROTOCOL.md 10): what the model history and the save outcomes say of the last `days`
days. Pure: takes the files' lines (oldest first), gives the `Usage` object. Must not import
lsprotocol."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

MAX_DAYS = 3650
DEFAULT_DAYS = 30
# the history's origins of a change of the global model. A stale overwrite is also recorded as
# an "external" change (counted there); a "kept" entry records an answer; a clear of a session or
# workspace choice ("kind": "clear") changes what a window uses, not the global model.
CHANGES = ("client", "external", "restored")


def iso(when: dt.datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


_TS = b'{"ts": "'  # how tuna-lsp writes both files: the timestamp first, in one format
_TS_END = len(_TS) + len("2026-01-01T00:00:00.000Z")


def _objects(
    lines: Iterable[bytes], skipped: list[int], since: bytes = b""
) -> list[dict[str, Any]]:
    """The lines as objects; a line that does not parse is counted in `skipped`. A line written
    before `since` (its timestamp compared as text, not parsed) is passed over unread: on a
    year of history, the default 30 days parse a twelfth of the lines."""
    out = []
    for line in lines:
        if since and line.startswith(_TS) and line[len(_TS) : _TS_END] < since:
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("ts"), str):
            out.append(obj)
        else:
            skipped[0] += 1
    return out


def _when(obj: dict[str, Any]) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(obj["ts"].replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _percentile(sorted_values: list[float], share: float) -> float:
    """Nearest rank."""
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


def window(days: int, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The last `days` days up to `now` (this moment when not given): (since, until)."""
    until = now or dt.datetime.now(dt.UTC)
    return until - dt.timedelta(days=days), until


def usage(
    history: Iterable[bytes],
    saves: Iterable[bytes],
    days: int = DEFAULT_DAYS,
    now: dt.datetime | None = None,
    persisted: str | None = None,
) -> dict[str, Any]:
    """`persisted`: the global model now, for a window the history says nothing of."""
    since, until = window(days, now)
    skipped = [0]
    cutoff = iso(since).encode()
    saved = _saves(_objects(saves, skipped, cutoff), since, until, skipped)
    models = _models(_objects(history, skipped, cutoff), since, until, skipped, persisted)
    return {"since": iso(since), "until": iso(until), **saved, **models, "skipped": skipped[0]}


def _saves(
    objects: list[dict[str, Any]], since: dt.datetime, until: dt.datetime, skipped: list[int]
) -> dict[str, Any]:
    """`saves` and `savesByDay`: the save outcomes of the window."""
    attempts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    by_day: dict[str, Counter[str]] = {}  # UTC day -> outcome -> count, for a chart over time
    latencies: list[float] = []
    for obj in objects:
        when = _when(obj)
        outcome = obj.get("outcome")
        if when is None or outcome not in ("saved", "unchanged", "failed"):
            skipped[0] += 1
            continue
        if not since <= when <= until:
            continue
        attempts[outcome] += 1
        by_day.setdefault(when.astimezone(dt.UTC).date().isoformat(), Counter())[outcome] += 1
        if outcome == "failed":
            reasons[str(obj.get("reason") or "unknown")] += 1
        ms = obj.get("ms")
        if outcome == "saved" and isinstance(ms, int | float) and math.isfinite(ms):
            latencies.append(float(ms))
    latencies.sort()
    done = attempts["saved"] + attempts["failed"]
    return {
        "saves": {
            "attempts": sum(attempts.values()),
            "saved": attempts["saved"],
            "unchanged": attempts["unchanged"],
            "failed": attempts["failed"],
            "failedByReason": dict(reasons.most_common()),
            "successRate": round(attempts["saved"] / done, 6) if done else None,
            "latencyMs": {
                "p50": _percentile(latencies, 0.5),
                "p90": _percentile(latencies, 0.9),
                "p99": _percentile(latencies, 0.99),
                "max": latencies[-1],
            }
            if latencies
            else None,
        },
        # not in the contract's section 10: the attempts of each UTC day that had any, oldest first
        "savesByDay": [
            {"day": day, "saved": n["saved"], "unchanged": n["unchanged"], "failed": n["failed"]}
            for day, n in sorted(by_day.items())
        ],
    }


def _models(
    objects: list[dict[str, Any]],
    since: dt.datetime,
    until: dt.datetime,
    skipped: list[int],
    persisted: str | None,
) -> dict[str, Any]:
    """`selections`, `timeOnModel` and `overwrites`: what the history says of the global model."""
    selections: dict[str, Counter[str]] = {}
    seconds: dict[str, float] = {}
    overwrites: Counter[str] = Counter()
    current: str | None = None  # the global model at `since`, then as it changes
    at = since
    entries = []
    for obj in objects:
        when = _when(obj)
        if when is None or not isinstance(obj.get("model"), str):
            skipped[0] += 1
        else:
            entries.append((when, obj))
    entries.sort(key=lambda pair: pair[0])
    for when, obj in entries:
        origin, model = obj.get("origin"), obj["model"]
        if when > until:
            break
        if when >= since and origin in ("stale-overwrite", "restored", "kept"):
            overwrites[str(origin)] += 1
        if obj.get("scope") != "global" or origin not in CHANGES or obj.get("kind") == "clear":
            continue
        if when < since:
            current = model
            continue
        if current is None and isinstance(obj.get("previous"), str):
            current = obj["previous"]  # what was in use before the first change seen
        if current is not None:
            seconds[current] = seconds.get(current, 0.0) + (when - at).total_seconds()
        selections.setdefault(model, Counter())[str(origin)] += 1
        current, at = model, when
    current = current if current is not None else persisted
    if current is not None:
        seconds[current] = seconds.get(current, 0.0) + (until - at).total_seconds()
    return {
        "selections": [
            {"model": model, "count": sum(by.values()), "byOrigin": dict(by.most_common())}
            for model, by in sorted(
                selections.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])
            )
        ],
        "timeOnModel": [
            {"model": model, "seconds": round(secs, 3)}
            for model, secs in sorted(seconds.items(), key=lambda kv: (-kv[1], kv[0]))
            if secs > 0
        ],
        "overwrites": {
            "caught": overwrites["stale-overwrite"],
            "restored": overwrites["restored"],
            "kept": overwrites["kept"],
        },
    }


def table(u: dict[str, Any]) -> str:
    """The Usage object for people (`tuna-lsp usage`)."""
    s = u["saves"]
    rate = "n/a" if s["successRate"] is None else f"{s['successRate'] * 100:.2f}%"
    lat = s["latencyMs"]
    lines = [
        f"tuna-lsp usage, {u['since'][:10]} to {u['until'][:10]} (UTC)",
        "",
        f"Saves: {s['attempts']} attempts, {s['saved']} saved, {s['unchanged']} unchanged, "
        f"{s['failed']} failed; success rate {rate} (target 99.9%)",
    ]
    if s["failedByReason"]:
        lines.append("  failures: " + ", ".join(f"{r} {n}" for r, n in s["failedByReason"].items()))
    if lat:
        lines.append(
            f"  latency: p50 {lat['p50']:.1f} ms, p90 {lat['p90']:.1f} ms, p99 {lat['p99']:.1f} ms,"
            f" max {lat['max']:.1f} ms (budget 100 ms)"
        )
    lines += ["", "Selections (global model):"]
    width = max([len(x["model"]) for x in u["selections"]] + [5])
    for x in u["selections"]:
        by = ", ".join(f"{o} {n}" for o, n in x["byOrigin"].items())
        lines.append(f"  {x['model']:<{width}}  {x['count']:>5}  ({by})")
    if not u["selections"]:
        lines.append("  none")
    lines += ["", "Time as the global model:"]
    width = max([len(x["model"]) for x in u["timeOnModel"]] + [5])
    for x in u["timeOnModel"]:
        lines.append(f"  {x['model']:<{width}}  {_duration(x['seconds'])}")
    if not u["timeOnModel"]:
        lines.append("  none")
    o = u["overwrites"]
    lines += [
        "",
        f"Stale overwrites: {o['caught']} caught, {o['restored']} restored, {o['kept']} kept",
    ]
    if u["skipped"]:
        lines.append(f"Lines skipped (did not parse): {u['skipped']}")
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"
