"""Print the share of mutants caught, per module and in all, from a finished `mutmut run`.

Run from the directory mutmut ran in (`make mutation` stages one under .cache/). Reads mutmut's
per-file `.meta` results. A mutant is caught when a unit test failed on it or it made the tests
run past mutmut's time limit (both counted, and shown apart). Functions named with --apart are
counted on a line of their own, outside the total. Exits 1 when the total is under --target.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

CAUGHT = ("killed", "timeout")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", type=float, default=0.0, help="least total score, in %%")
    parser.add_argument("--apart", nargs="*", default=[], help="module.function to count apart")
    args = parser.parse_args()
    apart = {name.rsplit(".", 1)[0] + ".x_" + name.rsplit(".", 1)[1] for name in args.apart}
    not_caught: list[str] = []
    rows: dict[str, Counter[str]] = {}
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        module = meta.relative_to("mutants").as_posix().removesuffix(".py.meta")
        module = module.removeprefix("src/").replace("/", ".")
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            status = status_by_exit_code[code]
            row = (
                "(apart) " + name.partition("__mutmut_")[0]
                if name.partition("__mutmut_")[0] in apart
                else module
            )
            rows.setdefault(row, Counter())[status] += 1
            if status not in CAUGHT:
                not_caught.append(f"{status:>9}  {name}")
    total: Counter[str] = Counter()
    for row, counts in rows.items():
        if not row.startswith("(apart)"):
            total.update(counts)
    if not total:
        print("no mutants found: did `mutmut run` finish?")
        return 1
    width = max(len(m) for m in rows)
    print(f"{'module':<{width}}  caught / mutants   score  (killed, timeout; not caught by status)")
    ordered = sorted(rows.items(), key=lambda kv: (kv[0].startswith("(apart)"), kv[0]))
    for row, counts in [*ordered, ("TOTAL", total)]:
        n = sum(counts.values())
        caught = sum(counts[s] for s in CAUGHT)
        others = ", ".join(f"{s} {c}" for s, c in sorted(counts.items()) if s not in CAUGHT)
        print(
            f"{row:<{width}}  {caught:>6} / {n:<7}  {100 * caught / n:5.1f}%  "
            f"({counts['killed']}, {counts['timeout']}; {others or 'none'})"
        )
    Path("mutants/not-caught.txt").write_text("\n".join(not_caught) + "\n")
    print(f"not caught: {len(not_caught)}, listed in mutants/not-caught.txt (`mutmut show NAME`)")
    score = 100 * sum(total[s] for s in CAUGHT) / sum(total.values())
    if score < args.target:
        print(f"mutation score {score:.1f}% is under the target {args.target:g}%")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
