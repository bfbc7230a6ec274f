"""The wire under the language server: framing, the message loop, error replies for messages no
handler can take, serving over stdio (the sockets: sockets.py), and `TunaProtocol`, pygls's
protocol where ours must differ (its docstring lists each difference and why).

The one module that touches pygls internals (`_serialize_message`, `_send_data`,
`_execute_handler`, `_handle_notification`, `_send_response`, `_stop_event`, `_workspace`;
wire.LspWorkspace's `_sync_kind`): pyproject.toml pins pygls to the minor version these were
read from. Features never import it; `server.py` calls `serve_stdio`.
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
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any

from cattrs import transform_error
from cattrs.errors import BaseValidationError
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError
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
from .storage import platform
from .wire import LspWorkspace, fit_capabilities

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)
_rpc_log = logging.getLogger("pygls.protocol.json_rpc")  # where pygls logs each message received


def _plain(obj: dict[str, Any], cls: type) -> Any:
    # Keep params of custom methods as plain JSON (dicts, lists), not namedtuples: we validate them.
    names = ("id", "method", "jsonrpc", "params")
    return cls(**{k: obj.get(k) for k in names if k in obj or k == "params"})


ONCE_STRUCTURED = (types.InitializeRequest, types.InitializeParams, types.InitializedNotification)
# written once per process: initialize's result (also in pygls's log line of the capabilities),
# and the options our features register with (features/documents.py)
ONCE_UNSTRUCTURED = (
    types.InitializeResult,
    types.ServerCapabilities,
    types.CompletionOptions,
    types.CodeActionOptions,
)


def converter_factory() -> Any:
    converter = default_converter()  # type: ignore[no-untyped-call]
    # once per process, and 61 classes for cattrs to compile: walked instead (once.py); so are
    # the initialize request around them and the initialized notification: before the first
    # status, cattrs generates nothing
    once = structure_once(converter, default_converter)
    for message in ONCE_STRUCTURED:
        converter.register_structure_hook(message, once)
    # The same walk writes what is written once: initialize's result, and each feature's options,
    # which pygls checks at registration by writing them with the converter (its `is_instance`):
    # six more generated functions at start-up (3 to 5 ms) otherwise. once.py is installed here
    # only: these hooks and the structure hooks above.
    for cls in ONCE_UNSTRUCTURED:
        converter.register_unstructure_hook(cls, lambda value: unstructure_once(value, converter))
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
    """pygls's protocol, where it must differ (pygls 2.1, `JsonRPCProtocol`; each override says
    which of its behaviours it works around):

    - the capabilities pygls builds from the registered features are fitted to the client's,
      and documents break lines where the client does (`lsp_initialize`);
    - no message body is ever logged, and results and notifications that are plain JSON dicts
      (all of ours) are sent as they are: pygls walks every value of a dict result through
      cattrs, which makes a 50-model listing over 50 000 models 1.34x slower (interleaved runs,
      benchmarks/ab_servers.py; the one speed trick here that moves a figure users see);
    - a request after `shutdown` is answered with an error, not dropped;
    - the client's unanswered requests are counted, for the bound on what a client that stops
      reading can make the server hold (`room`);
    - a notification handler's failure is logged once, by method, and the futures pygls files
      for notifications are forgotten once done (pygls keeps them for the process's life).
    """

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
        # pygls's logs each body it sends (at INFO): a hover or a diagnostic of the config may
        # quote it. This one logs none, and writes compact JSON (a listing of 50 models is 8%
        # fewer bytes to write and for the client to parse).
        if not data:
            return
        if self.writer is None:
            log.error("no transport to send a message on")
            return
        try:
            body = json.dumps(
                data, default=self._serialize_message, separators=(",", ":"), check_circular=False
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
        return super()._serialize_message(data)  # InitializeResult: the converter's once.py hook

    def handle_message(self, message: Any) -> None:
        self.last_message = time.monotonic()  # when the client last spoke (start-up's end waits)
        is_request = hasattr(message, "method") and hasattr(message, "id")
        if self._shutdown and is_request and message.method != types.EXIT:
            # pygls drops it with a warning: the client would wait for good
            log.warning("refused %r after shutdown", message.method)
            self.send_raw(
                _error_response(message.id, -32600, "Invalid Request: the server is shutting down")
            )
            return
        if is_request and message.jsonrpc == self.VERSION:
            self._in_flight += 1  # until its one response is out (_send_response)
        super().handle_message(message)

    def _handle_notification(self, method_name: str, params: Any) -> None:
        self._notifying = method_name  # named by _notification_done if its handler fails
        super()._handle_notification(method_name, params)

    def _notification_done(self, method: str) -> Callable[[Any], None]:
        """A notification has nobody to answer: a handler refusing its params (a JSON-RPC error:
        the client's mistake) is one warning naming the method; any other failure is ours."""

        def done(future: Any) -> None:
            if future.cancelled() or (error := future.exception()) is None:
                return
            if isinstance(error, JsonRpcException):
                log.warning("dropped a notification to %r: %s", method, error)
            else:
                self._check_handler_result(future)

        return done

    def _execute_handler(
        self,
        msg_id: Any,
        handler: Any,
        callback: Any,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        if callback == self._check_handler_result:
            callback = self._notification_done(self._notifying)
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        # pygls 2.1 files the future of a notification's async or generator handler (didOpen,
        # didChange: every keystroke) and of each step of a generator handler (executeCommand
        # runs the command that way) under a fresh uuid, and never removes it: forget each
        # once it is done. (A request's own is removed when its response is sent.)
        future = self._request_futures.get(msg_id)
        if future is not None and getattr(callback, "func", None) != self._send_handler_result:
            future.add_done_callback(lambda done: self._forget(msg_id, done))

    def _forget(self, msg_id: Any, future: Any) -> None:
        if self._request_futures.get(msg_id) is future:
            del self._request_futures[msg_id]

    _answered: asyncio.Event | None = None
    _in_flight = 0  # the client's requests not answered yet
    _notifying = ""
    last_message = 0.0

    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        try:
            super()._send_response(msg_id, result=result, error=error)
        finally:
            self._in_flight = max(0, self._in_flight - 1)
            if self._answered is not None:
                self._answered.set()

    async def room(self) -> None:
        """Wait while MAX_IN_FLIGHT of the client's requests are unanswered: with the write
        buffer's high-water mark, what a client that stops reading can make the server hold has
        a bound. (The server's own requests, a question the client may never answer, do not
        count: they would stop the reading for good.)"""
        while self._in_flight >= MAX_IN_FLIGHT:
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


async def _serve_stdio(server: LanguageServer, stdin: Any, stdout: Any) -> None:
    loop = asyncio.get_running_loop()
    drained: Callable[[], Awaitable[None]] | None = None
    pipes = platform.loop_takes_pipes(loop)
    try:
        if not pipes:
            raise NotImplementedError
        # Non-blocking writes: a response never waits on the client reading the pipe.
        transport, flow = await loop.connect_write_pipe(_Flow, stdout)
        drained = flow.wait
        server.protocol.set_writer(_PipeWriter(transport, drained))
    except (ValueError, OSError, NotImplementedError):
        server.protocol.set_writer(StdoutWriter(stdout))
    stream = asyncio.StreamReader(limit=MAX_HEADER_LINE)
    try:
        if not pipes:
            raise NotImplementedError("the event loop cannot read pipes")
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
    except (ValueError, OSError, NotImplementedError) as exc:
        # Windows' Proactor loop, a regular file, an odd stdin: a thread reads it into the same
        # bounded reader (pygls's start_io reads on a thread too)
        log.info("reading stdin on a thread (%s)", exc or "the event loop cannot read pipes")
        _read_on_thread(stream, stdin, loop)
    await serve_messages(server, stream, drained)


_STDIN_CHUNK = 64 * 1024


class _ThreadFeed(asyncio.ReadTransport):
    """What the thread reading stdin is to its StreamReader: a transport the reader pauses above
    twice its limit and resumes below it, as it does a pipe's."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.go.set()
        self._closing = False

    def pause_reading(self) -> None:
        self.go.clear()

    def resume_reading(self) -> None:
        self.go.set()

    def is_reading(self) -> bool:
        return self.go.is_set()

    def close(self) -> None:
        self._closing = True
        self.go.set()

    def is_closing(self) -> bool:
        return self._closing


def _read_on_thread(stream: asyncio.StreamReader, stdin: Any, loop: Any) -> None:
    """Read `stdin` on a daemon thread, each chunk handed to `stream` on the loop before the next
    is read: the reader holds no more than it would from a pipe (a chunk past its pause)."""
    feed = _ThreadFeed()
    stream.set_transport(feed)
    read = getattr(stdin, "read1", None) or stdin.read
    fed = threading.Event()

    def give(chunk: bytes) -> None:
        try:
            stream.feed_data(chunk)
        finally:
            fed.set()

    def run() -> None:
        try:
            while not feed.is_closing():
                feed.go.wait()
                chunk = read(_STDIN_CHUNK)
                if not chunk:
                    break
                fed.clear()
                loop.call_soon_threadsafe(give, chunk)
                fed.wait()
        except (OSError, ValueError) as exc:
            log.error("reading stdin failed: %s", exc)
        except RuntimeError:  # the loop closed: the server is ending
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(stream.feed_eof)

    threading.Thread(target=run, name="tuna-lsp stdin", daemon=True).start()


def _refused(raw: dict[str, Any], server: LanguageServer) -> tuple[Any, str] | None:
    """A message no handler may take, as (the error response to send or None, the warning to
    log): every request gets exactly one response, a notification none."""
    method, has_id = raw.get("method"), "id" in raw
    if has_id and method is not None:
        msg_id = raw["id"]
        if not (msg_id is None or type(msg_id) in (int, float, str)):
            problem = (
                f"the id of a request must be a number or a string, not {type(msg_id).__name__}"
            )
            return _error_response(None, -32600, f"Invalid Request: {problem}"), problem
        if raw.get("jsonrpc") != "2.0":
            problem = f'{method!r}: jsonrpc must be "2.0"'
            return _error_response(msg_id, -32600, f"Invalid Request: {problem}"), problem
        return None
    if method is None:
        return None  # a response: pygls matches it with the request it answers
    if raw.get("jsonrpc") != "2.0":
        return None, f'dropped a notification to {method!r}: jsonrpc is not "2.0"'
    if _is_request_method(method, server):
        return None, f"dropped a notification to {method!r}: it is a request (needs an id)"
    return None


def _is_request_method(method: str, server: LanguageServer) -> bool:
    known = types.METHOD_TO_TYPES.get(method)
    if known is not None:
        return known[1] is not None  # a response type: a request
    # our own methods (tuna/*): the client sends only requests
    return method in server.protocol.fm.features


def _unfit(exc: Exception) -> str:
    """What did not fit, in cattrs's words, the path in the wire's names ("required field
    missing @ $.params.textDocument": cattrs names lsprotocol's attributes, text_document)."""
    cause = exc.__cause__
    if isinstance(cause, BaseValidationError):
        said = [_WHERE.sub(_camel_path, line) for line in transform_error(cause, path="$")]
        return "; ".join(said)[:300]
    return str(cause or exc)[:300]


_WHERE = re.compile(r"@ \$\S*")


def _camel_path(where: re.Match[str]) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), where.group(0))


# pygls logs a message that does not fit its method at ERROR with a traceback; it is the client's
# error, answered (a request) or warned about (a notification) by serve_messages.
_rpc_log.addFilter(lambda record: not str(record.msg).startswith("Unable to deserialize message"))


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


_SKIPPED = b""  # _read_body: a frame was dropped (and answered); read the next


async def _read_header(reader: Any) -> tuple[int | None, str | None, int] | None:
    """The next frame's header: its Content-Length (None: none, or not a number), what was wrong
    with it, and how many header lines it had; None at EOF."""
    length: int | None = None
    problem: str | None = None
    headers = 0
    while True:
        try:
            line = await _header_line(reader)
        except _BadFrame as exc:
            problem = str(exc)
            continue
        if not line:
            return None
        if not line.strip():
            return length, problem, headers
        headers += 1
        # resynchronise after a bad frame whose body ran into the next header
        at = line.lower().find(b"content-length:")
        name, _, value = line[max(at, 0) :].partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                length = None
                problem = f"Content-Length {value.strip()[:40]!r} is not a number"


async def _read_body(reader: Any, reply: Callable[[dict[str, Any]], None]) -> bytes | None:
    """The body of the next frame; _SKIPPED when a bad frame was answered (through `reply`) and
    skipped; None at EOF. Header lines and bodies have caps: a bad frame is never held."""
    header = await _read_header(reader)
    if header is None:
        return None
    length, problem, headers = header
    if length is not None and length > MAX_BODY:
        # Answered before the body is skipped: the body may never come in full.
        problem = f"a message of {length} bytes is larger than the {MAX_BODY // 2**20} MiB limit"
        log.warning("dropped a frame: %s", problem)
        reply(_error_response(None, -32600, f"Invalid Request: {problem}"))
        await _skip(reader, length)
        return _SKIPPED
    if problem is None and length is None and headers:
        # its body, if any, runs into the next header, found again there
        problem = "a frame without Content-Length; expected 'Content-Length: <bytes>' first"
    elif problem is None and length is not None and length <= 0:
        problem = f"Content-Length {length}; expected the body's size in bytes, at least 2"
    if problem is not None:
        if length is not None and length > 0:
            await _skip(reader, length)
        log.warning("dropped a frame: %s", problem)
        reply(_error_response(None, -32700, f"Parse error: {problem}"))
        return _SKIPPED
    if length is None:
        return _SKIPPED  # a blank line alone between frames says nothing: passed over
    try:
        body: bytes = await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        return None
    return body


def _parse(body: bytes, reply: Callable[[dict[str, Any]], None]) -> dict[str, Any] | None:
    """The message as a JSON object, or None once a body that is not one was answered."""
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError) as exc:
        log.warning("dropped a message that is not JSON: %s", exc)
        # JSON-RPC answers a parse error with id null; a client waits on its own id,
        # so give it back when the text still shows it.
        reply(_error_response(_id_in(body), -32700, f"Parse error: {exc}"))
        return None
    if not isinstance(raw, dict):
        reply(_error_response(None, -32600, "Invalid Request: not an object"))
        return None
    return raw


async def serve_messages(
    server: LanguageServer,
    reader: Any,
    drained: Callable[[], Awaitable[None]] | None = None,
    first: dict[str, Any] | None = None,
) -> None:
    """Read framed messages until EOF or `exit` (`first`: a message read already, the
    initialize of an authenticated connection). Unlike pygls's loop, the JSON is parsed first
    and only the top level is structured: a param that happens to look like a JSON-RPC message
    stays data, and a request that cannot be structured still gets an error response.

    Bounded: header lines and bodies have caps (a bad frame is answered and skipped), and while
    the client leaves more than WRITE_HIGH_WATER of replies unread, nothing more is read."""
    stop = server._stop_event
    assert stop is not None
    protocol = server.protocol
    assert isinstance(protocol, TunaProtocol)
    take = _Dispatch(server, protocol)
    if first is not None:
        take(first)
    while not stop.is_set():
        if drained is not None:
            await drained()
        await protocol.room()
        body = await _read_body(reader, protocol.send_raw)
        if body is None:
            return
        if body is not _SKIPPED and (raw := _parse(body, protocol.send_raw)) is not None:
            take(raw)


class _Dispatch:
    """Hands each parsed message to pygls, or answers it when no handler may take it."""

    def __init__(self, server: LanguageServer, protocol: TunaProtocol) -> None:
        self.server = server
        self.protocol = protocol
        self.initialized = False

    def __call__(self, raw: dict[str, Any]) -> None:
        protocol = self.protocol
        if not isinstance(raw.get("method", ""), str) or not {"method", "id"} & raw.keys():
            if "id" in raw:
                protocol.send_raw(
                    _error_response(raw["id"], -32600, "Invalid Request: method must be a string")
                )
            log.warning("dropped a message that is no request, notification or response")
            return
        if (refused := _refused(raw, self.server)) is not None:
            response, reason = refused
            if response is not None:
                protocol.send_raw(response)
            log.warning("%s", reason)
            return
        # One initialize per server (PROTOCOL.md 1): a second must not re-point the config.
        if self.initialized and raw.get("method") == "initialize" and "id" in raw:
            log.warning("refused a second initialize")
            protocol.send_raw(
                _error_response(
                    raw["id"],
                    -32600,
                    "Invalid Request: the server is already initialized; one initialize per server",
                )
            )
            return
        if raw.get("method") == "initialized" and raw.get("params") is None:
            # JSON-RPC lets a notification leave its params out; lsprotocol's type requires
            # them (InitializedParams, an empty object), and the window would never start
            raw["params"] = {}
        try:
            message = protocol.structure_message(raw)
        except Exception as exc:
            reason = _unfit(exc)
            method = str(raw.get("method"))[:80]
            if "id" in raw and "method" in raw:
                protocol.send_raw(
                    _error_response(
                        raw["id"], -32602, f"Invalid params for {method}: {reason}"[:500]
                    )
                )
            kind = "request" if "id" in raw else "notification"
            log.warning("dropped a %s to %r that does not fit its method: %s", kind, method, reason)
            return
        if raw.get("method") == "initialize" and "id" in raw:
            self.initialized = True
        try:
            protocol.handle_message(message)
        except Exception as exc:  # a response with an object for an id, say: never fatal
            log.warning("dropped a message no handler could take: %r", exc)
