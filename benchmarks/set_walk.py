"""The walk of one global set through the server's code: from the message read to the rename of
the config, the `tuna/modelChanged` notification, the response and the effects after it (the
history line, the save outcome). Issue 26 asks for this walk to be short; this prints how long
it is, as files and calls of the `tuna_lsp` package (pygls's and the standard library's are not
counted).

    python benchmarks/set_walk.py [--server-path DIR] [--list]

The server runs as a child process with a profile hook that records each call into `tuna_lsp`
between the second message `tuna/setModel` (the first compiles what every set uses) and the
client's next request (sent once the set's response has arrived). `--server-path` runs another copy of the package (an older commit's `server/`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def child(out: Path) -> None:
    """Run the server with the profile hook (in the child process)."""
    import tuna_lsp
    from tuna_lsp.__main__ import main

    package = str(Path(tuna_lsp.__file__).parent)
    calls: list[tuple[str, str, int]] = []
    state: dict[str, Any] = {"on": False, "done": False}

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event != "call" or state["done"]:
            return
        code = frame.f_code
        if code.co_name == "handle_message" and code.co_filename.startswith(package):
            method = getattr(frame.f_locals["message"], "method", None)
            if method == "tuna/setModel":
                state["sets"] = state.get("sets", 0) + 1
                state["on"] = state["sets"] == 2  # the first compiles what sets use
            elif state["on"] and method is not None:
                state["done"] = True
                out.write_text(json.dumps({"calls": calls, "rename": state.get("rename", [])}))
                return
        if state["on"] and code.co_name == "replace" and code.co_filename.endswith("platform.py"):
            # the rename of the config: the chain of the package's frames that led to it
            chain, at = [], frame
            while at is not None:
                if at.f_code.co_filename.startswith(package):
                    where = os.path.relpath(at.f_code.co_filename, package)
                    chain.append(f"{where}:{at.f_code.co_qualname}")
                at = at.f_back
            if not echo(frame) and "rename" not in state:
                state["rename"] = chain[::-1]
        if state["on"] and code.co_filename.startswith(package):
            calls.append(
                (os.path.relpath(code.co_filename, package), code.co_qualname, echo(frame))
            )

    def echo(frame: Any) -> int:
        """1 for a call made by the watcher's reading of the server's own write (counted apart)."""
        while frame is not None:
            if frame.f_code.co_filename.endswith("config_watcher.py"):
                return 1
            frame = frame.f_back
        return 0

    threading.setprofile(hook)
    sys.setprofile(hook)
    sys.argv = ["tuna-lsp", "--log-level", "WARNING"]
    main()


async def parent(server_path: str | None, show: bool) -> int:
    sys.path.insert(0, str(HERE))
    from bench_core import CONFIG, Client, isolated_env

    with tempfile.TemporaryDirectory(prefix="tuna-walk-") as tmp:
        home = Path(tmp)
        (home / ".config").mkdir()
        (home / ".config" / "tunacode.json").write_text(json.dumps(CONFIG, indent=4))
        out = home / "walk.json"
        env = {**isolated_env(home), "TUNA_WALK_OUT": str(out)}
        if server_path:
            env["PYTHONPATH"] = server_path
        client = Client()
        await client.start([sys.executable, __file__, "--child"], env)
        await asyncio.wait_for(client.first_change, 30)
        await client.request("tuna/listModels", {"limit": 1})  # the catalog is loaded
        await client.request("tuna/getModel", None)
        for model in ("openai:gpt-4o", "anthropic:claude-sonnet-4"):  # the second is counted
            await client.request("tuna/setModel", {"model": model, "scope": "global"})
            await client.request("tuna/getModel", None)
        await client.stop()
        found = json.loads(out.read_text())
    calls, rename = found["calls"], found["rename"]
    echoes = [c for c in calls if c[2]]
    calls = [c for c in calls if not c[2]]
    files = Counter(f for f, _, _ in calls)
    functions = Counter(f"{f}:{name}" for f, name, _ in calls)
    print(f"files: {len(files)}  distinct functions: {len(functions)}  calls: {len(calls)}")
    print(f"(apart: the watcher reading the server's own write back, {len(echoes)} calls)")
    print(
        f"from the message to the rename: {len(rename)} frames in {len(set(f.split(':')[0] for f in rename))} files"
    )
    for frame in rename:
        print(f"    {frame}")
    for f, n in files.most_common():
        print(f"  {n:5d}  {f}")
    if show:
        for name, n in sorted(functions.items()):
            print(f"  {n:5d}  {name}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        child(Path(os.environ["TUNA_WALK_OUT"]))
    else:
        parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        parser.add_argument("--server-path", help="a `server/` folder to import tuna_lsp from")
        parser.add_argument("--list", action="store_true", help="every function and its calls")
        args = parser.parse_args()
        sys.exit(asyncio.run(parent(args.server_path, args.list)))
