"""The model features: `tuna/getModel`, `tuna/setModel`, `tuna/listModels`, `tuna/history`,
`tuna/setProviderPreference`, `tuna/stats`, `tuna/refreshCatalog`, the `tuna.*` commands of
`workspace/executeCommand`, and the `tuna/modelChanged` notification (PROTOCOL.md sections 3-6).

Each handler reads and checks its params, calls the model service, converts the result. Errors
become `InvalidParams` (-32602, bad input) or `RequestFailed` (-32803, the file could not be
read or written; nothing changed) with a message that says what was wrong.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from ..catalog import Catalog, load_catalog
from ..config_store import ConfigError, ConfigStore, resolve_config_path
from ..config_watcher import ConfigWatcher, read_settled
from ..conversion import model_info_to_wire, state_to_wire
from ..history import History
from ..initialization_options import parse_options
from ..log import ClientLogHandler
from ..model_service import ModelService
from ..model_string import PROVIDER_RE, ModelStringError, canonical_id
from ..preferences import Preferences, PreferencesError
from ..server import TunaLanguageServer

log = logging.getLogger(__name__)
REQUEST_FAILED = -32803
SCOPES = {"global": "global", "default": "global", "session": "session"}
SET_MODEL_FORMS = (
    "expected [model], [model, scope] (scope 'global', 'session' or 'default') or [{model, scope}]"
)
STARTED = time.monotonic()


class RequestFailed(JsonRpcException):
    CODE = REQUEST_FAILED


def config_failure(exc: ConfigError) -> RequestFailed:
    return RequestFailed(
        f"Could not change the model: {exc.path}: {exc.cause}. Nothing was changed.",
        data={"reason": exc.reason, "path": str(exc.path)},
    )


def params_object(params: Any, method: str) -> dict[str, Any]:
    """Params as a dict; null and [] (Neovim's empty table) mean no params."""
    if params is None or params == []:
        return {}
    if isinstance(params, dict):
        return params
    raise JsonRpcInvalidParams(
        f"{method}: params must be an object, got {_kind(params)}; expected {{...}} (see PROTOCOL.md)"
    )


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def int_param(p: dict[str, Any], key: str, default: int, lo: int, hi: int, method: str) -> int:
    value = p.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise JsonRpcInvalidParams(
            f"{method}: {key} must be an integer; expected {lo} to {hi}, got {value!r:.40}"
        )
    return value


def str_param(p: dict[str, Any], key: str, method: str) -> str | None:
    value = p.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 512:
        raise JsonRpcInvalidParams(
            f"{method}: {key} must be a string; expected at most 512 characters"
        )
    return value


def service_of(ls: TunaLanguageServer) -> ModelService:
    if ls.service is None:
        raise JsonRpcException("the server is not initialized yet", code=-32002)
    return ls.service


def register(server: TunaLanguageServer) -> None:
    @server.feature(types.INITIALIZE)
    def on_initialize(ls: TunaLanguageServer, params: types.InitializeParams) -> None:
        ls.options, problems = parse_options(params.initialization_options)
        for problem in problems:
            log.warning(problem)
        info = params.client_info
        ls.client_name = f"{info.name} {info.version or ''}".strip() if info else None
        path = resolve_config_path(ls.options.config_path, os.environ)
        ls.service = ModelService(ConfigStore(path), None, None, client_name=ls.client_name)
        ls.service.attach_catalog(lambda: wait_catalog(ls))

    @server.feature(types.INITIALIZED)
    def on_initialized(ls: TunaLanguageServer, params: types.InitializedParams) -> None:
        service = service_of(ls)
        ls.publish_state(service.state("initial"), force=True)
        logging.getLogger().addHandler(ClientLogHandler(ls))
        # Everything below is off the path of the first status.
        import platformdirs

        service.history = History(
            Path(platformdirs.user_state_dir("tunacode")) / "model-history.jsonl"
        )
        service.preferences = Preferences(
            Path(platformdirs.user_config_dir("tunacode")) / "preferences.toml"
        )
        start_catalog(ls)
        ls.watcher = ConfigWatcher(service.store.path, lambda: on_config_event(ls))
        asyncio.get_running_loop().create_task(ls.watcher.run())
        log.info("tuna-lsp ready; shared config %s", service.store.path)

    @server.feature("tuna/getModel")
    def get_model(ls: TunaLanguageServer, params: Any) -> dict[str, Any]:
        params_object(params, "tuna/getModel")
        return state_to_wire(service_of(ls).state("client"))

    @server.feature("tuna/setModel")
    async def set_model(ls: TunaLanguageServer, params: Any) -> dict[str, Any]:
        p = params_object(params, "tuna/setModel")
        if "model" not in p:
            raise JsonRpcInvalidParams(
                "tuna/setModel: missing 'model'; expected {model: 'provider:model_id', "
                "scope?: 'global' | 'session'}"
            )
        return await do_set(ls, p["model"], p.get("scope", "global"))

    @server.command("tuna.setModel")
    async def set_model_command(ls: TunaLanguageServer, *args: Any) -> dict[str, Any]:
        if len(args) == 1 and isinstance(args[0], dict):
            model, scope = args[0].get("model"), args[0].get("scope", "global")
            if "model" not in args[0]:
                raise JsonRpcInvalidParams(f"tuna.setModel: missing 'model'; {SET_MODEL_FORMS}")
        elif len(args) in (1, 2) and isinstance(args[0], str):
            model, scope = args[0], args[1] if len(args) == 2 else "global"
        else:
            raise JsonRpcInvalidParams(
                f"tuna.setModel: got {len(args)} arguments; {SET_MODEL_FORMS}"
            )
        result = await do_set(ls, model, scope)
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Info, message=result["message"])
        )
        return result

    @server.command("tuna.getModel")
    def get_model_command(ls: TunaLanguageServer, *args: Any) -> dict[str, Any]:
        return state_to_wire(service_of(ls).state("client"))

    @server.feature("tuna/listModels")
    async def list_models(ls: TunaLanguageServer, params: Any) -> dict[str, Any]:
        p = params_object(params, "tuna/listModels")
        return await do_list(
            ls,
            str_param(p, "query", "tuna/listModels"),
            str_param(p, "provider", "tuna/listModels"),
            int_param(p, "limit", 50, 1, 1000, "tuna/listModels"),
        )

    @server.command("tuna.listModels")
    async def list_models_command(ls: TunaLanguageServer, *args: Any) -> dict[str, Any]:
        if len(args) > 1 or (args and args[0] is not None and not isinstance(args[0], str)):
            raise JsonRpcInvalidParams("tuna.listModels: expected [] or [query]")
        return await do_list(ls, args[0] if args else None, None, 50)

    @server.feature("tuna/history")
    def history(ls: TunaLanguageServer, params: Any) -> dict[str, Any]:
        p = params_object(params, "tuna/history")
        limit = int_param(p, "limit", 20, 1, 1000, "tuna/history")
        hist = service_of(ls).history
        return {"entries": hist.entries(limit) if hist else []}

    @server.feature("tuna/setProviderPreference")
    async def set_provider_preference(ls: TunaLanguageServer, params: Any) -> dict[str, Any]:
        method = "tuna/setProviderPreference"
        p = params_object(params, method)
        model, providers = p.get("model"), p.get("providers")
        if not isinstance(model, str) or not model.strip() or len(model) > 256:
            raise JsonRpcInvalidParams(f"{method}: model must be a model id such as 'gpt-4.1'")
        if (
            not isinstance(providers, list)
            or not providers
            or len(providers) > 64
            or not all(isinstance(x, str) and PROVIDER_RE.fullmatch(x) for x in providers)
        ):
            raise JsonRpcInvalidParams(
                f"{method}: providers must be a non-empty list of provider ids, e.g. "
                "['openrouter', 'openai']"
            )
        service = service_of(ls)
        catalog = await wait_catalog(ls)
        if catalog is not None:
            for prov in providers:
                if prov not in catalog.providers:
                    close = catalog.closest_providers(prov)
                    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                    raise JsonRpcInvalidParams(f"{method}: unknown provider {prov!r}{hint}")
        canonical = canonical_id(model.split(":", 1)[-1].strip())
        deduped = list(dict.fromkeys(providers))
        prefs = service.preferences
        if prefs is None:
            raise JsonRpcException("the server is not initialized yet", code=-32002)
        try:
            prefs.set_providers(canonical, deduped)
        except PreferencesError as exc:
            raise RequestFailed(
                f"Could not save the provider preference: {exc}. Nothing was changed.",
                data={"reason": "invalid-config", "path": str(exc.path)},
            ) from exc
        return {"model": canonical, "providers": deduped, "path": str(prefs.path)}

    @server.feature("tuna/stats")
    def stats(ls: TunaLanguageServer, params: Any) -> dict[str, Any]:
        service = service_of(ls)
        return {
            **service.stats.as_dict(),
            "pid": os.getpid(),
            "version": ls.version,
            "uptimeS": round(time.monotonic() - STARTED, 3),
            "catalog": service.catalog.describe if service.catalog else None,
        }

    @server.feature(types.SHUTDOWN)
    def on_shutdown(ls: TunaLanguageServer, params: Any) -> None:
        if ls.watcher is not None:
            ls.watcher.stop()


