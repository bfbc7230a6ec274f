"""The language server object: a thin pygls `LanguageServer` that features register onto.

Owns the transport (a stdio reader on the event loop: pygls's default hops through a thread pool
for every header line and body), the server-wide objects (options, the model service, the
catalog loader, the watcher), and sending `tuna/modelChanged` only when something changed.
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
from collections.abc import Coroutine, Generator
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    default_converter,
)
from pygls.protocol.language_server import lsp_method

from . import __version__
from .initialization_options import InitializationOptions
from .wire import fit_capabilities, state_to_wire

if TYPE_CHECKING:  # at start-up only what the first status needs is imported
    from .core.catalog import Catalog
    from .core.model_service import ModelService, ModelState
    from .storage.config_watcher import ConfigWatcher

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
    (pygls would walk every value through cattrs, which costs more than the durable write.)
    The capabilities pygls builds from the registered features are fitted to the client's."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        result = yield from super().lsp_initialize(params)
        fit_capabilities(result.capabilities, params.capabilities)
        return result

    def _serialize_message(self, data: Any) -> Any:
        kind = type(data)
        if kind is JsonRPCResponseMessage and isinstance(data.result, dict):
            return {"id": data.id, "jsonrpc": data.jsonrpc, "result": data.result}
        if kind is JsonRPCNotification and isinstance(data.params, dict):
            return {"method": data.method, "jsonrpc": data.jsonrpc, "params": data.params}
        return super()._serialize_message(data)


class TunaLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "tuna-lsp", __version__, protocol_cls=TunaProtocol, converter_factory=converter_factory
        )
        self.options = InitializationOptions()
        self.service: ModelService | None = None
        self.watcher: ConfigWatcher | None = None
        self.catalog_future: asyncio.Future[Catalog | None] | None = None
        self._last_key: tuple[Any, ...] | None = None
        self.last_origin: str = "initial"
        self.client_name: str | None = None
        self.option_problems: list[str] = []
        self.dirty_uris: set[str] = set()  # open documents edited since their last open/save

    # ---- notifications --------------------------------------------------------------------

    def publish_state(self, state: ModelState, *, force: bool = False) -> bool:
        """Send tuna/modelChanged if the state differs from the last one sent."""
        key = state.change_key()
        if not force and key == self._last_key:
            return False
        self._last_key = key
        self.last_origin = state.origin
        log.debug("tuna/modelChanged %s scope=%s origin=%s", state.model, state.scope, state.origin)
        self.protocol.notify("tuna/modelChanged", state_to_wire(state))
        return True

    def report_server_error(self, error: Exception, source: Any) -> None:
        # Expected failures are answered as JSON-RPC errors; log the rest, never pop up tracebacks.
        if isinstance(error, JsonRpcException):
            log.debug("request failed: %s", error)
        else:
            log.error("internal error: %s", error, exc_info=error)

    # ---- transport ------------------------------------------------------------------------

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        self._run(self._serve_stdio(stdin or sys.stdin.buffer, stdout or sys.stdout.buffer))

    def _run(self, main: Coroutine[Any, Any, None]) -> None:
        """Serve until the client goes; `exit` (SystemExit) sets the process's exit code."""
        self._stop_event = threading.Event()
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
            self.shutdown()
        self._exit(code)

    def start_tcp(self, host: str, port: int) -> None:
        """One client over TCP; the process ends with it, as with stdio."""

        async def serve() -> None:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            async def connection(
                reader: asyncio.StreamReader, writer: asyncio.StreamWriter
            ) -> None:
                self.protocol.set_writer(_PipeWriter(writer.transport))
                try:
                    assert self._stop_event is not None
                    await self.serve_messages(reader)
                    if not done.done():
                        done.set_result(None)
                except BaseException as exc:  # SystemExit from `exit` ends the process
                    if not done.done():
                        done.set_exception(exc)

            server = await asyncio.start_server(connection, host, port)
            log.info("listening on %s:%d", host, port)
            async with server:
                await done

        self._run(serve())

    def _exit(self, code: int) -> None:
        logging.shutdown()
        try:
            sys.stdout.flush()
        finally:
            os._exit(code)  # don't wait on the watcher's or the catalog's threads

    async def _serve_stdio(self, stdin: Any, stdout: Any) -> None:
        loop = asyncio.get_running_loop()
        try:
            # Non-blocking writes: a response never waits on the client reading the pipe.
            transport, _ = await loop.connect_write_pipe(asyncio.Protocol, stdout)
            self.protocol.set_writer(_PipeWriter(transport))
        except (ValueError, OSError):
            self.protocol.set_writer(StdoutWriter(stdout))
        reader: Any
        try:
            stream = asyncio.StreamReader(limit=1 << 20)
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
            reader = stream
        except (ValueError, OSError):  # a regular file or an odd stdin: fall back to pygls's reader
            from pygls.io_ import StdinAsyncReader

            reader = StdinAsyncReader(stdin, self.thread_pool)
        assert self._stop_event is not None
        await self.serve_messages(reader)

    async def serve_messages(self, reader: Any) -> None:
        """Read framed messages until EOF or `exit`. Unlike pygls's loop, the JSON is parsed first
        and only the top level is structured: a param that happens to look like a JSON-RPC message
        stays data, and a request that cannot be structured still gets an error response."""
        assert self._stop_event is not None
        while not self._stop_event.is_set():
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
                self.protocol._send_data(_error_response(msg_id, -32700, f"Parse error: {exc}"))
                continue
            if not isinstance(raw, dict):
                self.protocol._send_data(
                    _error_response(None, -32600, "Invalid Request: not an object")
                )
                continue
            if not isinstance(raw.get("method", ""), str) or not {"method", "id"} & raw.keys():
                if "id" in raw:
                    self.protocol._send_data(
                        _error_response(
                            raw["id"], -32600, "Invalid Request: method must be a string"
                        )
                    )
                log.warning("dropped a message that is no request, notification or response")
                continue
            try:
                message = self.protocol.structure_message(raw)
            except Exception as exc:
                if "id" in raw and "method" in raw:
                    method = str(raw.get("method"))[:80]
                    self.protocol._send_data(
                        _error_response(
                            raw["id"], -32602, f"Invalid params for {method}: {exc}"[:500]
                        )
                    )
                log.warning("dropped a message that does not fit its method: %s", exc)
                continue
            try:
                self.protocol.handle_message(message)
            except Exception as exc:  # a response with an object for an id, say: never fatal
                log.warning("dropped a message no handler could take: %r", exc)

    def shutdown(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        super().shutdown()  # type: ignore[no-untyped-call]
