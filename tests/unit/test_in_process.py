"""The server's features in-process: the real server object (`setup.create_server`), messages
handed to its protocol as the message loop hands them, and what it writes captured as bytes.
No subprocess: what is checked here is the order of things inside one loop, which a client on
the other side of a pipe cannot see.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tuna_lsp.setup import create_server

ENV = ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "TUNACODE_CONFIG")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    for name, sub in (("XDG_CONFIG_HOME", "cfg"), ("XDG_STATE_HOME", "state")):
        monkeypatch.setenv(name, str(tmp_path / sub))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / ".config").mkdir()
    config = tmp_path / ".config" / "tunacode.json"
    config.write_text(json.dumps({"default_model": "openai:gpt-4.1", "hooks": {"a": 1}}))
    yield tmp_path


class Capture:
    """The server's writer: each message it sends, parsed, with what `seen` saw at that moment."""

    def __init__(self, seen: Any) -> None:
        self.messages: list[tuple[dict[str, Any], Any]] = []
        self.seen = seen

    def write(self, data: bytes) -> None:
        body = data.split(b"\r\n\r\n", 1)[1]
        self.messages.append((json.loads(body), self.seen()))

    def close(self) -> None:
        pass


def history_lines(home: Path) -> int:
    path = home / "state" / "tunacode" / "model-history.jsonl"
    return len(path.read_text().splitlines()) if path.exists() else 0


async def send(server: Any, message: dict[str, Any]) -> None:
    server.protocol.handle_message(server.protocol.structure_message(message))
    await asyncio.sleep(0)


async def answered(capture: Capture, msg_id: int, timeout: float = 60.0) -> tuple[dict, Any]:
    async with asyncio.timeout(timeout):
        while True:
            for message, seen in capture.messages:
                if message.get("id") == msg_id and "method" not in message:
                    return message, seen
            await asyncio.sleep(0.001)


async def test_a_sets_effects_run_after_its_response_and_the_status_before(home: Path) -> None:
    """server.after_response: the history line of a set is written after the set's response
    has gone out (the response does not wait on it), and tuna/modelChanged goes before the
    response (clients read the status first)."""
    server = create_server()
    capture = Capture(lambda: history_lines(home))
    server.protocol.set_writer(capture)
    try:
        caps = {"general": {"positionEncodings": ["utf-16"]}}
        init = {"processId": os.getpid(), "rootUri": None, "capabilities": caps}
        await send(server, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
        await answered(capture, 1)
        await send(server, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
        before = history_lines(home)
        params = {"model": "anthropic:claude-sonnet-4", "scope": "global"}
        await send(server, {"jsonrpc": "2.0", "id": 2, "method": "tuna/setModel", "params": params})
        response, lines_then = await answered(capture, 2)  # after the catalog (built: seconds)
        assert response["result"]["model"] == "anthropic:claude-sonnet-4", response
        assert lines_then == before, "the history line was written before the response went out"
        async with asyncio.timeout(5):
            while history_lines(home) == before:
                await asyncio.sleep(0.001)
        methods = [m.get("method", m.get("id")) for m, _ in capture.messages]
        last_status = max(i for i, m in enumerate(methods) if m == "tuna/modelChanged")
        assert last_status < methods.index(2), methods
        saved = json.loads((home / ".config" / "tunacode.json").read_text())
        assert saved["default_model"] == "anthropic:claude-sonnet-4" and saved["hooks"] == {"a": 1}
    finally:
        for task in list(server._tasks):  # the watchers, the catalog's load
            task.cancel()
