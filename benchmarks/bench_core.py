"""Speed and memory of tuna-lsp, each measured against a baseline run in the same process tree.

    make bench     (or: .venv/bin/python benchmarks/bench_core.py [--quick])

- setModel round trip (request sent -> response received, durable write included), alternating
  models, against the floor: one temp write + fsync + rename + dir fsync of the same file,
  measured interleaved with the sets.
- propagation: an external write of the config -> tuna/modelChanged at the client.
- cold start: spawn -> initialize response, and spawn -> first tuna/modelChanged, against a bare
  pygls server that registers one request (benchmarks/bare_server.py), runs interleaved.
- idle RSS after the catalog has loaded, against the bare server's.
- tuna/listModels over the whole catalog, a two-token query, over the wire and in-process.
All traffic is stdio between local processes; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from asyncio.subprocess import DEVNULL, PIPE
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVER = os.environ.get("TUNA_BENCH_SERVER", "").split() or [
    str(Path(sys.executable).parent / "tuna-lsp"),
    "--log-level",
    "WARNING",
]
BARE = [sys.executable, str(HERE / "bare_server.py")]
CONFIG = {
    "default_model": "openai:gpt-4.1",
    "recent_models": ["openai:gpt-4.1"],
    "env": {"OPENAI_API_KEY": "sk-bench"},
    "settings": {"theme": "dracula", "max_retries": 3},
}


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


class Client:
    """A minimal JSON-RPC client over the server's stdio: the benchmark measures the server, not
    a client library's parsing (pygls's client turns every object into namedtuples)."""

    def __init__(self) -> None:
        self.changes: list[tuple[float, dict[str, Any]]] = []
        self.diagnostics: list[tuple[float, dict[str, Any]]] = []
        self.first_change: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.proc: asyncio.subprocess.Process | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next = 0
        self._reader: asyncio.Task[None] | None = None

    async def start(self, cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
        t0 = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=PIPE, stdout=PIPE, stderr=DEVNULL, env=env, limit=1 << 24
        )
        self._reader = asyncio.get_running_loop().create_task(self._read())
        await self.request(
            "initialize", {"processId": os.getpid(), "capabilities": {}, "rootUri": None}
        )
        t_init = time.perf_counter() - t0
        self.notify("initialized", {})
        return t0, t_init

    def _send(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg).encode()
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def request(self, method: str, params: Any) -> Any:
        self._next += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[self._next] = fut
        self._send({"jsonrpc": "2.0", "id": self._next, "method": method, "params": params})
        return await asyncio.wait_for(fut, 30)

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        out = self.proc.stdout
        while True:
            length = 0
            while (line := await out.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            msg = json.loads(await out.readexactly(length))
            now = time.perf_counter()
            if "id" in msg and "method" not in msg:
                fut = self._pending.pop(msg["id"], None)
                if fut and not fut.done():
                    fut.set_result(msg.get("result"))
            elif msg.get("method") == "tuna/modelChanged":
                self.changes.append((now, msg["params"]))
                if not self.first_change.done():
                    self.first_change.set_result(now)
            elif msg.get("method") == "textDocument/publishDiagnostics":
                self.diagnostics.append((now, msg["params"]))
            elif "id" in msg:  # a request from the server (e.g. registration): answer it
                self._send({"jsonrpc": "2.0", "id": msg["id"], "result": None})

    async def stop(self) -> None:
        assert self.proc is not None
        try:
            await self.request("shutdown", None)
            self.notify("exit", None)
            await asyncio.wait_for(self.proc.wait(), 5)
        except (TimeoutError, ConnectionError):
            self.proc.kill()
        if self._reader:
            self._reader.cancel()


def isolated_env(home: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")},
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "xdg-config"),
        "XDG_STATE_HOME": str(home / "xdg-state"),
        "XDG_CACHE_HOME": str(home / "xdg-cache"),
    }


def floor_write(path: Path, raw: bytes) -> float:
    t0 = time.perf_counter()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".floor.")
    os.write(fd, raw)
    os.fsync(fd)
    os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(dfd)
    os.close(dfd)
    return (time.perf_counter() - t0) * 1000


async def bench_sets_and_propagation(home: Path, n_sets: int, n_prop: int) -> dict[str, Any]:
    cfg = home / ".config" / "tunacode.json"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(json.dumps(CONFIG, indent=4))
    floor_file = cfg.parent / "floor.json"
    client = Client()
    await client.start(SERVER, isolated_env(home))
    await asyncio.wait_for(client.first_change, 10)
    await client.request("tuna/listModels", {"limit": 1})  # the catalog has loaded
    models = ["openai:gpt-4.1", "openai:gpt-4o"]
    rtt: list[float] = []
    floor: list[float] = []
    deadline = time.monotonic() + 120
    for i in range(n_sets):
        if time.monotonic() > deadline:
            break
        t0 = time.perf_counter()
        await client.request("tuna/setModel", {"model": models[i % 2]})
        rtt.append((time.perf_counter() - t0) * 1000)
        floor.append(floor_write(floor_file, cfg.read_bytes()))
    stats = await client.request("tuna/stats", {})

    prop: list[float] = []
    for i in range(n_prop):
        if time.monotonic() > deadline + 60:
            break
        model = f"openai:bench-{i}"
        before = len(client.changes)
        t0 = time.perf_counter()
        floor_write(cfg, json.dumps({**CONFIG, "default_model": model}, indent=4).encode())
        end = time.monotonic() + 5
        while time.monotonic() < end:
            hit = next((t for t, c in client.changes[before:] if c["model"] == model), None)
            if hit is not None:
                prop.append((hit - t0) * 1000)
                break
            await asyncio.sleep(0.0005)
        await asyncio.sleep(0.02)  # let the watcher settle before the next write

    diag = await bench_diagnostics(client, cfg.parent / "big" / "tunacode.json")

    q: list[float] = []
    for i in range(200):
        t0 = time.perf_counter()
        await client.request("tuna/listModels", {"query": ["claude sonnet", "gpt 4.1"][i % 2]})
        q.append((time.perf_counter() - t0) * 1000)
    await client.stop()
    return {"rtt": rtt, "floor": floor, "prop": prop, "list": q, "stats": stats, "diag": diag}


def big_config(size: int = 20_000) -> str:
    """A realistic config grown to `size` bytes: more keys, recents, and settings."""
    data: dict[str, Any] = {
        **CONFIG,
        "recent_models": ["openai:gpt-4.1", "anthropic:claude-sonnet-4-20250514"],
    }
    data["env"] = {f"PROVIDER_{i}_API_KEY": "" for i in range(40)}
    data["settings"] = {"theme": "dracula", "max_retries": 3, "ripgrep": {"timeout": 10}}
    i = 0
    while len(json.dumps(data, indent=4)) < size:
        data[f"x-extension-{i}"] = {"enabled": True, "args": ["--flag", str(i)], "note": "x" * 40}
        i += 1
    return json.dumps(data, indent=4)


async def bench_diagnostics(client: Client, path: Path, n: int = 60) -> list[float]:
    """didChange of a 20 KB config -> publishDiagnostics at the client."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = big_config()
    uri = path.as_uri()
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "json", "version": 1, "text": text}},
    )
    times = []
    for version in range(2, n + 2):
        edited = text.replace('"theme": "dracula"', f'"theme": "dracula-{version}"')
        before = len(client.diagnostics)
        t0 = time.perf_counter()
        client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": edited}],
            },
        )
        end = time.monotonic() + 5
        while time.monotonic() < end and len(client.diagnostics) == before:
            await asyncio.sleep(0.0005)
        if len(client.diagnostics) > before:
            times.append((client.diagnostics[before][0] - t0) * 1000)
    return times


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def one_start(cmd: list[str], home: Path, ours: bool) -> tuple[float, float | None, int]:
    client = Client()
    t0, t_init = await client.start(cmd, isolated_env(home))
    t_first = None
    if ours:
        t_first = await asyncio.wait_for(client.first_change, 10) - t0
        await client.request("tuna/listModels", {"limit": 1})
    else:
        await client.request("bare/ping", {})
    await asyncio.sleep(0.5)  # idle: let start-up work and caches settle before reading RSS
    rss = rss_kib(client.proc.pid) if client.proc else 0
    await client.stop()
    return t_init, t_first, rss


