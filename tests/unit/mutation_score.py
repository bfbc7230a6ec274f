"""Print the share of mutants killed, per module and in all, from a finished `mutmut run`.

Run from the directory mutmut ran in (`make mutation` stages one under .cache/). Reads mutmut's
per-file `.meta` results; exits 1 when the total is under the target given as the first argument.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code


def main() -> int:
    target = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    survivors: list[str] = []
    rows: list[tuple[str, Counter[str]]] = []
    total: Counter[str] = Counter()
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        module = meta.relative_to("mutants").as_posix().removesuffix(".py.meta")
        module = module.removeprefix("src/").replace("/", ".")
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        counts: Counter[str] = Counter()
        for name, code in codes.items():
            status = status_by_exit_code[code]
            counts[status] += 1
            if status != "killed":
                survivors.append(f"{status:>9}  {name}")
        if codes:
            rows.append((module, counts))
            total.update(counts)
    if not total:
        print("no mutants found: did `mutmut run` finish?")
        return 1
    width = max(len(m) for m, _ in rows)
    print(f"{'module':<{width}}  killed / mutants  score  (others: status and count)")
    for module, counts in [*rows, ("TOTAL", total)]:
        n = sum(counts.values())
        others = ", ".join(f"{s} {c}" for s, c in sorted(counts.items()) if s != "killed")
        print(
            f"{module:<{width}}  {counts['killed']:>6} / {n:<7}  {100 * counts['killed'] / n:5.1f}%  {others}"
        )
    Path("mutants/not-killed.txt").write_text("\n".join(survivors) + "\n")
    print(
        f"not killed: {len(survivors)} (listed in mutants/not-killed.txt; `mutmut show NAME` shows one)"
    )
    score = 100 * total["killed"] / sum(total.values())
    if score < target:
        print(f"mutation score {score:.1f}% is under the target {target:g}%")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
