"""The catalog feature: loads the model catalog off the start-up path (after the first status, in a
worker thread), refreshes it on request (`tuna/refreshCatalog`, command `tuna.refreshCatalog`) or
once a day when the user asked for that, and announces every new catalog as `CATALOG_LOADED`.

It is the one owner of "the catalog in use": the model service and the documents read it from
here (`current`, `wait`), never keep a copy of their own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from .. import memory
from ..events import CATALOG_LOADED, Events
from ..initialization_options import InitializationOptions
from ..private_path import trusted_dir
from ..protocol import RefreshCatalogParams, RefreshCatalogResult, RequestFailed

if TYPE_CHECKING:
    from ..core.catalog import Catalog
    from ..server import TunaLanguageServer

log = logging.getLogger(__name__)
AUTO_REFRESH_AGE_S = 24 * 3600
REFRESH_WORKERS = 2
# After searches, this long without another (longer than a pause between keystrokes in a picker):
# the server goes back to its idle size.
SETTLE_AFTER_SEARCH_S = 0.3


def cache_dir() -> Path:
    """The catalog's cache (snapshot and index), if it is this user's own; else a private
    folder (checked once, and told, at initialize: features/model.py)."""
    return trusted_dir(Path(platformdirs.user_cache_dir("tunacode")), "cache")[0]


class CatalogFeature:
    def __init__(self, server: TunaLanguageServer, events: Events) -> None:
        self.server = server
        self.events = events
        self.options = InitializationOptions()
        self._future: asyncio.Future[Catalog | None] | None = None
        self.current: Catalog | None = None
        # Downloads get a pool of their own: stuck ones never starve the catalog load or others.
        self._refresh_pool: ThreadPoolExecutor | None = None
        self._refreshing = 0
        self._settle: asyncio.TimerHandle | None = None

    def register(self) -> None:
        self.server.handle("tuna/refreshCatalog", self.refresh_request)
        self.server.handle_command("tuna.refreshCatalog", self.refresh_command)

    # ---- the catalog in use ------------------------------------------------------------------

    def start(self, options: InitializationOptions) -> None:
        """Begin loading (once), and a refresh if the user asked for daily ones and the snapshot
        is older than a day; called after the first status is out."""
        self.options = options
        self._load(auto_refresh=options.catalog_auto_refresh)

    async def wait(self) -> Catalog | None:
        """The catalog, once loaded (None if it could not be)."""
        return await asyncio.shield(self._load())

    def _load(self, auto_refresh: bool = False) -> asyncio.Future[Catalog | None]:
        # the catalog (sqlite3, the index) is loaded after the first status, never before
        from ..core.catalog import index_path, open_catalog, snapshot_age_s

        if self._future is None:
            include = self.options.include_tunacode_registry

            async def load() -> Catalog | None:
                t0 = time.perf_counter()
                cache = cache_dir()
                try:
                    if not index_path(cache, include).is_file():  # built once per set of sources
                        loop = asyncio.get_running_loop()
                        catalog = await loop.run_in_executor(
                            None, lambda: open_catalog(cache, include_tunacode=include)
                        )
                    else:
                        # The index is there: opening it takes a few ms, and needs no thread
                        # (nor the memory one costs).
                        catalog = open_catalog(cache, include_tunacode=include)
                except Exception:
                    log.exception("the model catalog could not be loaded; validation is limited")
                    return None
                log.info(
                    "catalog loaded in %.0f ms: %s",
                    (time.perf_counter() - t0) * 1000,
                    ", ".join(f"{s.name} {s.version}" for s in catalog.sources),
                )
                return catalog

            fut = asyncio.ensure_future(load())
            self._future = fut
            fut.add_done_callback(self._loaded)
        if auto_refresh:
            age = snapshot_age_s(cache_dir())
            if age is None or age >= AUTO_REFRESH_AGE_S:  # no snapshot yet, or a day old
                self.server.run_task(self._auto_refresh(), "catalog auto-refresh")
        return self._future

    def _loaded(self, fut: asyncio.Future[Catalog | None]) -> None:
        if fut.cancelled() or fut is not self._future:
            return  # a refresh replaced this load
        self.current = fut.result()
        self.events.emit(CATALOG_LOADED, self.current)
        # start-up ends here (memory.py: a collection, a freeze, the heap handed back), not
        # before those waiting for the catalog are served
        memory.after_start_up(lambda: getattr(self.server.protocol, "last_message", 0.0))

    def searched(self) -> None:
        """A search ran: once searches stop for a moment, hand back what they took (sqlite's
        page cache, the heap's free pages), so a picker session leaves an idle server idle-sized
        (every editor window has a server)."""
        if self._settle is not None:
            self._settle.cancel()
        self._settle = asyncio.get_running_loop().call_later(SETTLE_AFTER_SEARCH_S, self._shrink)

    def _shrink(self) -> None:
        self._settle = None
        if self.current is not None:
            self.current.shrink_memory()
        memory.give_back_heap()

    # ---- refresh -----------------------------------------------------------------------------

    async def refresh_request(self, params: RefreshCatalogParams) -> RefreshCatalogResult:
        return await self.refresh(params.url)

    async def refresh_command(self, params: RefreshCatalogParams) -> RefreshCatalogResult:
        return await self.refresh(params.url)

    async def refresh(self, url: str | None) -> RefreshCatalogResult:
        # urllib, on a refresh only (the snapshot's name comes along: one import)
        from ..core.catalog.refresh import (
            READ_TIMEOUT_S,
            SNAPSHOT_NAME,
            TOTAL_TIMEOUT_S,
            RefreshError,
            refresh_snapshot,
        )

        cache = cache_dir()
        url = url or self.options.catalog_url
        data = {"reason": "io-error", "path": str(cache / SNAPSHOT_NAME)}
        if self._refreshing >= REFRESH_WORKERS:  # never a queue of downloads behind stuck ones
            raise RequestFailed(
                f"The catalog was not refreshed: {self._refreshing} refreshes are already "
                "running; try again when they finish. The catalog in use is unchanged.",
                data=data,
            )
        if self._refresh_pool is None:
            self._refresh_pool = ThreadPoolExecutor(
                REFRESH_WORKERS, thread_name_prefix="tuna-refresh"
            )
        cancelled = threading.Event()
        loop = asyncio.get_running_loop()
        self._refreshing += 1
        try:
            path, count = await asyncio.wait_for(
                loop.run_in_executor(self._refresh_pool, refresh_snapshot, url, cache, cancelled),
                TOTAL_TIMEOUT_S + READ_TIMEOUT_S,
            )
        except TimeoutError as exc:
            cancelled.set()  # a late finish installs nothing
            log.warning("catalog refresh from %s timed out", url)
            raise RequestFailed(
                f"The catalog was not refreshed: {url} did not finish within "
                f"{TOTAL_TIMEOUT_S + READ_TIMEOUT_S:g} s. The catalog in use is unchanged.",
                data=data,
            ) from exc
        except RefreshError as exc:
            log.warning("catalog refresh failed: %s", exc)
            raise RequestFailed(
                f"The catalog was not refreshed: {exc}. The catalog in use is unchanged.",
                data=data,
            ) from exc
        finally:
            self._refreshing -= 1
        self._future = None
        catalog = await self.wait()
        log.info("catalog refreshed from %s: %d providers", url, count)
        return {
            "path": str(path),
            "providers": count,
            "catalog": catalog.describe if catalog else None,
        }

    async def _auto_refresh(self) -> None:
        await self.wait()
        try:
            await self.refresh(None)
        except Exception as exc:  # reported in the log; the catalog in use stays
            log.warning("background catalog refresh failed: %s", exc)
