"""Speed and memory of tuna-lsp, each measured against a baseline run in the same process tree.

    make bench     (or: .venv/bin/python benchmarks/bench_core.py [--quick])

- setModel round trip (request sent -> response received, durable write included), alternating
  models, against the floor: one temp write + fsync + rename + dir fsync of the same file,
  measured interleaved with the sets; and, in blocks between tuna-lsp's, the same sets made of
  a minimal Python server (benchmarks/minimal_server.py: the work no server can skip, no
  library), what this machine allows any Python server.
- propagation: an external write of the config -> tuna/modelChanged at the client; again with
  the watch on watchfiles (the path of macOS and Windows, and of Linux when inotify cannot be
  had: forced here by a sitecustomize.py that makes inotify_init1 fail with EMFILE).
- cold start: spawn -> initialize response, and spawn -> first tuna/modelChanged, against a bare
  pygls server that registers one request (benchmarks/bare_server.py), started in pairs (one of
  each, side by side); the ratio is the median of the pairs' ratios. Twice: with the capabilities
  VS Code sends (pytest-lsp's copy), as an editor starts a server, and with none (`{}`).
- idle RSS after the catalog has loaded, against the bare server's; 16 servers started at once on
  one config against 16 bare servers.
- tuna/listModels, a two-token query, over the real catalog and over a synthetic 50 000-model
  snapshot in the cache dir, and the RSS of that server; the minimal server sends tuna-lsp's
  answers to the same queries as they are (the wire's share of the listing).
- `--runs N` repeats everything and shows each figure's spread; a target is met only if every run
  meets it. Instructions per set (CPU-independent): benchmarks/instructions_per_set.py.
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
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import Any

from minimal_server import read_frame

HERE = Path(__file__).resolve().parent
SERVER = os.environ.get("TUNA_BENCH_SERVER", "").split() or [
    str(Path(sys.executable).parent / "tuna-lsp"),
    "--log-level",
    "WARNING",
]
BARE = [sys.executable, str(HERE / "bare_server.py")]
MINIMAL = [sys.executable, str(HERE / "minimal_server.py")]
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

    async def start(
        self, cmd: list[str], env: dict[str, str], capabilities: dict[str, Any] | None = None
    ) -> tuple[float, float]:
        t0 = time.perf_counter()
        with open(os.environ.get("BENCH_STDERR", os.devnull), "ab") as stderr:
            self.proc = await asyncio.create_subprocess_exec(
                *cmd, stdin=PIPE, stdout=PIPE, stderr=stderr, env=env, limit=1 << 24
            )
        self._reader = asyncio.get_running_loop().create_task(self._read())
        await self.request(
            "initialize",
            {"processId": os.getpid(), "capabilities": capabilities or {}, "rootUri": None},
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
        while (body := await read_frame(self.proc.stdout)) is not None:
            msg = json.loads(body)
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


MODELS = ["openai:gpt-4.1", "openai:gpt-4o"]
BLOCK = 50  # tuna-lsp's sets and the minimal server's alternate in blocks of this many


async def timed_sets(
    client: Client, cfg: Path, n: int, rtt: list[float], floor: list[float]
) -> None:
    """n sets, alternating models, each followed by the floor: the same write, in this process."""
    for i in range(n):
        t0 = time.perf_counter()
        await client.request("tuna/setModel", {"model": MODELS[i % 2]})
        rtt.append((time.perf_counter() - t0) * 1000)
        floor.append(floor_write(cfg.parent / "floor.json", cfg.read_bytes()))


async def timed_requests(client: Client, n: int, method: str, params: list[Any]) -> list[float]:
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        await client.request(method, params[i % len(params)])
        times.append((time.perf_counter() - t0) * 1000)
    return times


async def bench_sets_and_propagation(home: Path, n_sets: int, n_prop: int) -> dict[str, Any]:
    cfg = home / ".config" / "tunacode.json"
    minimal_home = home.with_name(home.name + "-minimal")
    for path in (cfg, minimal_home / ".config" / "tunacode.json"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(CONFIG, indent=4))
    client = Client()
    await client.start(SERVER, isolated_env(home))
    await asyncio.wait_for(client.first_change, 10)
    await client.request("tuna/listModels", {"limit": 1})  # the catalog has loaded
    minimal = Client()
    await minimal.start(MINIMAL, isolated_env(minimal_home))
    await asyncio.wait_for(minimal.first_change, 10)
    # The first set of a server imports what writing needs (filelock, tempfile): once per
    # process, ~20 ms, kept off start-up. Left out, and so is the end of start-up (0.2 s after the
    # catalog loads, one full collection and a heap trim, ~20 ms): p99 is the steady state.
    for model in MODELS:  # and the first set of a model writes its provider preference
        await client.request("tuna/setModel", {"model": model})
        await minimal.request("tuna/setModel", {"model": model})
    await asyncio.sleep(0.5)
    rtt: list[float] = []
    floor: list[float] = []
    minimal_rtt: list[float] = []
    minimal_floor: list[float] = []
    deadline = time.monotonic() + 120
    for at in range(0, n_sets, BLOCK):
        if time.monotonic() > deadline:
            break
        n = min(BLOCK, n_sets - at)
        await timed_sets(client, cfg, n, rtt, floor)
        await timed_sets(
            minimal, minimal_home / ".config" / "tunacode.json", n, minimal_rtt, minimal_floor
        )
    stats = await client.request("tuna/stats", {})
    # the wire's share: a request that does no work, over the same pipes and loop
    ping = await timed_requests(client, n_sets, "tuna/stats", [{}])
    minimal_ping = await timed_requests(minimal, n_sets, "tuna/stats", [{}])
    await minimal.stop()

    prop = await timed_propagation(client, cfg, n_prop, MODELS[(len(rtt) - 1) % 2], deadline + 60)

    diag = await bench_diagnostics(client, cfg.parent / "big" / "tunacode.json")
    huge_get, huge_diag = await bench_one_line(client, cfg.parent / "huge" / "tunacode.json")

    q = await timed_requests(client, 200, "tuna/listModels", [{"query": x} for x in QUERIES])
    await client.stop()
    return {
        "rtt": rtt,
        "floor": floor,
        "ping": ping,
        "minimal_rtt": minimal_rtt,
        "minimal_floor": minimal_floor,
        "minimal_ping": minimal_ping,
        "prop": prop,
        "list": q,
        "stats": stats,
        "diag": diag,
        "huge_get": huge_get,
        "huge_diag": huge_diag,
    }


async def timed_propagation(
    client: Client, cfg: Path, n: int, previous: str, deadline: float
) -> list[float]:
    """External writes of the config, each timed to its tuna/modelChanged at the client (ms)."""
    prop: list[float] = []
    for i in range(n):
        if time.monotonic() > deadline:
            break
        model = f"openai:bench-{i}"
        before = len(client.changes)
        t0 = time.perf_counter()
        # as the CLI's /model writes: the new model first in the recents, the previous kept
        data = {**CONFIG, "default_model": model, "recent_models": [model, previous]}
        previous = model
        floor_write(cfg, json.dumps(data, indent=4).encode())
        end = time.monotonic() + 5
        while time.monotonic() < end:
            hit = next((t for t, c in client.changes[before:] if c["model"] == model), None)
            if hit is not None:
                prop.append((hit - t0) * 1000)
                break
            await asyncio.sleep(0.0005)
        await asyncio.sleep(0.02)  # let the watcher settle before the next write
    return prop


# Loaded by the server from its PYTHONPATH: inotify_init1 fails with EMFILE (the per-user limit
# of instances reached), so the watch falls back to watchfiles.
INOTIFY_EMFILE = """
import ctypes, errno

