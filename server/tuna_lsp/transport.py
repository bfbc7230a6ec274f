"""The wire under the language server: framing, the message loop, error replies for messages no
handler can take, serving over stdio or TCP, and the fast path that sends our plain-dict results
as they are.

The one module that touches pygls internals (`_serialize_message`, `_send_data`, `_stop_event`):
pyproject.toml pins pygls to the minor version these were read from. Features never import it;
`server.py` calls `serve_stdio` and `serve_tcp`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from pygls.io_ import StdoutWriter
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    default_converter,
)

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)


def _plain(obj: dict[str, Any], cls: type) -> Any:
    # Keep params of custom methods as plain JSON (dicts, lists), not namedtuples: we validate them.
    names = ("id", "method", "jsonrpc", "params")
    return cls(**{k: obj.get(k) for k in names if k in obj or k == "params"})


def converter_factory() -> Any:
    converter = default_converter()  # type: ignore[no-untyped-call]
    converter.register_structure_hook(JsonRPCRequestMessage, _plain)
    converter.register_structure_hook(
        JsonRPCNotification,
        lambda obj, cls: cls(
            method=obj.get("method"), jsonrpc=obj.get("jsonrpc"), params=obj.get("params")
        ),
    )
    return converter


_ID_IN_TEXT = re.compile(rb'"id"\s*:\s*(-?\d{1,18}|"[^"\\]{0,200}")')


def _error_response(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


class _PipeWriter:
    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self.transport = transport

    def write(self, data: bytes) -> None:
        if self.transport.is_closing():
            raise BrokenPipeError("the client closed the connection")
        self.transport.write(data)

    def close(self) -> None:
        self.transport.close()


class TunaProtocol(LanguageServerProtocol):
    """Our results and notifications are plain JSON dicts already: send them as they are.
    (pygls would walk every value through cattrs, which costs more than the durable write.)"""

    def _serialize_message(self, data: Any) -> Any:
        kind = type(data)
        if kind is JsonRPCResponseMessage and isinstance(data.result, dict):
            return {"id": data.id, "jsonrpc": data.jsonrpc, "result": data.result}
        if kind is JsonRPCNotification and isinstance(data.params, dict):
            return {"method": data.method, "jsonrpc": data.jsonrpc, "params": data.params}
        return super()._serialize_message(data)

    def send_raw(self, data: dict[str, Any]) -> None:
        """Send a message that is already a JSON-RPC dict (an error reply of the transport)."""
        self._send_data(data)


def run(server: LanguageServer, main: Coroutine[Any, Any, None]) -> None:
    """Serve until the client goes; `exit` (SystemExit) sets the process's exit code."""
    server._stop_event = threading.Event()
    code = 0
    try:
        asyncio.run(main)
    except BrokenPipeError:
        log.error("the client closed the connection")
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]
    _exit(code)


def _exit(code: int) -> None:
    logging.shutdown()
    try:
        sys.stdout.flush()
    finally:
        os._exit(code)  # don't wait on the watcher's or the catalog's threads


def serve_stdio(server: LanguageServer, stdin: Any, stdout: Any) -> None:
    run(server, _serve_stdio(server, stdin, stdout))


def serve_tcp(server: LanguageServer, host: str, port: int) -> None:
    """One client over TCP; the process ends with it, as with stdio."""

    async def serve() -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            server.protocol.set_writer(_PipeWriter(writer.transport))
            try:
                await serve_messages(server, reader)
                if not done.done():
                    done.set_result(None)
            except BaseException as exc:  # SystemExit from `exit` ends the process
                if not done.done():
                    done.set_exception(exc)

        listener = await asyncio.start_server(connection, host, port)
        log.info("listening on %s:%d", host, port)
        async with listener:
            await done

    run(server, serve())


async def _serve_stdio(server: LanguageServer, stdin: Any, stdout: Any) -> None:
    loop = asyncio.get_running_loop()
    try:
        # Non-blocking writes: a response never waits on the client reading the pipe.
        transport, _ = await loop.connect_write_pipe(asyncio.Protocol, stdout)
        server.protocol.set_writer(_PipeWriter(transport))
    except (ValueError, OSError):
        server.protocol.set_writer(StdoutWriter(stdout))
    reader: Any
    try:
        stream = asyncio.StreamReader(limit=1 << 20)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
        reader = stream
    except (ValueError, OSError):  # a regular file or an odd stdin: fall back to pygls's reader
        from pygls.io_ import StdinAsyncReader

        reader = StdinAsyncReader(stdin, server.thread_pool)
    await serve_messages(server, reader)


async def serve_messages(server: LanguageServer, reader: Any) -> None:
    """Read framed messages until EOF or `exit`. Unlike pygls's loop, the JSON is parsed first
    and only the top level is structured: a param that happens to look like a JSON-RPC message
    stays data, and a request that cannot be structured still gets an error response."""
    stop = server._stop_event
    assert stop is not None
    protocol = server.protocol
    assert isinstance(protocol, TunaProtocol)
    while not stop.is_set():
        length = 0
        while True:
            line = await reader.readline()
            if not line:
                return
            if not line.strip():
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    length = 0
        if length <= 0:
            continue
        body = await reader.readexactly(length)
        try:
            raw = json.loads(body)
        except (ValueError, RecursionError) as exc:
            log.warning("dropped a message that is not JSON: %s", exc)
            # JSON-RPC answers a parse error with id null; a client waits on its own id,
            # so give it back when the text still shows it.
            msg_id = None
            if found := _ID_IN_TEXT.search(body):
                with contextlib.suppress(ValueError):
                    msg_id = json.loads(found.group(1))
            protocol.send_raw(_error_response(msg_id, -32700, f"Parse error: {exc}"))
            continue
        if not isinstance(raw, dict):
            protocol.send_raw(_error_response(None, -32600, "Invalid Request: not an object"))
            continue
        if not isinstance(raw.get("method", ""), str) or not {"method", "id"} & raw.keys():
            if "id" in raw:
                protocol.send_raw(
                    _error_response(raw["id"], -32600, "Invalid Request: method must be a string")
                )
            log.warning("dropped a message that is no request, notification or response")
            continue
        try:
            message = protocol.structure_message(raw)
        except Exception as exc:
            if "id" in raw and "method" in raw:
                method = str(raw.get("method"))[:80]
                protocol.send_raw(
                    _error_response(raw["id"], -32602, f"Invalid params for {method}: {exc}"[:500])
                )
            log.warning("dropped a message that does not fit its method: %s", exc)
            continue
        try:
            protocol.handle_message(message)
        except Exception as exc:  # a response with an object for an id, say: never fatal
            log.warning("dropped a message no handler could take: %r", exc)
