"""The server starts fast: nothing is loaded before the first status that the first status does
not need. Checked on the real process, by the imports Python reports (PYTHONPROFILEIMPORTTIME),
stopped the moment its first tuna/modelChanged arrives."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from harness.home import Home
from harness.paths import SERVER_CMD


def _frame(msg: dict[str, Any]) -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def _read_until_status(out: Any, deadline: float) -> dict[str, Any]:
    """Messages from the server's stdout until the first tuna/modelChanged: its params."""
    buf = b""
    fd = out.fileno()
    while True:
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if sep:
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            if len(rest) >= length:
                msg = json.loads(rest[:length])
                buf = rest[length:]
                if msg.get("method") == "tuna/modelChanged":
                    return dict(msg["params"])
                continue
        left = deadline - time.monotonic()
        assert left > 0, "no tuna/modelChanged in time"
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, 65536)
            assert chunk, "the server closed its output before its first status"
            buf += chunk


def imports_before_first_status(home: Home, folder: Path) -> tuple[dict[str, Any], set[str]]:
    init = {
        "processId": None,
        "rootUri": folder.as_uri(),
        "workspaceFolders": [{"uri": folder.as_uri(), "name": folder.name}],
        "capabilities": {},
    }
    proc = subprocess.Popen(
        [*SERVER_CMD, "--log-level", "DEBUG"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**home.env(), "PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(
            _frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
        )
        proc.stdin.write(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        proc.stdin.flush()
        status = _read_until_status(proc.stdout, time.monotonic() + 30)
        proc.send_signal(signal.SIGSTOP)  # what it loads after the first status does not count
        proc.kill()
        err = proc.stderr.read().decode(errors="replace")
    finally:
        proc.kill()
        proc.wait(10)
    # the server logs the line just before it sends the status; what it imports after it (the
    # catalog, at once) may reach stderr before the process is stopped: cut there
    before, sep, _ = err.partition("sending the first status")
    assert sep, err[-2000:]
    names = {
        line.split("|")[2].strip()
        for line in before.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "tuna_lsp.server" in names, err[-2000:]  # the report is there at all
    return status, names


def test_a_window_with_a_folder_and_no_preferences_loads_no_toml_parser(
    home: Home, tmp_path: Path
) -> None:
    """The workspace model is looked up before the first status; with no preferences.toml there
    is nothing to parse, and tomlkit (tens of ms to import) was loaded anyway."""
    home.write_config({"default_model": "openai:gpt-4.1"})
    folder = tmp_path / "project"
    folder.mkdir()
    status, names = imports_before_first_status(home, folder)
    assert status["model"] == "openai:gpt-4.1" and status["workspaceFolder"] == str(folder)
    assert not {n for n in names if n.split(".")[0] in ("tomlkit", "tomllib")}
    # the catalog and the documents' analysis come after the first status too
    assert "sqlite3" not in names and "tuna_lsp.core.catalog" not in names
    assert "filelock" not in names  # the lock is for writes


@pytest.mark.parametrize("params", ["left out", None, {}])
def test_initialized_without_params_still_starts_the_window(home: Home, params: Any) -> None:
    """JSON-RPC lets a notification leave its params out; a client that did so got no status
    at all: lsprotocol's type for `initialized` requires them, and the message was dropped."""
    home.write_config({"default_model": "openai:gpt-4.1"})
    initialized: dict[str, Any] = {"jsonrpc": "2.0", "method": "initialized"}
    if params != "left out":
        initialized["params"] = params
    proc = subprocess.Popen(
        [*SERVER_CMD, "--log-level", "WARNING"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=home.env(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        init = {"processId": None, "rootUri": None, "capabilities": {}}
        proc.stdin.write(
            _frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
        )
        proc.stdin.write(_frame(initialized))
        proc.stdin.flush()
        status = _read_until_status(proc.stdout, time.monotonic() + 30)
        assert status["model"] == "openai:gpt-4.1"
    finally:
        proc.kill()
        proc.wait(10)