class _CDLL(ctypes.CDLL):
    def __getattr__(self, name):
        if name == "inotify_init1":
            def inotify_init1(flags):
                ctypes.set_errno(errno.EMFILE)
                return -1
            return inotify_init1
        return super().__getattr__(name)

ctypes.CDLL = _CDLL
"""


async def bench_propagation_watchfiles(home: Path, n: int) -> list[float]:
    cfg = home / ".config" / "tunacode.json"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(json.dumps(CONFIG, indent=4))
    forced = home / "forced"
    forced.mkdir()
    (forced / "sitecustomize.py").write_text(INOTIFY_EMFILE)
    env = isolated_env(home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(forced), env.get("PYTHONPATH")]))
    client = Client()
    await client.start(SERVER, env)
    await asyncio.wait_for(client.first_change, 10)
    deadline = time.monotonic() + 60
    # the watch is in place once a write is followed (watchfiles starts after inotify failed)
    warm = await timed_propagation(client, cfg, 1, CONFIG["default_model"], deadline)
    if not warm:
        await client.stop()
        raise RuntimeError("the watch on watchfiles never followed a write")
    prop = await timed_propagation(client, cfg, n, "openai:bench-0", deadline)
    await client.stop()
    return prop


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


def one_line_config(size: int = 4 << 20) -> str:
    """A one-line tunacode.json of `size` characters, a finding every 16 or so: recents of
    unknown providers, then keys tunacode does not know, 2- and 4-byte characters between them."""
    parts = ['"recent_models": [' + ", ".join(f'"nope{i}:m"' for i in range(5000)) + "]"]
    length, i = sum(len(p) + 2 for p in parts), 0
    while length < size:
        parts.append(f'"ké{i}": "🐟"')
        length += len(parts[-1]) + 2
        i += 1
    return "{" + ", ".join(parts) + "}"


async def bench_one_line(client: Client, path: Path) -> tuple[list[float], float]:
    """didOpen of a 4 MiB one-line config with 300 000 findings, then tuna/getModel every 20 ms
    until its diagnostics come: the getModel round trips (ms), and didOpen -> diagnostics (s)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = one_line_config()
    uri = path.as_uri()
    before = len(client.diagnostics)
    t0 = time.perf_counter()
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "json", "version": 1, "text": text}},
    )
    times: list[float] = []
    end = time.monotonic() + 60
    while time.monotonic() < end and (len(client.diagnostics) == before or len(times) < 3):
        t = time.perf_counter()
        await client.request("tuna/getModel", {})
        times.append((time.perf_counter() - t) * 1000)
        await asyncio.sleep(0.02)
    while time.monotonic() < end and len(client.diagnostics) == before:
        await asyncio.sleep(0.005)
    done = client.diagnostics[before][0] - t0 if len(client.diagnostics) > before else float("inf")
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return times, done


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def vscode_capabilities() -> dict[str, Any]:
    """What VS Code sends at initialize: pytest-lsp's copy of VS Code 1.65's capabilities."""
    import pytest_lsp.clients

    found = Path(pytest_lsp.clients.__file__).parent / "visual_studio_code_v1.65.2.json"
    capabilities: dict[str, Any] = json.loads(found.read_text())["capabilities"]
    return capabilities