async def do_set(ls: TunaLanguageServer, model: Any, scope: Any) -> dict[str, Any]:
    if not isinstance(scope, str) or scope not in SCOPES:
        raise JsonRpcInvalidParams(
            f"scope must be a string; expected 'global' (saved to the shared config, the "
            f"default) or 'session' (this window only), got {scope!r:.40}"
        )
    service = service_of(ls)
    try:
        outcome = await service.set_model(model, SCOPES[scope])
    except ModelStringError as exc:
        raise JsonRpcInvalidParams(str(exc)) from exc
    except ConfigError as exc:
        log.warning("set %s failed: %s (%s)", scope, exc.cause, exc.reason)
        raise config_failure(exc) from exc
    log.info("%s", outcome.message)
    ls.publish_state(service.state("client"))
    return {**state_to_wire(outcome.state), "message": outcome.message}


async def do_list(
    ls: TunaLanguageServer, query: str | None, provider: str | None, limit: int
) -> dict[str, Any]:
    service = service_of(ls)
    catalog = await wait_catalog(ls)
    state = service.state("client")
    if catalog is None:
        return {"items": [], "total": 0, "catalog": None}
    items, total = catalog.search(
        query, provider=provider, limit=limit, current=state.model, recents=state.recent_models
    )
    cache: dict[str, bool] = {}

    def key_status(p: str) -> bool:
        if p not in cache:
            cache[p] = service.has_key(p)
        return cache[p]

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


