"""The model feature: initialization, `tuna/getModel`, `tuna/setModel`, `tuna/clearModel`,
`tuna/restoreOverwrite`, `tuna/history`, `tuna/stats`, the `tuna.setModel` / `tuna.getModel` /
`tuna.clearModel` commands, the `tuna/modelChanged` notification whatever caused the change, and
the stale-overwrite guard's question to the user (PROTOCOL.md sections 3-6 and 9).

`ModelFeature` owns the model service (the domain), the watcher of the shared config and what was
last sent to the client. Each handler takes its params typed (`protocol` structures them before
it is called), calls the service, converts the result (`wire`). Errors become `InvalidParams`
(-32602, bad input) or `RequestFailed` (-32803, the file could not be read or written; nothing
changed) with a message that says what was wrong.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import to_fs_path

from ..base.model_string import ModelStringError
from ..core import overwrite as ow
from ..core.model_service import ModelService
from ..core.model_state import OverwriteError, ScopeError
from ..events import CATALOG_LOADED, Events
from ..initialization_options import InitializationOptions, parse_options
from ..log import ClientLogHandler
from ..private_path import trusted_dir
from ..protocol import (
    CatalogChanged,
    ClearModelParams,
    HistoryParams,
    HistoryResult,
    ModelStateWire,
    NoParams,
    NotInitialized,
    RequestFailed,
    Scope,
    SetModelParams,
    SetModelResult,
    UsageParams,
)
from ..storage.config_store import ConfigError, ConfigStore, resolve_config_path
from ..storage.history import HISTORY_NAME, History
from ..storage.preferences import Preferences
from ..storage.saves import SAVES_NAME, SaveLog, read_usage
from ..storage.write_marks import WriteMarks
from ..wire import state_to_wire

if TYPE_CHECKING:
    from ..core.catalog import Catalog
    from ..core.model_state import ModelState, Origin
    from ..server import TunaLanguageServer
    from ..storage.config_watcher import ConfigWatcher
    from .catalog import CatalogFeature

log = logging.getLogger(__name__)
STARTED = time.monotonic()

# A check run before every global write; returns why the write must not happen (or None).
WriteGuard = Callable[[], "RequestFailed | None"]


def config_failure(exc: ConfigError) -> RequestFailed:
    return RequestFailed(
        f"Could not change the model: {exc.path}: {exc.cause}. Nothing was changed.",
        data={"reason": exc.reason, "path": str(exc.path)},
    )


class ModelFeature:
    def __init__(self, server: TunaLanguageServer, events: Events, catalog: CatalogFeature) -> None:
        self.server = server
        self.catalog = catalog
        self.options = InitializationOptions()
        self.option_problems: list[str] = []
        self.service: ModelService | None = None
        self.watchers: list[ConfigWatcher] = []
        self._asked: set[str] = set()  # overwrites the user was asked about, by time
        self.write_guards: list[WriteGuard] = []
        self._last_key: tuple[Any, ...] | None = None
        self._last_origin: Origin = "initial"
        events.subscribe(CATALOG_LOADED, self.on_catalog_loaded)

    def register(self) -> None:
        s = self.server
        s.handle(types.INITIALIZE, self.initialize)
        s.handle(types.INITIALIZED, self.initialized)
        s.handle(types.SHUTDOWN, self.on_shutdown)
        s.handle("tuna/getModel", self.get_model)
        s.handle("tuna/setModel", self.set_model)
        s.handle("tuna/clearModel", self.clear_model)
        s.handle("tuna/restoreOverwrite", self.restore_overwrite)
        s.handle("tuna/history", self.history)
        s.handle("tuna/stats", self.stats)
        s.handle("tuna/usage", self.usage)
        s.handle_command("tuna.setModel", self.set_model_command)
        s.handle_command("tuna.getModel", self.get_model_command)
        s.handle_command("tuna.clearModel", self.clear_model_command)

    def require(self) -> ModelService:
        if self.service is None:
            raise NotInitialized()
        return self.service

    # ---- lifecycle -----------------------------------------------------------------------------

    def initialize(self, params: types.InitializeParams) -> None:
        self.options, self.option_problems = parse_options(params.initialization_options)
        for problem in self.option_problems:
            log.warning(problem)
        info = params.client_info
        client_name = f"{info.name} {info.version or ''}".strip() if info else None
        path = resolve_config_path(self.options.config_path, os.environ)
        # another user's tunacode/ in a shared XDG directory is never read or written
        dirs = {}
        for what, where in (
            ("state", platformdirs.user_state_dir),
            ("config", platformdirs.user_config_dir),
            ("cache", platformdirs.user_cache_dir),  # the catalog's (features/catalog.py)
        ):
            dirs[what], unused = trusted_dir(Path(where("tunacode")), what)
            if unused is not None:
                log.warning("%s", unused)
                self.option_problems.append(unused)
        state_dir = dirs["state"]
        self.service = ModelService(
            ConfigStore(path),
            History(state_dir / HISTORY_NAME),
            Preferences(dirs["config"] / "preferences.toml"),
            self.catalog,
            client_name=client_name,
            workspace_folder=workspace_folder(params),
            marks=WriteMarks(state_dir / "config-writes.log"),
            defer=self.server.after_response,
            saves=SaveLog(state_dir / SAVES_NAME),
        )

    def initialized(self, params: types.InitializedParams) -> None:
        service = self.require()
        state = service.state("initial")
        log.debug(
            "sending the first status"
        )  # what is loaded after this line is off start-up's path
        self.publish(state, force=True)
        if self.option_problems:  # tell the user, once, what of their settings was not used
            self.show(types.MessageType.Warning, "tuna-lsp: " + "; ".join(self.option_problems))
        logging.getLogger().addHandler(ClientLogHandler(self.server))
        # Everything below is off the path of the first status.
        from ..storage.config_watcher import QUIET_MS, ConfigWatcher

        self.catalog.start(self.options)
        self.watchers.append(ConfigWatcher(service.store.path, self.on_config_event))
        if service.workspace_folder is not None:  # other windows' workspace choices, hand edits
            self.watchers.append(
                ConfigWatcher(
                    service.preferences.path, self.on_preferences_event, quiet_ms=QUIET_MS
                )
            )
        for watcher in self.watchers:
            self.server.run_task(watcher.run(), f"watcher of {watcher.path.name}")
        log.info("tuna-lsp ready; shared config %s", service.store.path)

    def on_shutdown(self, params: object) -> None:
        for watcher in self.watchers:
            watcher.stop()

    # ---- requests (params structured by protocol.py before they reach a handler) ----------------

    def get_model(self, params: NoParams) -> ModelStateWire:
        return state_to_wire(self.require().state("client"))

    def get_model_command(self, params: NoParams) -> ModelStateWire:
        return state_to_wire(self.require().state("client"))

    async def set_model(self, params: SetModelParams) -> SetModelResult:
        return await self.do_set(params.model, params.scope)

    async def set_model_command(self, params: SetModelParams) -> SetModelResult:
        result = await self.do_set(params.model, params.scope)
        # Generic clients show nothing of a command's result: say it.
        self.show(types.MessageType.Info, result["message"])
        return result

    async def clear_model(self, params: ClearModelParams) -> SetModelResult:
        return await self.do_clear(params)

    async def clear_model_command(self, params: ClearModelParams) -> SetModelResult:
        result = await self.do_clear(params)
        self.show(types.MessageType.Info, result["message"])
        return result

    async def do_clear(self, p: ClearModelParams) -> SetModelResult:
        service = self.require()
        try:
            outcome = await service.clear_model(p.scope)
        except ScopeError as exc:
            raise JsonRpcInvalidParams(f"tuna/clearModel: {exc}") from exc
        except ConfigError as exc:
            raise config_failure(exc) from exc
        log.info("%s", outcome.message)
        self.publish(service.state("client"))
        return {**state_to_wire(outcome.state), "message": outcome.message}

    async def restore_overwrite(self, params: NoParams) -> SetModelResult:
        service = self.require()
        try:
            outcome = await service.restore_overwrite()
        except OverwriteError as exc:
            raise RequestFailed(
                f"Could not restore: {exc}.",
                data={"reason": "no-overwrite", "path": str(service.store.path)},
            ) from exc
        except ConfigError as exc:
            raise config_failure(exc) from exc
        log.info("%s", outcome.message)
        self.publish(service.state("client"))
        return {**state_to_wire(outcome.state), "message": outcome.message}

    def history(self, params: HistoryParams) -> HistoryResult:
        return {"entries": self.require().history.entries(params.limit)}

    async def usage(self, params: UsageParams) -> dict[str, Any]:
        """PROTOCOL.md 10: read in a thread (a year of history is a few MiB)."""
        days = params.days
        service = self.require()
        saves = service.saves
        assert saves is not None
        try:
            return await asyncio.to_thread(
                read_usage, service.history.path, saves.path, days, service.snapshot.default_model
            )
        except OSError as exc:
            raise RequestFailed(
                f"Could not read the usage: {exc.strerror or exc}. Nothing was changed.",
                data={"reason": "io-error", "path": str(exc.filename or saves.path.parent)},
            ) from exc

    def stats(self, params: NoParams) -> dict[str, Any]:
        service = self.require()
        return {
            **service.stats.as_dict(),
            "pid": os.getpid(),
            "version": self.server.version,
            "uptimeS": round(time.monotonic() - STARTED, 3),
            "catalog": service.catalog.describe if service.catalog else None,
        }

    async def do_set(self, model: object, scope: Scope) -> SetModelResult:
        service = self.require()
        log.debug("set: request model=%.300r scope=%s", model, scope)
        if scope == "global":
            for guard in self.write_guards:
                if (refusal := guard()) is not None:
                    raise refusal
        try:
            outcome = await service.set_model(model, scope)
        except (ModelStringError, ScopeError) as exc:
            raise JsonRpcInvalidParams(str(exc)) from exc
        except ConfigError as exc:
            log.warning("set %s failed: %s (%s)", scope, exc.cause, exc.reason)
            raise config_failure(exc) from exc
        log.info("%s", outcome.message)
        # clients read the status before the result
        self.publish(outcome.status or service.state("client"))
        return {**state_to_wire(outcome.state), "message": outcome.message}

    # ---- changes from elsewhere ------------------------------------------------------------------

    async def on_config_event(self) -> None:
        service = self.require()
        state, warning = await service.follow_external()
        if warning:
            log.warning("%s", warning)
            self.show(types.MessageType.Warning, warning)
        if state is not None:
            self.publish(state)
        found = service.overwrite
        if found is not None and found.resolution == "pending" and found.at not in self._asked:
            self._asked.add(found.at)
            self.server.run_task(self.guard(found.at), "stale overwrite guard")

    async def on_preferences_event(self) -> None:
        self.publish(self.require().state("external"))

    async def guard(self, at: str) -> None:
        """Act on a new stale overwrite as the user's `staleOverwrite` option says."""
        service = self.require()
        found = service.overwrite
        policy = self.options.stale_overwrite
        if found is None or policy == "accept":
            return
        if policy == "ask":
            restore = f"Restore {found.replaced_model}"
            keep = f"Keep {found.model or 'the file as it is'}"
            answer = await self.server.window_show_message_request_async(
                types.ShowMessageRequestParams(
                    type=types.MessageType.Warning,
                    message=ow.message(found, service.store.path) + ".",
                    actions=[types.MessageActionItem(restore), types.MessageActionItem(keep)],
                )
            )
            if service.overwrite is None or service.overwrite.at != at:
                return  # a newer overwrite took its place: that one has its own question
            if answer is None or answer.title != restore:
                if answer is not None and (state := service.keep_overwrite()) is not None:
                    self.publish(state)
                return
        try:
            outcome = await service.restore_overwrite()
        except (OverwriteError, ConfigError) as exc:
            log.warning("the stale overwrite was not restored: %s", exc)
            return
        log.info("%s", outcome.message)
        self.publish(service.state("client"))

    def on_catalog_loaded(self, catalog: Catalog | None) -> None:
        if self.service is None:
            return
        # With the catalog, a key's env var may differ from the guess made without it: that is a
        # change of the state. Names and limits arriving for the same model are not: they come as
        # tuna/catalogChanged, so a client counting tuna/modelChanged sees exactly the changes.
        state = self.service.state(self._last_origin)
        if self._last_key is not None and state.change_key()[:3] != self._last_key[:3]:
            # the model, its scope or the saved one moved meanwhile, and no event has told this
            # client yet (another window's choice, read here first): that is an external change
            state = state._replace(origin="external")
        self.publish(state)
        changed: CatalogChanged = {
            "catalog": catalog.describe if catalog else None,
            "state": state_to_wire(state),
        }
        self.server.protocol.notify("tuna/catalogChanged", changed)

    # ---- to the client ---------------------------------------------------------------------------

    def publish(self, state: ModelState, *, force: bool = False) -> bool:
        """Send tuna/modelChanged if the state differs from the last one sent."""
        key = state.change_key()
        if not force and key == self._last_key:
            return False
        self._last_key = key
        self._last_origin = state.origin
        log.debug("tuna/modelChanged %s scope=%s origin=%s", state.model, state.scope, state.origin)
        self.server.protocol.notify("tuna/modelChanged", state_to_wire(state))
        return True

    def show(self, kind: types.MessageType, message: str) -> None:
        self.server.window_show_message(types.ShowMessageParams(type=kind, message=message))


def workspace_folder(params: types.InitializeParams) -> str | None:
    """The folder this server serves: the first workspace folder, else the root (PROTOCOL.md 3a)."""
    uri = None
    if params.workspace_folders:
        uri = params.workspace_folders[0].uri
    elif params.root_uri:
        uri = params.root_uri
    path = to_fs_path(uri) if uri else params.root_path
    return os.path.realpath(path) if path else None