async def one_start(
    cmd: list[str], home: Path, ours: bool, capabilities: dict[str, Any] | None = None
) -> tuple[float, float | None, int]:
    """Spawn -> initialize result, spawn -> first status (ours), and the idle RSS once the
    catalog has loaded (only when started without capabilities: the RSS rows' runs)."""
    client = Client()
    t0, t_init = await client.start(cmd, isolated_env(home), capabilities)
    t_first = None
    if ours:
        t_first = await asyncio.wait_for(client.first_change, 10) - t0
    rss = 0
    if capabilities is None:
        if ours:
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
        "vscode_first": [],
        "vscode_bare": [],
    }
    vscode = vscode_capabilities()
    (home / ".config").mkdir(parents=True, exist_ok=True)
    (home / ".config" / "tunacode.json").write_text(json.dumps(CONFIG, indent=4))

    async def ours() -> None:
        t, first, rss = await one_start(SERVER, home, True)
        out["ours"].append(t * 1000)
        out["ours_first"].append((first or 0) * 1000)
        out["ours_rss"].append(rss / 1024)

    async def bare() -> None:
        t, _, rss = await one_start(BARE, home, False)
        out["bare"].append(t * 1000)
        out["bare_rss"].append(rss / 1024)

    async def ours_vscode() -> None:
        _, first, _ = await one_start(SERVER, home, True, vscode)
        out["vscode_first"].append((first or 0) * 1000)

    async def bare_vscode() -> None:
        t, _, _ = await one_start(BARE, home, False, vscode)
        out["vscode_bare"].append(t * 1000)

    # In pairs, side by side, so a burst of the machine's load hits both starts of a pair alike;
    # which one goes first alternates, so a trend over the run favours neither.
    for pair in ((ours, bare), (ours_vscode, bare_vscode)):
        for i in range(runs):
            for start in pair if i % 2 == 0 else pair[::-1]:
                await start()
    return out


