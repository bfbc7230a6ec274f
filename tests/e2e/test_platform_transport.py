"""The transports where the platform limits them (transport.py, storage/platform.py), on the real
server process, each limit forced by a sitecustomize.py on its PYTHONPATH: stdin read by a thread
into the same bounded reader (Windows' Proactor loop cannot read the pipe; an event loop without
pipes at all), and --socket refused with a message where no Unix socket can be made."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from harness.home import Home
from harness.paths import SERVER_CMD

# Windows: the loop is a Proactor one, which cannot read stdin (the seam says so, as there).
NO_PIPES_ON_LOOP = """
import tuna_lsp.storage.platform as p
p.PIPES_ON_LOOP = False
"""
# An event loop that cannot take a read pipe at all (asyncio's base loop raises this).
READ_PIPE_REFUSED = """
import asyncio.unix_events as u

async def connect_read_pipe(self, protocol_factory, pipe):
    raise NotImplementedError("no read pipes here (forced by the test)")

u._UnixSelectorEventLoop.connect_read_pipe = connect_read_pipe
"""
NO_AF_UNIX = """
import socket
del socket.AF_UNIX
"""


def forced_env(home: Home, tmp_path: Path, code: str) -> dict[str, str]:
    forced = tmp_path / "forced"
    forced.mkdir(exist_ok=True)
    (forced / "sitecustomize.py").write_text(code)
    env = home.env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(forced), env.get("PYTHONPATH")]))
    return env


def frame(msg: dict[str, Any]) -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def responses(out: bytes) -> list[dict[str, Any]]:
    found = []
    while out:
        head, _, rest = out.partition(b"\r\n\r\n")
        length = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
        found.append(json.loads(rest[:length]))
        out = rest[length:]
    return found


@pytest.mark.parametrize("forced", [NO_PIPES_ON_LOOP, READ_PIPE_REFUSED], ids=["proactor", "none"])
def test_stdin_read_by_a_thread_serves_requests(home: Home, tmp_path: Path, forced: str) -> None:
    home.write_config({"default_model": "openai:gpt-4.1"})
    init = {"processId": None, "rootUri": None, "capabilities": {}}
    log = tmp_path / "server.log"
    big = b"X-Padding: " + b"x" * 20000 + b"\r\n"  # a header line past the reader's bound
    body = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "tuna/getModel"}).encode()
    proc = subprocess.run(
        [*SERVER_CMD, "--log-file", str(log)],
        input=frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
        + frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        + frame({"jsonrpc": "2.0", "id": 2, "method": "tuna/getModel"})
        + big
        + b"Content-Length: 2\r\n\r\n{}"  # dropped with its header
        + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        + frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
        + frame({"jsonrpc": "2.0", "method": "exit"}),
        capture_output=True,
        env=forced_env(home, tmp_path, forced),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "reading stdin on a thread" in log.read_text()
    got = {m.get("id"): m for m in responses(proc.stdout) if "method" not in m}
    assert got[1]["result"]["serverInfo"]["name"] == "tuna-lsp"
    assert got[2]["result"]["model"] == "openai:gpt-4.1"
    # the bounded reader's answer to a header line past its bound, and the frame after it served
    assert "header line is longer" in got[None]["error"]["message"]
    assert got[9]["result"]["model"] == "openai:gpt-4.1"
    assert got[3]["result"] is None


def test_socket_refused_without_unix_sockets(home: Home, tmp_path: Path) -> None:
    proc = subprocess.run(
        [*SERVER_CMD, "--socket", str(tmp_path / "s")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=forced_env(home, tmp_path, NO_AF_UNIX),
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Unix sockets are not supported on this system" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "s").exists()


def test_an_over_long_socket_path_is_refused(home: Home, tmp_path: Path) -> None:
    folder = tmp_path / ("d" * 60) / ("e" * 60)
    folder.mkdir(parents=True, mode=0o700)
    path = folder / "tuna.sock"
    assert len(os.fsencode(path)) > 108
    proc = subprocess.run(
        [*SERVER_CMD, "--socket", str(path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=home.env(),
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert "more than the 108 a Unix socket's path can have" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not path.exists()
