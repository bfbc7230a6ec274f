"""Events between features: one feature announces, others react, and neither imports the other.

Synchronous and in-process: a handler runs on the event loop when the event is emitted, and a
failing handler is logged without stopping the others. Must not import lsprotocol.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

CATALOG_LOADED = "catalog-loaded"  # (catalog: Catalog | None): loaded at start or refreshed
STATE_PUBLISHED = "state-published"  # (state: ModelState): a tuna/modelChanged was sent


class Events:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Callable[..., None]]] = {}

    def subscribe(self, name: str, handler: Callable[..., None]) -> None:
        self._handlers.setdefault(name, []).append(handler)

    def emit(self, name: str, *args: Any) -> None:
        for handler in self._handlers.get(name, ()):
            try:
                handler(*args)
            except Exception:
                log.exception("a handler of %s failed", name)