def paired_ratio(ours: list[float], bare: list[float]) -> float:
    """The median of the pairs' ratios: less moved by the machine's load than a ratio of medians
    (the load of one moment is in both starts of a pair)."""
    return statistics.median(o / b for o, b in zip(ours, bare, strict=True))


SYNTH_FAMILIES = [
    ("claude-sonnet-4", "Claude Sonnet 4"),
    ("claude-opus-4", "Claude Opus 4"),
    ("claude-haiku-3.5", "Claude Haiku 3.5"),
    ("gpt-4.1", "GPT-4.1"),
    ("gpt-4o-mini", "GPT-4o mini"),
    ("o3-pro", "o3 pro"),
    ("gemini-2.5-pro", "Gemini 2.5 Pro"),
    ("gemini-2.5-flash", "Gemini 2.5 Flash"),
    ("llama-3.1-70b", "Llama 3.1 70B"),
    ("mistral-large", "Mistral Large"),
    ("qwen3-coder", "Qwen3 Coder"),
    ("deepseek-r1", "DeepSeek R1"),
]


def synthetic_snapshot(n_models: int = 50_000, n_providers: int = 100) -> bytes:
    """A models.dev-shaped document of `n_models` models over `n_providers` providers, names and
    ids spread over twelve real-looking families (a 2-token query matches about 1 in 12)."""
    per = n_models // n_providers
    doc: dict[str, Any] = {}
    for p in range(n_providers):
        pid = f"synth-{p:03d}"
        models = {}
        for j in range(per):
            fam, name = SYNTH_FAMILIES[(p + j) % len(SYNTH_FAMILIES)]
            vendor = fam.split("-")[0]
            mid = f"{vendor}/{fam}-v{j}" if p % 3 == 0 else f"{fam}-v{j}"
            models[mid] = {
                "id": mid,
                "name": f"{name} v{j}",
                "limit": {"context": 128_000 + j, "output": 8192},
                "cost": {"input": 1.0, "output": 4.0},
                "tool_call": True,
                "reasoning": j % 2 == 0,
            }
        doc[pid] = {
            "id": pid,
            "name": f"Synthetic {p}",
            "env": [f"SYNTH_{p}_API_KEY"],
            "models": models,
        }
    return json.dumps(doc).encode()


async def start_many(cmd: list[str], home: Path, n: int, ours: bool) -> float:
    """Start `n` servers on one home at once, wait until each is ready (ours: catalog loaded),
    let them idle, and return their total RSS in MiB."""
    clients = [Client() for _ in range(n)]
    await asyncio.gather(*(c.start(cmd, isolated_env(home)) for c in clients))

    async def ready(c: Client) -> None:
        if ours:
            await asyncio.wait_for(c.first_change, 60)
            await c.request("tuna/listModels", {"limit": 1})
        else:
            await c.request("bare/ping", {})

    await asyncio.gather(*(ready(c) for c in clients))
    await asyncio.sleep(1.0)
    total = sum(rss_kib(c.proc.pid) for c in clients if c.proc) / 1024
    await asyncio.gather(*(c.stop() for c in clients))
    return total


