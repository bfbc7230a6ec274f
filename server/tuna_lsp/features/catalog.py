"""The catalog features: `tuna/listModels` (and the `tuna.listModels` command),
`tuna/setProviderPreference`, `tuna/refreshCatalog` (and `tuna.refreshCatalog`), and loading the
catalog off the start-up path: after the first status, in a worker thread (PROTOCOL.md 4 and 5).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams

from ..core.model_string import PROVIDER_RE, ModelStringError, canonical_id, check_model_id
from ..server import TunaLanguageServer
from ..wire import model_info_to_wire, state_to_wire
from .params import RequestFailed, int_param, params_object, service_of, str_param

if TYPE_CHECKING:
    from ..core.catalog import Catalog

log = logging.getLogger(__name__)
AUTO_REFRESH_AGE_S = 24 * 3600


def register(server: TunaLanguageServer) -> None:
    @server.feature("tuna/listModels")
    async def list_models(ls: TunaLanguageServer, params: Any) -> dict[str, Any]:
        p = params_object(params, "tuna/listModels")
        return await do_list(
            ls,
            str_param(p, "query", "tuna/listModels"),
            str_param(p, "provider", "tuna/listModels"),
            int_param(p, "limit", 50, 1, 1000, "tuna/listModels"),
            int_param(p, "offset", 0, 0, 1_000_000, "tuna/listModels"),
        )

    @server.command("tuna.listModels")
    async def list_models_command(ls: TunaLanguageServer, *args: Any) -> dict[str, Any]:
        if len(args) > 1 or (args and args[0] is not None and not isinstance(args[0], str)):
            raise JsonRpcInvalidParams("tuna.listModels: expected [] or [query] (a string)")
        if args and args[0] is not None and len(args[0]) > 512:
            raise JsonRpcInvalidParams("tuna.listModels: query must be at most 512 characters")
        return await do_list(ls, args[0] if args else None, None, 50, 0)

    @server.feature("tuna/setProviderPreference")
    async def set_provider_preference(ls: TunaLanguageServer, params: Any) -> dict[str, Any]:
        method = "tuna/setProviderPreference"
        p = params_object(params, method)
        model, providers = p.get("model"), p.get("providers")
        if not isinstance(model, str) or not model.strip() or len(model) > 256:
            raise JsonRpcInvalidParams(
                f"{method}: model must be a model id; expected e.g. {{model: 'gpt-4.1', "
                "providers: ['openrouter', 'openai']}"
            )
        if (
            not isinstance(providers, list)
            or not providers
            or len(providers) > 64
            or not all(isinstance(x, str) and PROVIDER_RE.fullmatch(x) for x in providers)
        ):
            raise JsonRpcInvalidParams(
                f"{method}: providers must be a non-empty list of provider ids; expected e.g. "
                "['openrouter', 'openai']"
            )
        canonical = canonical_id(model.split(":", 1)[-1].strip())
        try:  # it becomes a key of preferences.toml: the rules of a model id apply
            check_model_id(canonical, whole=model)
        except ModelStringError as exc:
            raise JsonRpcInvalidParams(f"{method}: {exc}") from exc
        service = service_of(ls)
        catalog = await wait_catalog(ls)
        if catalog is not None:
            for prov in providers:
                if prov not in catalog.providers:
                    close = catalog.closest_providers(prov)
                    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                    raise JsonRpcInvalidParams(f"{method}: unknown provider {prov!r}{hint}")
        deduped = list(dict.fromkeys(providers))
        from ..storage.preferences import PreferencesError

        prefs = service.preferences
        if prefs is None:
            raise JsonRpcInvalidParams(f"{method}: the server is not initialized yet")
        try:
            prefs.set_providers(canonical, deduped)
        except PreferencesError as exc:
            raise RequestFailed(
                f"Could not save the provider preference: {exc}. Nothing was changed.",
                data={"reason": "invalid-config", "path": str(exc.path)},
            ) from exc
        return {"model": canonical, "providers": deduped, "path": str(prefs.path)}

    @server.feature("tuna/refreshCatalog")
    async def refresh_catalog(ls: TunaLanguageServer, params: Any) -> dict[str, Any]:
        p = params_object(params, "tuna/refreshCatalog")
        return await do_refresh(ls, str_param(p, "url", "tuna/refreshCatalog"))

    @server.command("tuna.refreshCatalog")
    async def refresh_catalog_command(ls: TunaLanguageServer, *args: Any) -> dict[str, Any]:
        if len(args) > 1 or (args and not isinstance(args[0], str)):
            raise JsonRpcInvalidParams("tuna.refreshCatalog: expected [] or [url]")
        return await do_refresh(ls, args[0] if args else None)


async def do_list(
    ls: TunaLanguageServer, query: str | None, provider: str | None, limit: int, offset: int
) -> dict[str, Any]:
    service = service_of(ls)
    catalog = await wait_catalog(ls)
    state = service.state("client")
    if catalog is None:
        return {"items": [], "total": 0, "catalog": None}
    keys: dict[str, bool] = {}

    def key_status(p: str) -> bool:
        if p not in keys:
            keys[p] = service.has_key(p)
        return keys[p]

    items, total = catalog.search(
        query,
        keyed=key_status,
        provider=provider,
        limit=limit,
        offset=offset,
        current=state.model,
        recents=state.recent_models,
    )
    return {
        "items": [
            model_info_to_wire(
                i, catalog, current=state.model, recents=state.recent_models, key_status=key_status
            )
            for i in items
        ],
        "total": total,
        "catalog": catalog.describe,
    }


_refresh_pool: ThreadPoolExecutor | None = None
REFRESH_WORKERS = 2  # its own: stuck downloads never starve the catalog load or other work
_refreshing = 0


async def do_refresh(ls: TunaLanguageServer, url: str | None) -> dict[str, Any]:
    global _refresh_pool, _refreshing
    from ..core.catalog import SNAPSHOT_NAME
    from ..storage.catalog_refresh import (  # urllib: not at start-up
        READ_TIMEOUT_S,
        TOTAL_TIMEOUT_S,
        RefreshError,
        refresh_snapshot,
    )

    cache = cache_dir()
    url = url or ls.options.catalog_url
    loop = asyncio.get_running_loop()
    if _refresh_pool is None:
        _refresh_pool = ThreadPoolExecutor(REFRESH_WORKERS, thread_name_prefix="tuna-refresh")
    cancelled = threading.Event()
    data = {"reason": "io-error", "path": str(cache / SNAPSHOT_NAME)}
    if _refreshing >= REFRESH_WORKERS:  # never a queue of downloads behind stuck ones
        raise RequestFailed(
            f"The catalog was not refreshed: {_refreshing} refreshes are already running; "
            "try again when they finish. The catalog in use is unchanged.",
            data=data,
        )
    _refreshing += 1
    try:
        path, count = await asyncio.wait_for(
            loop.run_in_executor(_refresh_pool, refresh_snapshot, url, cache, cancelled),
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
            f"The catalog was not refreshed: {exc}. The catalog in use is unchanged.", data=data
        ) from exc
    finally:
        _refreshing -= 1
    ls.catalog_future = None
    catalog = await wait_catalog(ls)
    log.info("catalog refreshed from %s: %d providers", url, count)
    return {"path": str(path), "providers": count, "catalog": catalog.describe if catalog else None}


def maybe_auto_refresh(ls: TunaLanguageServer) -> None:
    if not ls.options.catalog_auto_refresh:
        return
    from ..storage.catalog_refresh import snapshot_age_s

    age = snapshot_age_s(cache_dir())
    if age is not None and age < AUTO_REFRESH_AGE_S:
        return

    async def run() -> None:
        await wait_catalog(ls)
        try:
            await do_refresh(ls, None)
        except Exception as exc:  # reported in the log; the catalog in use stays
            log.warning("background catalog refresh failed: %s", exc)

    asyncio.get_running_loop().create_task(run())


# ---- loading, off the start-up path -------------------------------------------------------


def cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("tunacode"))


def start_catalog(ls: TunaLanguageServer) -> asyncio.Future[Catalog | None]:
    if ls.catalog_future is None:
        loop = asyncio.get_running_loop()
        include = ls.options.include_tunacode_registry
        from ..core.catalog import load_catalog

        def load() -> Catalog | None:
            t0 = time.perf_counter()
            try:
                catalog = load_catalog(cache_dir(), include_tunacode=include)
            except Exception:
                log.exception("the model catalog could not be loaded; validation is limited")
                return None
            log.info(
                "catalog loaded in %.0f ms: %s",
                (time.perf_counter() - t0) * 1000,
                ", ".join(f"{s.name} {s.version}" for s in catalog.sources),
            )
            return catalog

        fut = loop.run_in_executor(None, load)
        ls.catalog_future = fut
        fut.add_done_callback(lambda f: on_catalog(ls, f))
    return ls.catalog_future


def on_catalog(ls: TunaLanguageServer, fut: asyncio.Future[Catalog | None]) -> None:
    if fut.cancelled() or ls.service is None or fut is not ls.catalog_future:
        return
    catalog = fut.result()
    ls.service.set_catalog(catalog)
    # With the catalog, a key's env var may differ from the guess made without it: that is a
    # change of the state. Names and limits arriving for the same model are not: they come as
    # tuna/catalogChanged, so a client counting tuna/modelChanged sees exactly the changes.
    state = ls.service.state(ls.last_origin)  # type: ignore[arg-type]
    ls.publish_state(state)
    ls.protocol.notify(
        "tuna/catalogChanged",
        {"catalog": catalog.describe if catalog else None, "state": state_to_wire(state)},
    )
    from .documents import republish_all

    republish_all(ls)


async def wait_catalog(ls: TunaLanguageServer) -> Catalog | None:
    return await asyncio.shield(start_catalog(ls))