async def bench_start(home: Path, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {
        "ours": [],
        "ours_first": [],
        "bare": [],
        "ours_rss": [],
        "bare_rss": [],
    }
    (home / ".config").mkdir(parents=True, exist_ok=True)
    (home / ".config" / "tunacode.json").write_text(json.dumps(CONFIG, indent=4))
    for _ in range(runs):  # interleaved, so machine noise hits both alike
        t, first, rss = await one_start(SERVER, home, True)
        out["ours"].append(t * 1000)
        out["ours_first"].append((first or 0) * 1000)
        out["ours_rss"].append(rss / 1024)
        t, _, rss = await one_start(BARE, home, False)
        out["bare"].append(t * 1000)
        out["bare_rss"].append(rss / 1024)
    return out


def in_process_search() -> list[float]:
    sys.path.insert(0, str(HERE.parent / "server"))
    from tuna_lsp.core.catalog import load_catalog

    catalog = load_catalog(None, include_tunacode=False)
    times = []
    for i in range(300):
        t0 = time.perf_counter()
        catalog.search(
            ["claude sonnet", "gpt 4.1"][i % 2], provider=None, limit=50, current=None, recents=[]
        )
        times.append((time.perf_counter() - t0) * 1000)
    return times


def row(name: str, value: str, base: str, target: str, ok: bool) -> str:
    return f"| {name} | {value} | {base} | {target} | {'yes' if ok else 'NO'} |"


BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def write_readme(readme: Path, text: str) -> None:
    """Replace the block between the markers with the table this run printed."""
    content = readme.read_text(encoding="utf-8")
    if BEGIN not in content or END not in content:
        raise SystemExit(f"{readme} has no {BEGIN} ... {END} block")
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


async def main(quick: bool, readme: Path | None = None) -> int:
    n_sets, n_prop, runs = (100, 30, 4) if quick else (600, 200, 15)
    with tempfile.TemporaryDirectory(prefix="tuna-bench-") as d:
        res = await bench_sets_and_propagation(Path(d) / "a", n_sets, n_prop)
        start = await bench_start(Path(d) / "b", runs)
    search = in_process_search()
    rtt50, rtt99 = pct(res["rtt"], 0.5), pct(res["rtt"], 0.99)
    fl50, fl99 = pct(res["floor"], 0.5), pct(res["floor"], 0.99)
    p50, p99 = pct(res["prop"], 0.5), pct(res["prop"], 0.99)
    ours, bare, first = (statistics.median(start[k]) for k in ("ours", "bare", "ours_first"))
    rss, bare_rss = statistics.median(start["ours_rss"]), statistics.median(start["bare_rss"])
    l50, s50 = pct(res["list"], 0.5), pct(search, 0.5)
    d50, d99 = pct(res["diag"], 0.5), pct(res["diag"], 0.99)
    lines = [
        f"tuna-lsp benchmark ({len(res['rtt'])} sets, {len(res['prop'])} external writes, "
        f"{runs} cold starts each; {os.cpu_count()} cores)",
        "",
        "| measure | tuna-lsp | baseline (same run) | target | met |",
        "| --- | --- | --- | --- | --- |",
        row("setModel round trip p50", f"{rtt50:.2f} ms", f"write floor {fl50:.2f} ms",
            "<= floor + 1 ms", rtt50 <= fl50 + 1.0),
        row("setModel round trip p99", f"{rtt99:.2f} ms", f"write floor {fl99:.2f} ms",
            "< 10 ms", rtt99 < 10),
        row("server overhead p50 (rtt - floor)", f"{rtt50 - fl50:.2f} ms", "", "<= 1 ms",
            rtt50 - fl50 <= 1.0),
        row("propagation p50 (external write -> modelChanged)", f"{p50:.1f} ms", "", "< 30 ms", p50 < 30),
        row("propagation p99", f"{p99:.1f} ms", "", "< 150 ms", p99 < 150),
        row("cold start (spawn -> initialize result)", f"{ours:.0f} ms",
            f"bare pygls {bare:.0f} ms ({ours / bare:.2f}x)", "<= 1.15x", ours / bare <= 1.15),
        row("spawn -> first tuna/modelChanged", f"{first:.0f} ms",
            f"bare pygls initialize {bare:.0f} ms ({first / bare:.2f}x)", "catalog not on this path",
            first / bare <= 1.25),
        row("idle RSS (catalog loaded)", f"{rss:.1f} MiB", f"bare pygls {bare_rss:.1f} MiB", "< 60 MiB",
            rss < 60),
        row("listModels, 2-token query, whole catalog, p50 (wire)", f"{l50:.2f} ms", "", "< 5 ms", l50 < 5),
        row("catalog search alone, p50 (in-process)", f"{s50:.2f} ms", "", "", True),
        row("diagnostics of a 20 KB config after a change, p50", f"{d50:.1f} ms", "", "< 50 ms", d50 < 50),
        row("diagnostics of a 20 KB config, p99", f"{d99:.1f} ms", "", "", True),
    ]  # fmt: skip
    lines.append(
        f"\nserver-side save latency (tuna/stats, ms): {json.dumps(res['stats']['saveLatencyMs'])}"
    )
    print("\n".join(lines))
    if readme is not None:
        write_readme(readme, "\n".join(lines))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    parser.add_argument("--readme", type=Path, help=f"put the table between {BEGIN} and {END}")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.quick, args.readme)))