# ---- the catalog, loaded off the start-up path ----------------------------------------------


def _cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("tunacode"))


def start_catalog(ls: TunaLanguageServer) -> asyncio.Future[Catalog | None]:
    if ls.catalog_future is None:
        loop = asyncio.get_running_loop()
        include = ls.options.include_tunacode_registry

        def load() -> Catalog | None:
            t0 = time.perf_counter()
            try:
                catalog = load_catalog(_cache_dir(), include_tunacode=include)
            except Exception:
                log.exception("the model catalog could not be loaded; validation is limited")
                return None
            log.info(
                "catalog loaded in %.0f ms: %s",
                (time.perf_counter() - t0) * 1000,
                ", ".join(f"{s.name} {s.version}" for s in catalog.sources),
            )
            return catalog

        ls.catalog_future = loop.run_in_executor(None, load)
        ls.catalog_future.add_done_callback(lambda fut: on_catalog(ls, fut))
    return ls.catalog_future


def on_catalog(ls: TunaLanguageServer, fut: asyncio.Future[Catalog | None]) -> None:
    if fut.cancelled() or ls.service is None:
        return
    ls.service.set_catalog(fut.result())
    ls.publish_state(ls.service.state("initial"))


async def wait_catalog(ls: TunaLanguageServer) -> Catalog | None:
    return await asyncio.shield(start_catalog(ls))


async def on_config_event(ls: TunaLanguageServer) -> None:
    service = service_of(ls)
    async with service.set_lock:
        snap = await read_settled(service.store)
        state, warning = service.external_change(snap)
    if warning:
        log.warning("%s", warning)
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=warning)
        )
    if state is not None:
        ls.publish_state(state)
