"""Instructions per tuna/setModel, a figure the machine's load does not move: the server runs
under valgrind's callgrind twice, making N1 and then N2 sets (same start-up, same idle time);
the difference of the two instruction totals over N2 - N1 is the cost of one set, everything
the process does for it included (the write, the history line, the re-read its own watcher makes).

    .venv/bin/python benchmarks/instructions_per_set.py [--server "CMD ..."]

Needs valgrind (Debian: apt-get install valgrind). Slow: valgrind runs Python ~50x slower.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shlex
import tempfile
from pathlib import Path
from typing import Any

from bench_core import CONFIG, SERVER, Client, isolated_env


class SlowClient(Client):
    """Under valgrind a reply can take many seconds."""

    async def request(self, method: str, params: Any) -> Any:
        self._next += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[self._next] = fut
        self._send({"jsonrpc": "2.0", "id": self._next, "method": method, "params": params})
        return await asyncio.wait_for(fut, 900)


async def instructions(server: list[str], n_sets: int, out: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="tuna-ir-") as d:
        home = Path(d)
        cfg = home / ".config" / "tunacode.json"
        cfg.parent.mkdir(parents=True)
        cfg.write_text(json.dumps(CONFIG, indent=4))
        env = {**isolated_env(home), "PYTHONHASHSEED": "0"}
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *server]
        client = SlowClient()
        await client.start(cmd, env)
        await asyncio.wait_for(client.first_change, 600)
        await client.request("tuna/listModels", {"limit": 1})  # the catalog has loaded
        await asyncio.sleep(2)
        models = ["openai:gpt-4.1", "openai:gpt-4o"]
        for i in range(n_sets):
            await client.request("tuna/setModel", {"model": models[i % 2]})
            await asyncio.sleep(0.05)  # the watcher's re-read of our own write belongs to the set
        await asyncio.sleep(2)
        await client.stop()
    text = out.read_text(errors="replace")
    found = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
    if found is None:
        raise SystemExit(f"no instruction total in {out}")
    return int(found.group(1))


async def main(server: list[str], n1: int, n2: int) -> None:
    with tempfile.TemporaryDirectory(prefix="tuna-cg-") as d:
        a = await instructions(server, n1, Path(d) / "a.out")
        b = await instructions(server, n2, Path(d) / "b.out")
    print(
        json.dumps(
            {"sets": [n1, n2], "instructions": [a, b], "per_set": round((b - a) / (n2 - n1))}
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", help="the server command (default: this venv's tuna-lsp)")
    parser.add_argument("--sets", type=int, nargs=2, default=[10, 60], metavar=("N1", "N2"))
    args = parser.parse_args()
    asyncio.run(main(shlex.split(args.server) if args.server else SERVER, *args.sets))
