"""What the reliability suites share: a recording stdio client for real `tuna-lsp` processes,
secret markers and the scan for them, the config invariants, and the figures each suite publishes.

Why a raw client here, when the other suites use pytest-lsp: these suites SIGKILL servers in the
middle of a write, send params no typed client would build, and must keep every byte the server
wrote (both directions of the protocol, stderr, the debug log) to scan it for secrets. The client
is asyncio only: no threads, and every wait is on a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.home import Home
from harness.paths import ROOT, SERVER_CMD

FULL = os.environ.get("TUNA_RELIABILITY", "").strip().lower() == "full"
MODE = "full" if FULL else "short"
RESULTS = Path(
    os.environ.get("TUNA_RELIABILITY_RESULTS", str(ROOT / ".cache" / "reliability-results.jsonl"))
)
HERE = Path(__file__).resolve().parent
TUNACODE_PY = (
    Path(os.environ.get("TUNACODE_VENV", str(ROOT / ".cache" / "tunacode-venv"))) / "bin" / "python"
)


def scale(short: Any, full: Any) -> Any:
    return full if FULL else short


# ---- secrets ---------------------------------------------------------------------------------

MARKER = "TUNASECRET"
RUN_TOKEN = secrets.token_hex(
    6
)  # 12 hex digits: a random collision in the scanned bytes is negligible


def marker(kind: str, name: str) -> str:
    return f"{MARKER}-{kind}-{name}-{RUN_TOKEN}"


# Every env key tunacode 0.2.3 knows (so its load/save adds none) plus one of the user's own.
CONFIG_ENV = {
    name: marker("cfg", name)
    for name in (
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "MINIMAX_API_KEY",
        "MINIMAX_CN_API_KEY",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENROUTER_API_KEY",
        "CUSTOM_GATEWAY_TOKEN",
    )
}
PROCESS_ENV = {
    name: marker("proc", name)
    for name in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "OPENROUTER_API_KEY",
        "GEMINI_API_KEY",
        "MISTRAL_API_KEY",
        "GROQ_API_KEY",
        "DEEPSEEK_API_KEY",
        "XAI_API_KEY",
        "TUNA_UNRELATED_SECRET",
    )
}
ALL_MARKERS = (*CONFIG_ENV.values(), *PROCESS_ENV.values())
NEEDLES = (MARKER.encode(), RUN_TOKEN.encode())

# tunacode's own settings, with non-default values, so its merge of defaults changes nothing.
SETTINGS: dict[str, Any] = {
    "max_retries": 7,
    "max_iterations": 41,
    "request_delay": 0.25,
    "global_request_timeout": 321.5,
    "tool_strict_validation": True,
    "theme": "nord ☃",
    "stream_agent_text": True,
    "max_command_output": 4321,
    "max_tokens": None,
    "ripgrep": {"timeout": 12, "max_results": 99, "enable_metrics": True},
}
# Keys tunacode 0.2.3 does not know (its save drops them); the server must keep them.
EXTRA_KEYS: dict[str, Any] = {
    "hooks": {"pre_tool": ["echo 'keep me' ☃"], "post_tool": []},
    "mcpServers": {"fs": {"command": "npx", "args": ["-y", "server-fs", "/tmp"]}},
    "note": '🐟 unicode, "quotes" and \\ backslashes survive',
}


def cli_config(model: str = "openai:gpt-4.1") -> dict[str, Any]:
    """A config tunacode's own load/save round-trips unchanged: its four keys, complete."""
    return {
        "default_model": model,
        "recent_models": [model],
        "env": dict(CONFIG_ENV),
        "settings": json.loads(json.dumps(SETTINGS)),
    }


def rich_config(model: str = "openai:gpt-4.1") -> dict[str, Any]:
    return {**cli_config(model), **json.loads(json.dumps(EXTRA_KEYS))}


