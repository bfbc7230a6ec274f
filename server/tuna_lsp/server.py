"""The language server object: a thin pygls `LanguageServer` that features register onto.

Owns the server-wide objects (options, the model service, the catalog loader, the watcher), and
sending `tuna/modelChanged` only when something changed.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any

from pygls.exceptions import FeatureNotificationError, JsonRpcException
from pygls.lsp.server import LanguageServer

from . import __version__
from .initialization_options import InitializationOptions
from .transport import TunaProtocol, converter_factory, serve_stdio, serve_tcp, serve_unix
from .wire import state_to_wire

if TYPE_CHECKING:  # at start-up only what the first status needs is imported
    from .core.catalog import Catalog
    from .core.model_service import ModelService, ModelState
    from .storage.config_watcher import ConfigWatcher

log = logging.getLogger(__name__)


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
        if source is FeatureNotificationError or not isinstance(error, JsonRpcException):
            # a notification has nobody to answer: its failure is ours to report
            log.error("internal error: %s", error, exc_info=error)
        else:
            log.debug("request failed: %s", error)

    # ---- transport (transport.py owns the wire) --------------------------------------------

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        serve_stdio(self, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer)

    def start_tcp(self, host: str, port: int) -> None:
        serve_tcp(self, host, port)

    def start_unix(self, path: str) -> None:
        serve_unix(self, path)

    def shutdown(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        super().shutdown()  # type: ignore[no-untyped-call]
