"""A baseline for the set and listing rows: the least a Python process can do for those requests
over the same stdio framing, with no library, so the benchmark shows in the same run what this
machine allows any Python server.

- tuna/setModel: read the config, change `default_model`, write it durably (temp file, fsync,
  rename, directory fsync: the write floor's steps), send a tuna/modelChanged, answer. No lock,
  no write marks, no history, no checks: nothing a user could rely on, only the work no server
  can skip.
- tuna/listModels: the answer read from TUNA_MINIMAL_ANSWERS (JSON: query -> result, what
  tuna-lsp answered to the same query), sent as it is: the wire's share of a listing.
- Any other request is answered with an empty object (tuna/stats: a request doing no work).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from typing import Any

CONFIG = os.path.join(os.environ["HOME"], ".config", "tunacode.json")


def write_durably(path: str, raw: bytes) -> None:
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tunacode.json.")
    os.write(fd, raw)
    os.fsync(fd)
    os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(dfd)
    os.close(dfd)


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """One message's body (Content-Length framing); None at the end of the stream. (The
    benchmark's client reads with it too.)"""
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    if not line:
        return None
    return await reader.readexactly(length)


def read_config() -> dict[str, Any]:
    with open(CONFIG, "rb") as f:
        data: dict[str, Any] = json.loads(f.read())
    return data


async def main() -> None:
    answers: dict[str, bytes] = {}
    if path := os.environ.get("TUNA_MINIMAL_ANSWERS"):
        with open(path, "rb") as f:
            answers = {
                q: json.dumps(r, separators=(",", ":")).encode() for q, r in json.load(f).items()
            }
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    out, _ = await loop.connect_write_pipe(asyncio.Protocol, sys.stdout.buffer)

    def send(body: bytes) -> None:
        out.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def send_json(msg: dict[str, Any]) -> None:
        send(json.dumps(msg, separators=(",", ":")).encode())

    def status(model: str | None) -> None:
        send_json({"jsonrpc": "2.0", "method": "tuna/modelChanged", "params": {"model": model}})

    while (body := await read_frame(reader)) is not None:
        msg = json.loads(body)
        method, msg_id = msg.get("method"), msg.get("id")
        if method == "initialized":
            status(read_config().get("default_model"))
        elif method == "exit":
            break
        elif msg_id is None:
            continue
        elif method == "tuna/setModel":
            data = read_config()
            data["default_model"] = msg["params"]["model"]
            write_durably(CONFIG, json.dumps(data, indent=4).encode())
            status(data["default_model"])
            send_json({"jsonrpc": "2.0", "id": msg_id, "result": {"model": data["default_model"]}})
        elif method == "tuna/listModels":
            result = answers.get((msg.get("params") or {}).get("query") or "", b"{}")
            send(b'{"jsonrpc":"2.0","id":%s,"result":%s}' % (json.dumps(msg_id).encode(), result))
        else:
            send_json(
                {"jsonrpc": "2.0", "id": msg_id, "result": {} if method != "shutdown" else None}
            )


if __name__ == "__main__":
    asyncio.run(main())