def check_config(raw: bytes, expected: dict[str, Any], models: set[str]) -> list[str]:
    """What is wrong with this read of the config, against the one the test wrote: every key but
    the server's two keeps its value and place; default_model is one of `models`."""
    try:
        data = json.loads(raw)
    except ValueError:
        return ["torn: not JSON" if raw.strip() else "torn: empty file"]
    if not isinstance(data, dict):
        return [f"not an object: {type(data).__name__}"]
    problems = []
    for key, value in expected.items():
        if key in ("default_model", "recent_models"):
            continue
        if data.get(key) != value:
            problems.append(f"lost: {key}")
    if [k for k in data if k in expected] != list(expected):
        problems.append("key order changed")
    dm = data.get("default_model")
    if dm not in models:
        problems.append(f"default_model {dm!r:.60} is none of the models set")
    rm = data.get("recent_models")
    if not (
        isinstance(rm, list)
        and 0 < len(rm) <= 8
        and len(set(rm)) == len(rm)
        and rm[0] == dm
        and all(isinstance(m, str) and m in models for m in rm)
    ):
        problems.append(f"recent_models broken: {rm!r:.100}")
    return problems


# ---- JSON-RPC over stdio, recorded --------------------------------------------------------------


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        self.code = error.get("code")
        self.message = str(error.get("message", ""))
        self.data = error.get("data")
        super().__init__(f"{self.code}: {self.message[:300]}")


