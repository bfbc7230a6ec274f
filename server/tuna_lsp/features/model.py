"""The model features: initialization, `tuna/getModel`, `tuna/setModel`, `tuna/history`,
`tuna/stats`, the `tuna.setModel` / `tuna.getModel` commands of `workspace/executeCommand`, and
the `tuna/modelChanged` notification, whatever caused the change (PROTOCOL.md sections 3-6).

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
from pygls.exceptions import JsonRpcInvalidParams

from ..core.model_service import ModelService
from ..core.model_string import ModelStringError
from ..initialization_options import parse_options
from ..log import ClientLogHandler
from ..server import TunaLanguageServer
from ..storage.config_store import ConfigError, ConfigStore, resolve_config_path
from ..wire import state_to_wire
from .catalog import maybe_auto_refresh, start_catalog, wait_catalog
from .documents import dirty_message, unsaved_config
from .params import RequestFailed, config_failure, int_param, params_object, service_of

log = logging.getLogger(__name__)
SCOPES = {"global": "global", "default": "global", "session": "session"}
SET_MODEL_FORMS = (
    "expected [model], [model, scope] (scope 'global', 'session' or 'default') or [{model, scope}]"
)
STARTED = time.monotonic()


def register(server: TunaLanguageServer) -> None:
    @server.feature(types.INITIALIZE)
    def on_initialize(ls: TunaLanguageServer, params: types.InitializeParams) -> None:
        ls.options, problems = parse_options(params.initialization_options)
        for problem in problems:
            log.warning(problem)
        ls.option_problems = problems
        info = params.client_info
        ls.client_name = f"{info.name} {info.version or ''}".strip() if info else None
        path = resolve_config_path(ls.options.config_path, os.environ)
        ls.service = ModelService(ConfigStore(path), None, None, client_name=ls.client_name)
        ls.service.attach_catalog(lambda: wait_catalog(ls))

    @server.feature(types.INITIALIZED)
    def on_initialized(ls: TunaLanguageServer, params: types.InitializedParams) -> None:
        service = service_of(ls)
        ls.publish_state(service.state("initial"), force=True)
        if ls.option_problems:  # tell the user, once, what of their settings was not used
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning,
                    message="tuna-lsp: " + "; ".join(ls.option_problems),
                )
            )
        logging.getLogger().addHandler(ClientLogHandler(ls))
        # Everything below is off the path of the first status.
        import platformdirs

        from ..storage.config_watcher import ConfigWatcher
        from ..storage.history import History
        from ..storage.preferences import Preferences

        service.history = History(
            Path(platformdirs.user_state_dir("tunacode")) / "model-history.jsonl"
        )
        service.preferences = Preferences(
            Path(platformdirs.user_config_dir("tunacode")) / "preferences.toml"
        )
        start_catalog(ls)
        maybe_auto_refresh(ls)
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

    @server.feature("tuna/history")
    def history(ls: TunaLanguageServer, params: Any) -> dict[str, Any]:
        p = params_object(params, "tuna/history")
        limit = int_param(p, "limit", 20, 1, 1000, "tuna/history")
        hist = service_of(ls).history
        return {"entries": hist.entries(limit) if hist else []}

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
    log.debug("set: request model=%.300r scope=%s", model, scope)
    if SCOPES[scope] == "global" and (uri := unsaved_config(ls)) is not None:
        raise RequestFailed(
            dirty_message(ls, uri),
            data={"reason": "unsaved-changes", "path": str(service.store.path)},
        )
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


async def on_config_event(ls: TunaLanguageServer) -> None:
    from ..storage.config_watcher import read_settled

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