async def bench_many(home: Path, n: int = 16) -> tuple[float, float]:
    (home / ".config").mkdir(parents=True, exist_ok=True)
    (home / ".config" / "tunacode.json").write_text(json.dumps(CONFIG, indent=4))
    ours = await start_many(SERVER, home, n, True)
    bare = await start_many(BARE, home, n, False)
    return ours, bare


QUERIES = ["claude sonnet", "gpt 4.1"]


async def bench_big_catalog(
    home: Path, n_queries: int
) -> tuple[list[float], list[float], float, int]:
    """tuna/listModels over a 50 000-model snapshot: wire times of a 2-token query (tuna-lsp's,
    and the minimal server's sending tuna-lsp's answers as they are), then RSS."""
    (home / ".config").mkdir(parents=True, exist_ok=True)
    (home / ".config" / "tunacode.json").write_text(json.dumps(CONFIG, indent=4))
    cache = home / "xdg-cache" / "tunacode"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "models-dev-snapshot.json").write_bytes(synthetic_snapshot())
    client = Client()
    await client.start(SERVER, isolated_env(home))
    await asyncio.wait_for(client.first_change, 60)
    first = await client.request("tuna/listModels", {"limit": 1})
    assert first["catalog"]["models"] >= 50_000, "the synthetic snapshot was not loaded"
    answers = {q: await client.request("tuna/listModels", {"query": q}) for q in QUERIES}
    (home / "answers.json").write_text(json.dumps(answers))
    minimal = Client()
    await minimal.start(
        MINIMAL, {**isolated_env(home), "TUNA_MINIMAL_ANSWERS": str(home / "answers.json")}
    )
    await asyncio.wait_for(minimal.first_change, 10)
    params = [{"query": q} for q in QUERIES]
    times: list[float] = []
    minimal_times: list[float] = []
    for at in range(0, n_queries, BLOCK):
        n = min(BLOCK, n_queries - at)
        times += await timed_requests(client, n, "tuna/listModels", params)
        minimal_times += await timed_requests(minimal, n, "tuna/listModels", params)
    await minimal.stop()
    await asyncio.sleep(0.5)
    rss = rss_kib(client.proc.pid) / 1024 if client.proc else 0.0
    await client.stop()
    return times, minimal_times, rss, max(a["total"] for a in answers.values())


BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def write_readme(readme: Path, text: str) -> None:
    """Replace the block between the markers with the table this run printed."""
    content = readme.read_text(encoding="utf-8")
    if BEGIN not in content or END not in content:
        raise SystemExit(f"{readme} has no {BEGIN} ... {END} block")
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