class ServerGone(ConnectionError):
    """The server closed its stdout or its stdin (exited or was killed) before answering."""


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawServer:
    """One real server process over stdio. Keeps every byte both ways for the secret scan."""

    def __init__(
        self,
        home: Home,
        artifacts: Path,
        name: str,
        *,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
        log_level: str = "DEBUG",
    ) -> None:
        self.home = home
        self.name = name
        self.env = env if env is not None else home.env(**PROCESS_ENV)
        artifacts.mkdir(parents=True, exist_ok=True)
        self.files = {k: artifacts / f"{name}.{k}" for k in ("sent", "received", "stderr", "log")}
        self.command = [
            *(command or SERVER_CMD),
            "--log-level",
            log_level,
            "--log-file",
            str(self.files["log"]),
        ]
        self.proc: asyncio.subprocess.Process | None = None
        self.sent = bytearray()
        self.received = bytearray()
        self.changes: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []
        self.log_messages: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.asked: list[dict[str, Any]] = []  # the server's own requests, in order
        self.answers_requests = True  # False: a client that never answers the server's requests
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        # ids a hand-made message used: the server answers those too, so ours must never equal one
        self.foreign_ids: set[int] = set()
        self._next_id = 0
        self._tick = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self.eof = False
        self.init_result: Any = None
        self.killed = False
        self.sent_has_secrets = False  # set when the test itself sends them (an open config's text)
        self._saved = False

    # ---- life cycle ------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def spawn(self) -> None:
        with open(self.files["stderr"], "wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                env=self.env,
                cwd=str(self.home.root),
                start_new_session=True,  # a SIGINT to the test run is not delivered to it twice
            )
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def start(
        self,
        *,
        init_options: Any = None,
        client_name: str = "reliability",
        wait_initial: bool = True,
        timeout: float = 30.0,
        init_params: dict[str, Any] | None = None,
    ) -> RawServer:
        """Spawn and initialize. `init_params` replaces the initialize params wholesale."""
        await self.spawn()
        params = init_params or {
            "processId": os.getpid(),
            "clientInfo": {"name": client_name, "version": "1"},
            "capabilities": {},
            "initializationOptions": init_options,
        }
        self.init_result = await self.request("initialize", params, timeout=timeout)
        await self.notify("initialized", {})
        if wait_initial:
            await self.wait_for(lambda: self.changes, timeout, "the initial tuna/modelChanged")
        return self

    async def kill(self, pid: int | None = None) -> None:
        """SIGKILL, by pid (the one the server reported in tuna/stats, when given), and reap."""
        assert self.proc is not None
        assert pid in (None, self.proc.pid), f"{self.name} reports pid {pid}, spawned {self.pid}"
        self.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid or self.proc.pid, signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), 10)
        await self._drain_reader()

    async def stop(self, timeout: float = 5.0) -> None:
        if self.proc is None:
            return
        if self.alive and not self.eof:
            with contextlib.suppress(Exception):
                await self.request("shutdown", None, timeout=timeout)
            with contextlib.suppress(Exception):
                await self.notify("exit")
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            await asyncio.wait_for(self.proc.wait(), 10)
        await self._drain_reader()

    async def _drain_reader(self) -> None:
        if self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 10)
        self.save()

    def save(self) -> None:
        if not self._saved:
            self.files["sent"].write_bytes(bytes(self.sent))
            self.files["received"].write_bytes(bytes(self.received))
            self._saved = True

    # ---- wire ------------------------------------------------------------------------------

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        out = self.proc.stdout
        try:
            while True:
                header = await out.readuntil(b"\r\n\r\n")
                self.received += header
                match = re.search(rb"Content-Length: *(\d+)", header, re.IGNORECASE)
                if not match:
                    raise ValueError(f"no Content-Length in {header!r:.200}")
                body = await out.readexactly(int(match.group(1)))
                self.received += body
                self._dispatch(json.loads(body))
                self._tick.set()
        except asyncio.IncompleteReadError as exc:
            self.received += exc.partial
        except (ConnectionError, ValueError, asyncio.LimitOverrunError) as exc:
            self.errors.append({"code": "client", "message": f"unreadable output: {exc}"})
        finally:
            self.eof = True
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(ServerGone(f"{self.name} closed its output"))
            self._tick.set()

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "id" in msg and ("result" in msg or "error" in msg) and "method" not in msg:
            if "error" in msg:
                self.errors.append(msg["error"])
            fut = self.pending.pop(msg["id"], None) if isinstance(msg["id"], int) else None
            if fut is not None and not fut.done():
                fut.set_result(msg)
            return
        method = msg.get("method")
        if "id" in msg:  # a request from the server: answer it so it never waits on us
            self.asked.append(msg)
            if not self.answers_requests:
                return
            asyncio.get_running_loop().create_task(
                self._write({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            )
            return
        params = msg.get("params")
        if method == "tuna/modelChanged":
            self.changes.append(params)
        elif method == "window/showMessage":
            self.shown.append(params)
        elif method == "window/logMessage":
            self.log_messages.append(params)

    async def _write(self, msg: dict[str, Any]) -> None:
        await self.send_body(json.dumps(msg).encode())

    async def send_foreign(self, msg: dict[str, Any]) -> None:
        """Send a message not made by this client. Its id, if any, is set aside: the server's
        answer to it must never be taken for the answer to one of our requests."""
        if isinstance(msg.get("id"), int):
            self.foreign_ids.add(int(msg["id"]))
        await self.send_body(json.dumps(msg).encode())

    async def send_body(self, body: bytes) -> None:
        """Send one framed message body, whatever its bytes."""
        assert self.proc is not None and self.proc.stdin is not None
        data = frame(body)
        self.sent += data
        try:
            self.proc.stdin.write(data)
            await self.proc.stdin.drain()
        except (ConnectionResetError, BrokenPipeError) as exc:
            # killed between the reader's last look and this write: gone, as a closed stdout says
            raise ServerGone(f"{self.name} closed its input") from exc

    def new_id(self) -> tuple[int, asyncio.Future[dict[str, Any]]]:
        self._next_id += 1
        while self._next_id in self.foreign_ids:
            self._next_id += 1
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[self._next_id] = fut
        return self._next_id, fut

    async def call(
        self, method: str, params: Any = None, *, timeout: float = 30.0
    ) -> dict[str, Any]:
        """The whole response message: {"result": ...} or {"error": {...}}."""
        if self.eof:
            raise ServerGone(f"{self.name} is gone")
        msg_id, fut = self.new_id()
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            msg["params"] = params
        await self._write(msg)
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self.pending.pop(msg_id, None)

    async def request(self, method: str, params: Any = None, *, timeout: float = 30.0) -> Any:
        response = await self.call(method, params, timeout=timeout)
        if "error" in response:
            raise RpcError(response["error"])
        return response.get("result")

    async def notify(self, method: str, params: Any = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        await self._write(msg)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        """Wake on every message from the server; give up after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            self._tick.clear()
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.name}: timed out after {timeout} s waiting for {what}")
            if self.eof:
                raise ServerGone(f"{self.name} exited while waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tick.wait(), min(remaining, 0.25))

    def requests_received(self, method: str) -> list[dict[str, Any]]:
        return [m for m in self.asked if m.get("method") == method]

    # ---- what it emitted -------------------------------------------------------------------

    def emitted_files(self) -> list[Path]:
        self.save()
        skip = {self.files["sent"]} if self.sent_has_secrets else set()
        return [p for p in self.files.values() if p.exists() and p not in skip]

    def log_text(self) -> str:
        path = self.files["log"]
        return path.read_text(errors="replace") if path.exists() else ""


# ---- the secret scan --------------------------------------------------------------------------


@dataclass
class ScanResult:
    files: int = 0
    bytes: int = 0
    hits: list[str] = field(default_factory=list)

    def add(self, other: ScanResult) -> None:
        self.files += other.files
        self.bytes += other.bytes
        self.hits += other.hits


def scan_bytes(data: bytes, where: str) -> list[str]:
    hits = []
    for needle in NEEDLES:
        start = 0
        while (i := data.find(needle, start)) >= 0:
            hits.append(f"{where}: …{data[max(0, i - 40) : i + 60]!r}…")
            start = i + 1
    return hits


def scan_files(paths: Iterable[Path]) -> ScanResult:
    result = ScanResult()
    for path in paths:
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            continue
        result.files += 1
        result.bytes += len(data)
        result.hits += scan_bytes(data, str(path))
    return result


def config_holders(home: Home, extra: Iterable[Path] = ()) -> set[Path]:
    """The files that hold the env values by design: the config (through a link, its target)
    and the temp copies of it a killed writer left before its rename."""
    holders = {home.config, Path(os.path.realpath(home.config)), *extra}
    for path in list(holders):
        if path.parent.is_dir():
            holders |= set(path.parent.glob(f".{path.name}.*.tmp"))
    return holders


def home_files(home: Home, holders: set[Path]) -> list[Path]:
    """Everything under the home that is not the config itself: history, preferences, cache,
    state, the lock file, anything else a server may have written."""
    out = []
    for dirpath, _dirs, names in os.walk(home.root):
        for n in names:
            p = Path(dirpath) / n
            if p not in holders and not p.is_symlink():
                out.append(p)
    return out


# ---- helper processes ---------------------------------------------------------------------------


def python_helper(
    script: str, *args: str, python: str | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start one of this folder's helper scripts as its own process (it stops by itself)."""
    return subprocess.Popen(
        [python or sys.executable, str(HERE / script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


async def finish_helper(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    """Wait for a helper to end by itself (bounded), and take its JSON report."""
    try:
        out, err = await asyncio.wait_for(asyncio.to_thread(proc.communicate), timeout)
    except TimeoutError:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"helper {proc.args} did not finish within {timeout} s") from None
    if proc.returncode != 0:
        raise AssertionError(f"helper {proc.args} failed ({proc.returncode}): {err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


# ---- figures ----------------------------------------------------------------------------------


@dataclass
class SuiteFigures:
    counts: dict[str, float] = field(default_factory=dict)
    maxima: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    passed: int = 0
    failed: int = 0

    def add(self, **counts: float) -> None:
        for k, v in counts.items():
            self.counts[k] = self.counts.get(k, 0) + v

    def max(self, **values: float) -> None:
        for k, v in values.items():
            self.maxima[k] = max(self.maxima.get(k, v), v)

    def get(self, key: str, default: float = 0) -> float:
        return self.counts.get(key, self.maxima.get(key, default))


FIGURES: dict[str, SuiteFigures] = {}
SUMMARIES: dict[str, Callable[[SuiteFigures], str]] = {}  # suite -> its one summary line


def figures(suite: str) -> SuiteFigures:
    return FIGURES.setdefault(suite, SuiteFigures())


def n(value: float) -> str:
    return f"{int(value):,}".replace(",", " ") if float(value).is_integer() else f"{value:.3g}"


def secrets_summary(f: SuiteFigures) -> str:
    return (
        f"secrets: {n(f.get('hits'))} found in {f.get('scanBytes') / 2**20:.1f} MiB of "
        f"{n(f.get('scanFiles'))} files emitted by {n(f.get('scanServers'))} server processes "
        f"across the suites run ({len(ALL_MARKERS)} markers: every env entry and the process "
        "environment; protocol both ways, stderr, DEBUG logs, history, preferences, cache, locks)"
    )


SUMMARIES["secrets"] = secrets_summary
