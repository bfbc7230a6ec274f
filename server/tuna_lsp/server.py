"""The language server object: a thin pygls `LanguageServer` that features register onto.

Owns the events between features and the background tasks; `transport.py` owns the wire. The
features (`features/`) own everything else; `setup.py` builds them and hands each its dependencies.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from pygls.exceptions import FeatureNotificationError, JsonRpcException
from pygls.lsp.server import LanguageServer

from . import __version__
from .events import Events
from .protocol import REQUEST_PARAMS, structured_command, structured_request
from .transport import TunaProtocol, converter_factory, serve_stdio

log = logging.getLogger(__name__)


class TunaLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "tuna-lsp", __version__, protocol_cls=TunaProtocol, converter_factory=converter_factory
        )
        self.events = Events()
        self._tasks: set[asyncio.Task[Any]] = set()

    def handle(self, method: str, handler: Callable[..., Any], options: Any = None) -> None:
        """Register a feature's bound method for an LSP or tuna/* method; a tuna/* handler takes
        its params structured (protocol.REQUEST_PARAMS). (pygls tags what it registers with
        attributes, which a bound method cannot take: a partial can.)"""
        if method in REQUEST_PARAMS:
            handler = structured_request(method, handler)
        self.feature(method, options)(functools.partial(handler))

    def handle_command(self, name: str, handler: Callable[[Any], Any]) -> None:
        """Register a command's handler: it takes the arguments structured (protocol.COMMANDS)."""
        self.command(name)(functools.partial(structured_command(name, handler)))

    def run_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run in the background, keeping a reference (the loop keeps only a weak one) and
        logging a failure instead of losing it."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def after_response(self, effect: Callable[[], None]) -> None:
        """Run `effect` once the response to the request being handled is out. pygls sends an
        async handler's response from its task's done-callback, queued when the handler's last
        step ends, so one loop turn later; a sync handler's at once. The effect is queued two
        turns on from that step: after the response in either case (tests/unit/test_in_process.py
        holds the order). Failures are logged, never lost."""

        def run() -> None:
            try:
                effect()
            except Exception:
                log.exception("an effect after the response failed")

        loop = asyncio.get_running_loop()
        loop.call_soon(loop.call_soon, run)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background task %r failed: %s", task.get_name(), exc, exc_info=exc)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # Expected failures are answered as JSON-RPC errors; log the rest, never pop up tracebacks.
        if source is FeatureNotificationError or not isinstance(error, JsonRpcException):
            # a notification has nobody to answer: its failure is ours to report
            log.error("internal error: %s", error, exc_info=error)
        else:
            log.debug("request failed: %s", error)

    # ---- transport (transport.py owns the wire) --------------------------------------------

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        serve_stdio(self, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer)

    def start_tcp(self, host: str, port: int, token_file: str | None = None) -> None:
        if token_file is None:  # pygls's signature; TCP is never served without its token
            raise SystemExit("tuna-lsp: TCP needs a token file (--token-file)")
        from .sockets import serve_tcp  # --tcp only: OpenSSL, which stdio never needs (sockets.py)

        serve_tcp(self, host, port, token_file)

    def start_unix(self, path: str) -> None:
        from .sockets import serve_unix  # --socket only, as start_tcp's

        serve_unix(self, path)

    def shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        super().shutdown()  # type: ignore[no-untyped-call]
