"""The reliability figures as a markdown table, from what the suites recorded.

    python tests/reliability/report.py                 # print the table
    python tests/reliability/report.py --readme README.md
        # replace the text between <!-- reliability:begin --> and <!-- reliability:end -->

Each suite appends one JSON line per run to .cache/reliability-results.jsonl (or
$TUNA_RELIABILITY_RESULTS). For each suite the table shows its latest full run (`make
reliability`), or its latest short run (`make test`) when it never had a full one.
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(
    os.environ.get("TUNA_RELIABILITY_RESULTS", str(ROOT / ".cache" / "reliability-results.jsonl"))
)
ORDER = ("crash", "concurrency", "bad-input", "permissions", "hardening", "secrets")
BEGIN, END = "<!-- reliability:begin -->", "<!-- reliability:end -->"


def fmt(value: float) -> str:
    return f"{int(value):,}".replace(",", " ") if float(value).is_integer() else f"{value:.3g}"


def figures(rec: dict[str, Any]) -> tuple[str, str]:
    """(what was tried, what happened) for one suite's record."""
    g = lambda k: rec.get(k, 0)  # noqa: E731
    suite = rec["suite"]
    if suite == "crash":
        return (
            f"{fmt(g('kills'))} SIGKILLs of servers mid-stream of sets "
            f"({fmt(g('killsHoldingLock'))} holding the lock)",
            f"{fmt(g('tornFiles'))} torn files, {fmt(g('lostValues'))} lost values, "
            f"{fmt(g('lostAcknowledged'))} acknowledged sets lost, max lock wait "
            f"{g('maxLockWaitS'):.3f} s",
        )
    if suite == "concurrency":
        return (
            f"{fmt(g('maxServers'))} servers at once + the tunacode CLI: {fmt(g('writesRaced'))} "
            f"writes raced, {fmt(g('readsChecked'))} reads checked",
            f"{fmt(g('parseFailures'))} parse failures, {fmt(g('lostValues'))} lost values, "
            f"{fmt(g('failedSets'))} failed sets, {fmt(g('garbageReports'))} garbage reports "
            f"(the CLI's own in-place writes: {fmt(g('tornCliReads'))} torn reads)",
        )
    if suite == "bad-input":
        return (
            f"{fmt(g('fuzzCases'))} fuzz cases (params of every request and command, "
            "initialize, whole messages, config and preferences files)",
            f"{fmt(g('internalErrors'))} internal errors, {fmt(g('unanswered'))} unanswered, "
            f"{fmt(g('malformedOverwritten'))} malformed files overwritten",
        )
    if suite == "permissions":
        return (
            f"{fmt(g('scenarios'))} scenarios as an unprivileged user",
            f"{fmt(g('refused'))} refused as documented, nothing changed; "
            f"{fmt(g('followed'))} symlink written through; {fmt(g('warned'))} exposure warnings",
        )
    if suite == "hardening":
        return (
            f"{fmt(g('inputs'))} hostile inputs: TCP strangers (no token, a wrong one, silent) and "
            "second connections and initialize, sockets and tokens in shared folders, oversized "
            "header lines and bodies, unread replies, FIFO / device / directory / huge / non-.json "
            "config paths, links others control, oversized / slow / redirected / deep catalog "
            "sources, NaN, modules planted where the server starts (tuna_lsp/, json.py, sqlite3/, "
            "...), a shared cache with a gzip bomb, an index with an endless view, a tampered "
            "index's model id",
            f"{fmt(g('lost'))} files lost or changed, {fmt(g('unanswered'))} unanswered; peak "
            f"RSS of the worst input {g('peakRssMiB'):.0f} MiB",
        )
    if suite == "secrets":
        return (
            f"{g('scanBytes') / 2**20:.1f} MiB scanned in {fmt(g('scanFiles'))} files from "
            f"{fmt(g('scanServers'))} server processes",
            f"{fmt(g('hits'))} secrets found",
        )
    return rec.get("summary", ""), ""


def latest(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    best: dict[str, dict[str, Any]] = {}
    for rec in records:  # in file order: later lines win within a mode; full beats short
        suite = rec.get("suite")
        if suite not in ORDER:
            continue
        old = best.get(suite)
        if old is None or rec.get("mode") == "full" or old.get("mode") != "full":
            best[suite] = rec
    return best


def table(records: list[dict[str, Any]]) -> str:
    best = latest(records)
    if not best:
        return "No reliability figures yet: run `make reliability` (or `make test`)."
    rows = [
        "| suite | tried | result | status | run |",
        "| --- | --- | --- | --- | --- |",
    ]
    for suite in ORDER:
        rec = best.get(suite)
        if rec is None:
            continue
        tried, result = figures(rec)
        status = "pass" if not rec.get("failed") else f"{rec['failed']} failed"
        run = f"{rec.get('mode')}, {rec.get('durationS', '?')} s, {rec.get('ts', '')[:10]}"
        if rec.get("commit"):
            run += f", {rec['commit']}"
        rows.append(f"| {suite} | {tried} | {result} | {status} | {run} |")
    return "\n".join(rows)


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--readme", type=Path, help=f"replace the block between {BEGIN} and {END}")
    args = parser.parse_args(argv)
    text = table(read(args.results))
    if args.readme is None:
        print(text)
        return 0
    readme = args.readme.read_text(encoding="utf-8")
    block = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not block.search(readme):
        print(f"{args.readme} has no {BEGIN} ... {END} block", file=sys.stderr)
        return 1
    args.readme.write_text(block.sub(f"{BEGIN}\n{text}\n{END}", readme), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
