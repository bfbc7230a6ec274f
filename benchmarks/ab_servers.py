"""Two or more builds of the server, interleaved, on the figures users see (issue 26's rule for
speed code): the cold start to the first status with VS Code's capabilities, `tuna/listModels`
over 50 000 models, and idle memory. A speed trick stays only if removing it moves one of these
by more than the spread between rounds.

    python benchmarks/ab_servers.py --rounds 12 \\
        kept="tuna-lsp --log-level WARNING" \\
        without="env PYTHONPATH=/tmp/variant/server python -m tuna_lsp --log-level WARNING"

Each round starts every build in turn (the order rotates, so a trend of the machine's load
favours none), and the listing's queries go in blocks, build after build, against servers kept
running side by side. Printed: the first build's median and its round-to-round spread, and
each other build's ratio to it, paired by round (see `table`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import statistics
import tempfile
from pathlib import Path

from bench_core import (
    BLOCK,
    CONFIG,
    QUERIES,
    Client,
    isolated_env,
    one_start,
    pct,
    synthetic_snapshot,
    timed_requests,
    vscode_capabilities,
)


def home_with_config(root: Path, name: str, snapshot: bytes | None = None) -> Path:
    home = root / name
    (home / ".config").mkdir(parents=True, exist_ok=True)
    (home / ".config" / "tunacode.json").write_text(json.dumps(CONFIG, indent=4))
    if snapshot is not None:
        cache = home / "xdg-cache" / "tunacode"
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "models-dev-snapshot.json").write_bytes(snapshot)
    return home


async def starts(builds: dict[str, list[str]], root: Path, rounds: int) -> dict[str, dict]:
    """Per build: ms from spawn to the first status (VS Code's capabilities), idle RSS (MiB)."""
    vscode = vscode_capabilities()
    out = {name: {"start_ms": [], "idle_mib": []} for name in builds}
    names = list(builds)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            home = home_with_config(root, f"start-{name}")
            _, first, _ = await one_start(builds[name], home, True, vscode)
            out[name]["start_ms"].append((first or 0) * 1000)
            _, _, rss = await one_start(builds[name], home, True)
            out[name]["idle_mib"].append(rss / 1024)
    return out


async def listings(
    builds: dict[str, list[str]], root: Path, rounds: int, out: dict[str, dict]
) -> None:
    """Per build: the p50 of a round's block of 2-token queries over 50 000 models (ms)."""
    snapshot = synthetic_snapshot()
    clients = {}
    for name, cmd in builds.items():
        home = home_with_config(root, f"list-{name}", snapshot)
        client = Client()
        await client.start(cmd, isolated_env(home))
        await asyncio.wait_for(client.first_change, 60)
        first = await client.request("tuna/listModels", {"limit": 1})
        assert first["catalog"]["models"] >= 50_000, f"{name}: the snapshot was not loaded"
        clients[name] = client
        out[name]["listing_ms"] = []
    try:
        # the same models in the same order (the catalog's description names each home's file)
        answers = {
            name: [
                (a["items"], a["total"])
                for a in [await c.request("tuna/listModels", {"query": q}) for q in QUERIES]
            ]
            for name, c in clients.items()
        }
        first_answer = next(iter(answers.values()))
        for name, answer in answers.items():  # or the comparison means nothing
            assert answer == first_answer, f"{name} answers differently from the first build"
        params = [{"query": q} for q in QUERIES]
        names = list(builds)
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                times = await timed_requests(clients[name], BLOCK, "tuna/listModels", params)
                out[name]["listing_ms"].append(pct(times, 50))
    finally:
        for client in clients.values():
            await client.stop()


def iqr(values: list[float]) -> tuple[float, float, float]:
    """25th percentile, median, 75th."""
    if len(values) < 2:
        return (values[0],) * 3 if values else (0.0, 0.0, 0.0)
    q1, median, q3 = statistics.quantiles(values, n=4)
    return q1, median, q3


def table(out: dict[str, dict]) -> str:
    """Per figure: the base's median and its spread (the ratio of one round to the previous:
    middle half), then each build's ratio to the base, paired by round (median and middle
    half): a build moves a figure when its median ratio lies outside the base's spread."""
    names = list(out)
    base = names[0]
    rows = [
        f"| figure | {base}: median, round-to-round spread | "
        + " | ".join(f"{n} / {base}: paired ratio [middle half]" for n in names[1:])
        + " |",
        "| --- | --- |" + " --- |" * (len(names) - 1),
    ]
    for figure in ("start_ms", "idle_mib", "listing_ms"):
        b = out[base][figure]
        lo, _, hi = iqr([x / y for x, y in zip(b[1:], b[:-1], strict=False)])
        cells = [f"{statistics.median(b):.2f} [{lo:.3f}-{hi:.3f}]"]
        for name in names[1:]:
            q1, med, q3 = iqr([x / y for x, y in zip(out[name][figure], b, strict=True)])
            moved = " **moved**" if med > hi or med < lo else ""
            cells.append(f"{med:.3f} [{q1:.3f}-{q3:.3f}]{moved}")
        rows.append(f"| {figure} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


async def main(builds: dict[str, list[str]], rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="tuna-ab-") as tmp:
        root = Path(tmp)
        out = await starts(builds, root, rounds)
        await listings(builds, root, rounds, out)
    print(table(out))
    print(json.dumps(out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("builds", nargs="+", help='name="command line", the first is the base')
    args = parser.parse_args()
    builds = {}
    for spec in args.builds:
        name, _, cmd = spec.partition("=")
        builds[name] = shlex.split(cmd)
    asyncio.run(main(builds, args.rounds))
