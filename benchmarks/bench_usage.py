"""Speed of the usage figures (PROTOCOL.md 10): `tuna/usage` over a year of history.

    make bench     (or: .venv/bin/python benchmarks/bench_usage.py [--quick])

A year of data in a temporary state directory: 100 000 history lines and 100 000 save outcomes
spread evenly over 365 days (more than rotation ever keeps: both files rotate at 1 MiB, so a real
state directory holds at most about 7 000 lines of each, twice). Figures, p50 of repeated runs:

- the default 30 days, and the whole year, computed as the server does (storage/saves.read_usage),
  in this process;
- the same through a real server (`tuna/usage` request to response);
- the baseline: reading the same files and splitting their lines (the floor of any reader).

Target: the default window under 50 ms. Every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import SERVER, Client, isolated_env  # noqa: E402
from tuna_lsp.storage.jsonl import read_lines  # noqa: E402
from tuna_lsp.storage.saves import read_usage  # noqa: E402

MODELS = ["openai:gpt-4.1", "openai:o3", "anthropic:claude-sonnet-4-20250514", "openai:gpt-4o"]


def year_of_data(state: Path, lines: int) -> None:
    state.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    rng = random.Random(7)
    step = dt.timedelta(days=365) / lines
    history, saves = [], []
    for i in range(lines):
        ts = (now - dt.timedelta(days=365) + step * i).isoformat(timespec="milliseconds")
        ts = ts.replace("+00:00", "Z")
        model, previous = rng.choice(MODELS), rng.choice(MODELS)
        origin = rng.choice(["client", "client", "external", "restored"])
        history.append(
            json.dumps(
                {
                    "ts": ts,
                    "previous": previous,
                    "model": model,
                    "scope": "global",
                    "origin": origin,
                    "client": "Visual Studio Code 1.100.3",
                }
            )
        )
        failed = rng.random() < 0.001
        entry = {
            "ts": ts,
            "scope": "global",
            "kind": "set",
            "outcome": "failed" if failed else rng.choice(["saved", "saved", "unchanged"]),
        }
        if failed:
            entry["reason"] = "lock-timeout"
        entry.update(ms=round(rng.uniform(2, 30), 2), client="Visual Studio Code 1.100.3")
        saves.append(json.dumps(entry))
    (state / "model-history.jsonl").write_text("\n".join(history) + "\n")
    (state / "saves.jsonl").write_text("\n".join(saves) + "\n")


def p50_ms(run, rounds: int, budget_s: float) -> float:
    times = []
    deadline = time.monotonic() + budget_s
    for _ in range(rounds):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
        if time.monotonic() > deadline and len(times) >= 3:
            break
    return statistics.median(times)


async def through_server(home: Path, rounds: int) -> float:
    client = Client()
    await client.start(SERVER, isolated_env(home))
    try:
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            await client.request("tuna/usage", {})
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)
    finally:
        await client.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    rounds = 5 if args.quick else 15
    with tempfile.TemporaryDirectory(prefix="tuna-bench-usage-") as tmp:
        home = Path(tmp) / "home"
        state = home / "xdg-state" / "tunacode"  # bench_core.isolated_env's
        year_of_data(state, 100_000)
        history, saves = state / "model-history.jsonl", state / "saves.jsonl"
        floor = p50_ms(lambda: (list(read_lines(history)), list(read_lines(saves))), rounds, 20)
        month = p50_ms(lambda: read_usage(history, saves, 30), rounds, 30)
        year = p50_ms(lambda: read_usage(history, saves, 365), max(3, rounds // 3), 60)
        served = asyncio.run(through_server(home, rounds))
    print(
        "| usage over a year (100 000 history lines + 100 000 outcomes) | p50 | baseline: read and split | target |"
    )
    print("| --- | --- | --- | --- |")
    print(
        f"| default 30 days, in process | {month:.1f} ms | {floor:.1f} ms | < 50 ms: {'yes' if month < 50 else 'NO'} |"
    )
    print(
        f"| default 30 days, tuna/usage through a real server | {served:.1f} ms | {floor:.1f} ms | < 50 ms: {'yes' if served < 50 else 'NO'} |"
    )
    print(f"| the whole year (days 365), in process | {year:.1f} ms | {floor:.1f} ms | |")


if __name__ == "__main__":
    main()
