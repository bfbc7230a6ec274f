"""The wire under the language server: framing, the message loop, error replies for messages no
handler can take, serving over stdio or TCP, and the fast path that sends our plain-dict results
as they are.

The one module that touches pygls internals (`_serialize_message`, `_send_data`, `_stop_event`,
`_workspace`; wire.LspWorkspace's `_sync_kind`):
pyproject.toml pins pygls to the minor version these were read from. Features never import it;
`server.py` calls `serve_stdio` and `serve_tcp`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError
from pygls.io_ import StdoutWriter
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    default_converter,
)
from pygls.protocol.language_server import lsp_method

from .once import structure_once, unstructure_once
from .wire import JsonText, LspWorkspace, fit_capabilities

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)
_rpc_log = logging.getLogger("pygls.protocol.json_rpc")  # where pygls logs each message received


def _plain(obj: dict[str, Any], cls: type) -> Any:
    # Keep params of custom methods as plain JSON (dicts, lists), not namedtuples: we validate them.
    names = ("id", "method", "jsonrpc", "params")
    return cls(**{k: obj.get(k) for k in names if k in obj or k == "params"})


ONCE_STRUCTURED = (types.InitializeRequest, types.InitializeParams, types.InitializedNotification)
# the classes of the options our features register with (features/documents.py)
FEATURE_OPTIONS = (types.CompletionOptions, types.CodeActionOptions)


def converter_factory() -> Any:
    converter = default_converter()  # type: ignore[no-untyped-call]
    # once per process, and 61 classes for cattrs to compile: walked instead (once.py); so are
    # the initialize request around them and the initialized notification: before the first
    # status, cattrs generates nothing
    once = structure_once(converter, default_converter)
    for message in ONCE_STRUCTURED:
        converter.register_structure_hook(message, once)
    # pygls checks each feature's options at registration by writing them with the converter
    # (its `is_instance`): six more generated functions at start-up (3 to 5 ms). Written by the
    # same walk, as they are again in initialize's result.
    for options in FEATURE_OPTIONS:
        converter.register_unstructure_hook(
            options, lambda value: unstructure_once(value, converter)
        )
    converter.register_structure_hook(JsonRPCRequestMessage, _plain)
    converter.register_structure_hook(
        JsonRPCNotification,
        lambda obj, cls: cls(
            method=obj.get("method"), jsonrpc=obj.get("jsonrpc"), params=obj.get("params")
        ),
    )
    return converter


# Bounds of one frame (PROTOCOL.md 4: bad input never ends or bloats the process). A header line
# is a few dozen bytes; the largest real message is a didOpen of a 4 MiB config, which JSON string
# escapes can grow about six-fold.
MAX_HEADER_LINE = 8 * 1024
MAX_BODY = 32 * 1024 * 1024
WRITE_HIGH_WATER = 1024 * 1024
MAX_IN_FLIGHT = 32
_DISCARD_CHUNK = 64 * 1024

_ID_IN_TEXT = re.compile(rb'"id"\s*:\s*(-?\d{1,18}|"[^"\\]{0,200}")')


def _error_response(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


class _Flow(asyncio.Protocol):
    """Write-side flow control of a pipe: the event loop calls pause_writing when the transport's
    buffer passes its high-water mark, resume_writing when it drained below the low one."""

    def __init__(self) -> None:
        self._writable = asyncio.Event()
        self._writable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self._writable.set()  # nothing more will drain: let the reader see EOF or the error

    async def wait(self) -> None:
        await self._writable.wait()


class _PipeWriter:
    def __init__(
        self, transport: asyncio.WriteTransport, drained: Callable[[], Awaitable[None]]
    ) -> None:
        self.transport = transport
        self.drained = drained
        # Above this much unsent output the message loop stops reading: a client that does not
        # read its replies holds the server at this size instead of growing it without limit.
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER, low=WRITE_HIGH_WATER // 4)

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
        # the same workspace, with documents that break lines where the client does
        made = self._workspace
        assert made is not None  # pygls made it before calling our initialize
        self._workspace = LspWorkspace(
            made.root_uri,
            self._server._text_document_sync_kind,
            list(made.folders.values()),
            made.position_encoding,
        )
        return result

    def _send_data(self, data: Any) -> None:
        # pygls's, with compact separators (a listing of 50 models is 8% fewer bytes to write and
        # for the client to parse) and without the encoder's check for cycles (messages are trees)
        if not data:
            return
        if self.writer is None:
            log.error("no transport to send a message on")
            return
        try:
            result = getattr(data, "result", None)
            if type(result) is JsonText and getattr(data, "error", None) is None:
                # written already (a listing: wire.ListingText)
                body = f'{{"id":{json.dumps(data.id)},"jsonrpc":"2.0","result":{result}}}'.encode()
            else:
                body = json.dumps(
                    data,
                    default=self._serialize_message,
                    separators=(",", ":"),
                    check_circular=False,
                ).encode()
            head = (
                f"Content-Length: {len(body)}\r\nContent-Type: {self.CONTENT_TYPE}; charset=utf-8"
            )
            # the writers set in this module write at once (none returns an awaitable)
            self.writer.write(head.encode() + b"\r\n\r\n" + body)
        except BrokenPipeError:
            raise
        except Exception as error:
            log.error("a message could not be sent: %s", error, exc_info=error)
            self._server._report_server_error(error, JsonRpcInternalError)

    def _serialize_message(self, data: Any) -> Any:
        kind = type(data)
        if kind is JsonRPCResponseMessage and (
            isinstance(data.result, dict) or type(data.result) is types.InitializeResult
        ):
            return {"id": data.id, "jsonrpc": data.jsonrpc, "result": data.result}
        if kind is JsonRPCNotification and isinstance(data.params, dict):
            return {"method": data.method, "jsonrpc": data.jsonrpc, "params": data.params}
        if kind is types.InitializeResult or kind is types.ServerCapabilities:
            # once per process (and in pygls's log line of the capabilities): not worth the
            # converter's generated code (once.py)
            return unstructure_once(data, self._converter)
        return super()._serialize_message(data)

    def handle_message(self, message: Any) -> None:
        # pygls tells a request from a notification or a response with isinstance against
        # typing Protocols: on Python 3.11 each such check walks typing's attribute machinery,
        # ~30 µs, more than the rest of a request's dispatch. The same test, by attribute.
        self.last_message = time.monotonic()  # when the client last spoke (start-up's end waits)
        if message.jsonrpc != self.VERSION or self._shutdown:
            super().handle_message(message)  # logs and drops, or lets `exit` through
            return
        ctx = contextvars.copy_context()
        # pygls's own DEBUG lines, as it writes them (a trace at DEBUG reads the same)
        if hasattr(message, "method") and hasattr(message, "params"):
            if hasattr(message, "id"):
                _rpc_log.debug("Request %r received", message.method)
                ctx.run(self._handle_request, message.id, message.method, message.params)
            else:
                _rpc_log.debug("Notification %r received", message.method)
                ctx.run(self._handle_notification, message.method, message.params)
        elif hasattr(message, "result"):
            _rpc_log.debug("Response message received.")
            ctx.run(self._handle_response, message.id, message.result)
        else:
            _rpc_log.debug("Error message received.")
            ctx.run(self._handle_response, message.id, None, message.error)

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        # pygls 2.1 files the future of a notification's async or generator handler (didOpen,
        # didChange: every keystroke) under a fresh uuid in _request_futures and never removes
        # it: the table grows without end, and room() took those for requests in flight and
        # stopped reading after MAX_IN_FLIGHT notifications. Forget each once it is done.
        if callback == self._check_handler_result:
            check = callback

            def done(future: Any) -> None:
                self._request_futures.pop(msg_id, None)
                check(future)

            callback = done
        elif (
            getattr(callback, "func", None) == self._send_handler_result
            and not kwargs
            and asyncio.iscoroutinefunction(handler)
        ):
            # A request's async handler: the response goes out from the handler's own task, in
            # the step that produced the result (pygls sends it from a done-callback, a loop turn
            # later), right after the notifications the handler sent (one read for the client).
            # A failure or a cancellation is still answered by pygls's callback.
            answer = callback

            async def answered() -> None:
                result = await handler(*(args or ()))
                self._request_futures.pop(msg_id, None)  # before room() is woken
                self._send_response(msg_id, result=result)

            def sent(future: Any) -> None:
                if future.cancelled() or future.exception() is not None:
                    answer(future)

            task = asyncio.ensure_future(answered())
            self._request_futures[msg_id] = task  # type: ignore[assignment]  # as pygls does
            task.add_done_callback(sent)
            return
        super()._execute_handler(msg_id, handler, callback, args, kwargs)

    _answered: asyncio.Event | None = None
    last_message = 0.0

    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        super()._send_response(msg_id, result=result, error=error)
        if self._answered is not None:
            self._answered.set()

    async def room(self) -> None:
        """Wait while MAX_IN_FLIGHT requests are unanswered: with the write buffer's high-water
        mark, what a client that stops reading can make the server hold has a bound."""
        while len(self._request_futures) >= MAX_IN_FLIGHT:
            if self._answered is None:
                self._answered = asyncio.Event()
            self._answered.clear()
            await self._answered.wait()

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
        if isinstance(exc.code, str):  # a transport that could not start says why
            log.error("%s", exc.code)
            print(exc.code, file=sys.stderr)
            code = 1
        else:
            code = exc.code or 0
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
    """One client over TCP; the process ends with it, as with stdio. Every local user can reach a
    loopback port, so the first connection is the only one: the listening socket closes as it
    arrives (later ones are refused) and it never hands the wire to anyone else."""

    async def listen(connection: _Connection) -> asyncio.Server:
        listener = await asyncio.start_server(connection, host, port)
        log.info("listening on %s:%d", host, port)
        return listener

    run(server, _serve_one(server, listen))


def serve_unix(server: LanguageServer, path: str) -> None:
    """One client over a Unix socket created 0600: the private alternative to TCP."""

    async def listen(connection: _Connection) -> asyncio.Server:
        _clear_stale_socket(path)
        old = os.umask(0o177)  # never a moment with the socket open to others
        try:
            listener = await asyncio.start_unix_server(connection, path)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        log.info("listening on %s", path)
        return listener

    run(server, _serve_one(server, listen, unlink=path))


def _clear_stale_socket(path: str) -> None:
    """A socket left by a server that died may be replaced; anything else at the path is kept."""
    import socket
    import stat

    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise SystemExit(f"tuna-lsp: {path} exists and is not a socket; not replacing it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except ConnectionRefusedError:
        os.unlink(path)
        return
    except OSError as exc:
        raise SystemExit(f"tuna-lsp: cannot use {path}: {exc.strerror or exc}") from None
    finally:
        probe.close()
    raise SystemExit(f"tuna-lsp: another server is listening on {path}")


_Connection = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _serve_one(
    server: LanguageServer,
    listen: Callable[[_Connection], Awaitable[asyncio.Server]],
    unlink: str | None = None,
) -> None:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    taken = False
    listener: asyncio.Server | None = None

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal taken
        if taken:  # accepted before the listener closed: refused, never given the wire
            log.warning("refused a second connection: this server serves one client")
            writer.close()
            return
        taken = True
        if listener is not None:
            listener.close()
        if unlink:
            with contextlib.suppress(OSError):
                os.unlink(unlink)

        async def drained() -> None:
            with contextlib.suppress(ConnectionError):
                await writer.drain()

        server.protocol.set_writer(_PipeWriter(writer.transport, drained))
        try:
            await serve_messages(server, reader, drained)
            if not done.done():
                done.set_result(None)
        except BaseException as exc:  # SystemExit from `exit` ends the process
            if not done.done():
                done.set_exception(exc)

    listener = await listen(connection)
    try:
        async with listener:
            await done
    finally:  # run() ends the process with os._exit: nothing after it would run
        if unlink and not taken:
            with contextlib.suppress(OSError):
                os.unlink(unlink)


async def _serve_stdio(server: LanguageServer, stdin: Any, stdout: Any) -> None:
    loop = asyncio.get_running_loop()
    drained: Callable[[], Awaitable[None]] | None = None
    try:
        # Non-blocking writes: a response never waits on the client reading the pipe.
        transport, flow = await loop.connect_write_pipe(_Flow, stdout)
        drained = flow.wait
        server.protocol.set_writer(_PipeWriter(transport, drained))
    except (ValueError, OSError):
        server.protocol.set_writer(StdoutWriter(stdout))
    reader: Any
    try:
        stream = asyncio.StreamReader(limit=MAX_HEADER_LINE)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
        reader = stream
    except (ValueError, OSError):  # a regular file or an odd stdin: fall back to pygls's reader
        from pygls.io_ import StdinAsyncReader

        reader = StdinAsyncReader(stdin, server.thread_pool)
    await serve_messages(server, reader, drained)


class _BadFrame(Exception):
    """A frame whose header breaks the bounds: answered, its body skipped."""


async def _header_line(reader: Any) -> bytes:
    """One header line; a longer one than MAX_HEADER_LINE is skipped whole (never buffered) and
    reported as _BadFrame once its end is found. b"" at EOF."""
    if not isinstance(reader, asyncio.StreamReader):
        line: bytes = await reader.readline()
        return line
    too_long = False
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            return b"" if too_long or not exc.partial else exc.partial
        except asyncio.LimitOverrunError as exc:
            too_long = True
            await reader.readexactly(max(1, exc.consumed))
            continue
        if too_long:
            raise _BadFrame(f"a header line is longer than {MAX_HEADER_LINE} bytes")
        return line


async def _skip(reader: Any, length: int) -> None:
    """Read and drop `length` bytes in chunks, never holding more than one."""
    while length > 0:
        chunk = await reader.read(min(_DISCARD_CHUNK, length))
        if not chunk:
            return
        length -= len(chunk)


def _id_in(text: bytes) -> Any:
    if found := _ID_IN_TEXT.search(text):
        with contextlib.suppress(ValueError):
            return json.loads(found.group(1))
    return None


async def serve_messages(
    server: LanguageServer, reader: Any, drained: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Read framed messages until EOF or `exit`. Unlike pygls's loop, the JSON is parsed first
    and only the top level is structured: a param that happens to look like a JSON-RPC message
    stays data, and a request that cannot be structured still gets an error response.

    Bounded: header lines and bodies have caps (a bad frame is answered and skipped), and while
    the client leaves more than WRITE_HIGH_WATER of replies unread, nothing more is read."""
    stop = server._stop_event
    assert stop is not None
    protocol = server.protocol
    assert isinstance(protocol, TunaProtocol)
    initialized = False
    while not stop.is_set():
        if drained is not None:
            await drained()
        await protocol.room()
        length: int | None = None
        problem: str | None = None
        while True:
            try:
                line = await _header_line(reader)
            except _BadFrame as exc:
                problem = str(exc)
                continue
            if not line:
                return
            if not line.strip():
                break
            # resynchronise after a bad frame whose body ran into the next header
            at = line.lower().find(b"content-length:")
            name, _, value = line[max(at, 0) :].partition(b":")
            if name.strip().lower() == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    length = None
                    problem = f"Content-Length {value.strip()[:40]!r} is not a number"
        if length is not None and length > MAX_BODY:
            # Answered before the body is skipped: the body may never come in full.
            problem = (
                f"a message of {length} bytes is larger than the {MAX_BODY // 2**20} MiB limit"
            )
            log.warning("dropped a frame: %s", problem)
            protocol.send_raw(_error_response(None, -32600, f"Invalid Request: {problem}"))
            await _skip(reader, length)
            continue
        if problem is not None:
            if length is not None and length > 0:
                await _skip(reader, length)
            log.warning("dropped a frame: %s", problem)
            protocol.send_raw(_error_response(None, -32700, f"Parse error: {problem}"))
            continue
        if length is None or length <= 0:
            continue
        try:
            body = await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            return
        try:
            raw = json.loads(body)
        except (ValueError, RecursionError) as exc:
            log.warning("dropped a message that is not JSON: %s", exc)
            # JSON-RPC answers a parse error with id null; a client waits on its own id,
            # so give it back when the text still shows it.
            protocol.send_raw(_error_response(_id_in(body), -32700, f"Parse error: {exc}"))
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
        # One initialize per server (PROTOCOL.md 1): a second must not re-point the config.
        if initialized and raw.get("method") == "initialize" and "id" in raw:
            log.warning("refused a second initialize")
            protocol.send_raw(
                _error_response(
                    raw["id"],
                    -32600,
                    "Invalid Request: the server is already initialized; one initialize per server",
                )
            )
            continue
        if raw.get("method") == "initialized" and raw.get("params") is None:
            # JSON-RPC lets a notification leave its params out; lsprotocol's type requires
            # them (InitializedParams, an empty object), and the window would never start
            raw["params"] = {}
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
        if raw.get("method") == "initialize" and "id" in raw:
            initialized = True
        try:
            protocol.handle_message(message)
        except Exception as exc:  # a response with an object for an id, say: never fatal
            log.warning("dropped a message no handler could take: %r", exc)