async def one_run(quick: bool) -> dict[str, float]:
    """Every figure of one run, each next to the baseline measured in this run."""
    n_sets, n_prop, starts, n_q = (100, 30, 8, 50) if quick else (600, 200, 15, 200)
    with tempfile.TemporaryDirectory(prefix="tuna-bench-") as d:
        res = await bench_sets_and_propagation(Path(d) / "a", n_sets, n_prop)
        prop_wf = await bench_propagation_watchfiles(Path(d) / "e", n_prop)
        start = await bench_start(Path(d) / "b", starts)
        many, many_bare = await bench_many(Path(d) / "c")
        big, big_minimal, big_rss, big_total = await bench_big_catalog(Path(d) / "d", n_q)
    bare_rss = statistics.median(start["bare_rss"])
    bare = statistics.median(start["bare"])
    return {
        "sets": len(res["rtt"]),
        "props": len(res["prop"]),
        "starts": starts,
        "rtt50": pct(res["rtt"], 0.5),
        "rtt99": pct(res["rtt"], 0.99),
        "floor50": pct(res["floor"], 0.5),
        "floor99": pct(res["floor"], 0.99),
        "over50": pct(res["rtt"], 0.5) - pct(res["floor"], 0.5),
        "ping50": pct(res["ping"], 0.5),
        "min_over50": pct(res["minimal_rtt"], 0.5) - pct(res["minimal_floor"], 0.5),
        "min_rtt99": pct(res["minimal_rtt"], 0.99),
        "min_ping50": pct(res["minimal_ping"], 0.5),
        "prop50": pct(res["prop"], 0.5),
        "prop99": pct(res["prop"], 0.99),
        "propw50": pct(prop_wf, 0.5),
        "propw99": pct(prop_wf, 0.99),
        "init": statistics.median(start["ours"]),
        "first": statistics.median(start["ours_first"]),
        "bare": bare,
        "first_x": paired_ratio(start["ours_first"], start["bare"]),
        "vscode_bare": statistics.median(start["vscode_bare"]),
        "vscode_x": paired_ratio(start["vscode_first"], start["vscode_bare"]),
        "rss": statistics.median(start["ours_rss"]),
        "bare_rss": bare_rss,
        "rss_over": statistics.median(start["ours_rss"]) - bare_rss,
        "many": many,
        "many_bare": many_bare,
        "many_x": many / many_bare,
        "list50": pct(res["list"], 0.5),
        "big50": pct(big, 0.5),
        "big99": pct(big, 0.99),
        "min_big50": pct(big_minimal, 0.5),
        "big_total": big_total,
        "big_rss": big_rss,
        "big_rss_over": big_rss - bare_rss,
        "diag50": pct(res["diag"], 0.5),
        "diag99": pct(res["diag"], 0.99),
        "huge50": pct(res["huge_get"], 0.5),
        "huge_max": max(res["huge_get"]),
        "huge_diag": res["huge_diag"],
        "save50": res["stats"]["saveLatencyMs"]["p50"] or 0.0,
    }


# (label, value key, format, baseline key(s) or None, baseline label, target text, test)
ROWS: list[tuple[str, str, str, str | tuple[str, ...] | None, str, str, Any]] = [
    ("setModel round trip p50", "rtt50", "{:.2f} ms", "floor50", "write floor {:.2f} ms",
     "", None),
    ("set overhead p50 (round trip - write floor)", "over50", "{:.2f} ms", "min_over50",
     "minimal Python server {:.2f} ms", "<= 0.5 ms", lambda v: v <= 0.5),
    ("  of which the wire: a request doing no work (tuna/stats), p50", "ping50", "{:.2f} ms",
     "min_ping50", "minimal Python server {:.2f} ms", "", None),
    ("setModel round trip p99", "rtt99", "{:.2f} ms", ("floor99", "min_rtt99"),
     "write floor {:.2f} ms; minimal Python server {:.2f} ms", "< 3 ms", lambda v: v < 3),
    ("external write -> tuna/modelChanged p50", "prop50", "{:.1f} ms", None, "",
     "<= 5 ms", lambda v: v <= 5),
    ("external write -> tuna/modelChanged p99", "prop99", "{:.1f} ms", None, "",
     "<= 20 ms", lambda v: v <= 20),
    ("the same on watchfiles (macOS, Windows; Linux without inotify), p50", "propw50",
     "{:.1f} ms", None, "", "", None),
    ("the same on watchfiles, p99", "propw99", "{:.1f} ms", None, "", "", None),
    ("cold start: spawn -> initialize result", "init", "{:.0f} ms", "bare",
     "bare pygls {:.0f} ms", "", None),
    ("cold start: spawn -> first tuna/modelChanged, x bare (pairs), VS Code's capabilities",
     "vscode_x", "{:.3f}x", "vscode_bare", "bare pygls initialize {:.0f} ms",
     "<= 1.05x (every run)", lambda v: v <= 1.05),
    ("cold start, the same, no capabilities (`{}`)", "first_x", "{:.3f}x", "bare",
     "bare pygls initialize {:.0f} ms", "<= 1.05x (every run)", lambda v: v <= 1.05),
    ("idle RSS, catalog available", "rss", "{:.1f} MiB", "bare_rss", "bare pygls {:.1f} MiB",
     "", None),
    ("idle RSS above bare", "rss_over", "{:+.1f} MiB", None, "", "<= +5 MiB",
     lambda v: v <= 5),
    ("16 servers on one config, total RSS", "many", "{:.0f} MiB", "many_bare",
     "16 bare pygls {:.0f} MiB", "", None),
    ("16 servers, x bare", "many_x", "{:.3f}x", None, "", "<= 1.15x", lambda v: v <= 1.15),
    ("listModels, 2-token query, real catalog, p50 (wire)", "list50", "{:.2f} ms", None, "",
     "", None),
    ("listModels, 2-token query, 50 000 models, p50 (wire)", "big50", "{:.2f} ms", "min_big50",
     "the same answers sent by the minimal server {:.2f} ms", "< 2 ms", lambda v: v < 2),
    ("listModels, 50 000 models, p99 (wire)", "big99", "{:.2f} ms", None, "", "", None),
    ("RSS with 50 000 models, above bare", "big_rss_over", "{:+.1f} MiB", None, "",
     "<= +5 MiB", lambda v: v <= 5),
    ("diagnostics of a 20 KB config after a change, p50", "diag50", "{:.1f} ms", None, "",
     "< 50 ms", lambda v: v < 50),
    ("diagnostics of a 20 KB config, p99", "diag99", "{:.1f} ms", None, "", "", None),
    ("getModel while a 4 MiB one-line config is analysed, p50", "huge50", "{:.1f} ms", None, "",
     "< 100 ms", lambda v: v < 100),
    ("  the same, slowest (behind the read of the 4 MiB didOpen or its json.loads)", "huge_max",
     "{:.0f} ms", None, "", "", None),
    ("4 MiB one-line config: didOpen -> diagnostics (200 and one 'and N more')", "huge_diag",
     "{:.2f} s", None, "", "< 10 s", lambda v: v < 10),
]  # fmt: skip


