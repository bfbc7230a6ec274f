"""A smoke test of the server over stdio on any OS (the CI matrix runs it on Linux, macOS and
Windows): initialize, tuna/setModel, then an external change of the config (an editor's atomic
save) followed to the client. Plain Python, no test framework; a reader thread on the server's
stdout (Windows cannot select() a pipe). Exits 0, or 1 saying which step failed.

    python tests/e2e/smoke_stdio.py [server command...]   (default: python -m tuna_lsp)
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TIMEOUT_S = 30.0


def frame(msg: dict[str, Any]) -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def read_messages(out: Any, into: queue.Queue[dict[str, Any] | None]) -> None:
    try:
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if not line.strip():
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length is None:
                continue
            into.put(json.loads(out.read(length)))
    finally:
        into.put(None)


class Server:
    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(
            target=read_messages, args=(self.proc.stdout, self.inbox), daemon=True
        ).start()
        self.next_id = 0
        self.seen: list[dict[str, Any]] = []

    def send(self, msg: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(frame({"jsonrpc": "2.0", **msg}))
        self.proc.stdin.flush()

    def wait(self, what: str, match: Any) -> dict[str, Any]:
        """The first message matching, among those that came while waiting on others too (a
        request's notifications come before its response)."""
        for i, msg in enumerate(self.seen):
            if match(msg):
                return self.seen.pop(i)
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SystemExit(f"smoke test: timed out waiting for {what}")
            try:
                msg = self.inbox.get(timeout=left)
            except queue.Empty:
                continue
            if msg is None:
                raise SystemExit(f"smoke test: the server ended before {what}")
            if "id" in msg and "method" in msg:  # a request of the server's: answered empty
                self.send({"id": msg["id"], "result": None})
                continue
            if match(msg):
                return msg
            self.seen.append(msg)

    def request(self, method: str, params: Any = None) -> Any:
        self.next_id += 1
        msg_id = self.next_id
        self.send({"id": msg_id, "method": method, "params": params})
        reply = self.wait(method, lambda m: m.get("id") == msg_id and "method" not in m)
        if "error" in reply:
            raise SystemExit(f"smoke test: {method} failed: {reply['error']}")
        return reply.get("result")


def changed(model: str) -> Any:
    return lambda m: m.get("method") == "tuna/modelChanged" and m["params"].get("model") == model


def main(argv: list[str]) -> int:
    command = argv or [sys.executable, "-m", "tuna_lsp"]
    with tempfile.TemporaryDirectory(prefix="tuna-smoke-") as tmp:
        home = Path(tmp)
        config = home / ".config" / "tunacode.json"
        config.parent.mkdir()
        config.write_text(json.dumps({"default_model": "openai:gpt-4.1"}))
        env = {
            **os.environ,
            "HOME": tmp,
            "USERPROFILE": tmp,
            "APPDATA": str(home / "appdata"),
            "LOCALAPPDATA": str(home / "localappdata"),
            "XDG_CONFIG_HOME": str(home / "xdgconfig"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "TUNACODE_CONFIG": str(config),
        }
        server = Server(command, env)
        try:
            init = {"processId": os.getpid(), "rootUri": None, "capabilities": {}}
            result = server.request("initialize", init)
            assert result["serverInfo"]["name"] == "tuna-lsp", result
            server.send({"method": "initialized", "params": {}})
            server.wait("the first status", changed("openai:gpt-4.1"))
            server.request("tuna/setModel", {"model": "anthropic:claude-sonnet-4-20250514"})
            server.wait("the status after setModel", changed("anthropic:claude-sonnet-4-20250514"))
            saved = json.loads(config.read_text())
            assert saved["default_model"] == "anthropic:claude-sonnet-4-20250514", saved
            # an editor's atomic save, made outside the server
            saved["default_model"] = "openai:o3"
            tmp_file = config.with_name(".tunacode.json.tmp")
            tmp_file.write_text(json.dumps(saved))
            os.replace(tmp_file, config)
            status = server.wait("the external change followed", changed("openai:o3"))
            assert status["params"]["origin"] == "external", status
            server.request("shutdown")
            server.send({"method": "exit"})
            code = server.proc.wait(timeout=TIMEOUT_S)
            if code != 0:
                raise SystemExit(f"smoke test: the server exited with {code}")
        finally:
            if server.proc.poll() is None:
                server.proc.kill()
                server.proc.wait()
    print("smoke test passed: initialize, setModel, an external change followed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
