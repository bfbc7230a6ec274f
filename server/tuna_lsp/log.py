"""Logging: Python `logging` to stderr or a file, and to the client as `window/logMessage`.

Nothing is ever logged to stdout (it carries the protocol). Messages are built from model strings,
paths and error causes only, never from `env` values.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from .server import TunaLanguageServer

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str, log_file: str | None) -> None:
    handler: logging.Handler
    handler = (
        logging.FileHandler(log_file, encoding="utf-8")
        if log_file
        else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.upper())
    if root.level > logging.DEBUG:
        logging.getLogger("pygls").setLevel(max(root.level, logging.WARNING))
        # pygls logs every error response with a traceback; ours are expected and answered.
        # Internal errors are logged by TunaLanguageServer.report_server_error.
        logging.getLogger("pygls.protocol.json_rpc").setLevel(logging.CRITICAL)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)


class ClientLogHandler(logging.Handler):
    """Forwards records to the client's log (VS Code's output channel, Neovim's lsp.log). Made on
    the event loop's thread; a record logged on another (the catalog's build, a write waiting
    for the lock) is handed to the loop: the transport is not thread-safe, and two threads
    writing to it at once could interleave two messages' bytes."""

    def __init__(self, server: TunaLanguageServer) -> None:
        super().__init__(logging.INFO)
        self.server = server
        self._emitting = False
        self._client_loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("pygls"):
            return
        try:
            message = self.format(record)
        except Exception:
            return
        if threading.get_ident() == self._thread:
            self._send(record.levelno, message)
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed: the server is ending
                self._client_loop.call_soon_threadsafe(self._send, record.levelno, message)

    def _send(self, levelno: int, message: str) -> None:
        if self._emitting:
            return
        self._emitting = True
        try:
            level = types.MessageType.Log
            if levelno >= logging.ERROR:
                level = types.MessageType.Error
            elif levelno >= logging.WARNING:
                level = types.MessageType.Warning
            elif levelno >= logging.INFO:
                level = types.MessageType.Info
            self.server.window_log_message(types.LogMessageParams(type=level, message=message))
        except Exception:
            pass
        finally:
            self._emitting = False