def table(runs: list[dict[str, float]]) -> str:
    """One row per figure: the median over the runs, the spread (min to max) when there are
    several, the same run's baseline, the target, and whether every run met it."""
    first = runs[0]
    lines = [
        f"tuna-lsp benchmark ({len(runs)} run{'s' * (len(runs) > 1)}; each: {first['sets']:.0f} "
        f"sets, {first['props']:.0f} external writes, {first['starts']:.0f} cold-start pairs of each kind; "
        f"{os.cpu_count()} cores)",
        "",
        "| measure | tuna-lsp | baseline (same run) | target | met |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, key, fmt, base_key, base_fmt, target, test in ROWS:
        values = [r[key] for r in runs]
        text = fmt.format(statistics.median(values))
        if len(runs) > 1:
            text += f" ({fmt.format(min(values))} to {fmt.format(max(values))})".replace(
                " ms to", " to"
            ).replace(" MiB to", " to")
        keys = (base_key,) if isinstance(base_key, str) else base_key or ()
        base = base_fmt.format(*(statistics.median(r[k] for r in runs) for k in keys))
        met = "" if test is None else ("yes" if all(test(v) for v in values) else "NO")
        lines.append(f"| {label} | {text} | {base} | {target} | {met} |")
    return "\n".join(lines)


def compile_server() -> None:
    """The server's bytecode, as an installed wheel has it (pip compiles at install): with
    PYTHONDONTWRITEBYTECODE set, as on this machine, an editable install would otherwise compile
    every module at every start, and the cold start would measure the compiler."""
    import compileall

    import tuna_lsp

    compileall.compile_dir(Path(tuna_lsp.__file__).parent, quiet=1)


async def main(quick: bool, runs: int, readme: Path | None = None) -> int:
    compile_server()
    results = []
    for i in range(runs):
        results.append(await one_run(quick))
        print(f"run {i + 1}/{runs}: {json.dumps({k: round(v, 3) for k, v in results[-1].items()})}")
    text = table(results)
    print(text)
    if readme is not None:
        write_readme(readme, text)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    parser.add_argument("--runs", type=int, default=1, help="repeat; the table shows the spread")
    parser.add_argument("--readme", type=Path, help=f"put the table between {BEGIN} and {END}")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.quick, max(1, args.runs), args.readme)))
