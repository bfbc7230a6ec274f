"""The model choice of one server process: the effective model across the session, workspace and
global scopes (PROTOCOL.md 3a), and how it changes.

The domain heart of the server. It combines the shared config (config_store), the workspace
choices (preferences), the catalog, the routing preferences and the history into `ModelState`, and
implements a set (validate, resolve, write, record), a clear, the reaction to an external change of
the file, and the stale-overwrite guard (core.overwrite). It knows nothing of LSP: handlers in
`features/` translate requests to calls here and results to the wire (`wire`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..base.model_string import (
    ModelRef,
    ModelStringError,
    canonical_id,
    check_model_id,
    parse_model,
)
from ..storage.config_store import (
    DEFAULT_MODEL,
    ConfigError,
    ConfigSnapshot,
    ConfigStore,
    with_model,
)
from ..storage.preferences import PreferencesError
from ..storage.write_marks import digest
from . import overwrite as ow
from .keys import env_var_for
from .model_state import (
    CatalogSource,
    ModelState,
    Origin,
    OverwriteError,
    ScopeError,
    SetOutcome,
    Stats,
    UnknownProvider,
)

if TYPE_CHECKING:
    from ..storage.history import History
    from ..storage.preferences import Preferences
    from ..storage.saves import SaveLog
    from ..storage.write_marks import WriteMarks
    from .catalog import Catalog

log = logging.getLogger(__name__)


class ModelService:
    def __init__(
        self,
        store: ConfigStore,
        history: History,
        preferences: Preferences,
        catalogs: CatalogSource,
        *,
        environ: Mapping[str, str] | None = None,
        client_name: str | None = None,
        workspace_folder: str | None = None,
        marks: WriteMarks | None = None,
        defer: Callable[[Callable[[], None]], None] | None = None,
        saves: SaveLog | None = None,
    ) -> None:
        self.store = store
        self.saves = saves
        # Where the effects that are not the config write go (the history line, the provider
        # preference): the server runs them after the response; by default, at once.
        self.defer: Callable[[Callable[[], None]], None] = defer or (lambda effect: effect())
        self.history = history
        self.preferences = preferences
        self.environ = environ if environ is not None else os.environ
        self.client_name = client_name
        self.catalogs = catalogs
        self.snapshot: ConfigSnapshot = store.read(settle=0.0)
        self.invalid: ConfigError | None = self.snapshot.error
        self.session: ModelRef | None = None
        self.session_extra: tuple[str | None, list[str]] = (None, [])
        self.workspace_folder = workspace_folder
        self.marks = marks
        self.via_editor = marks is not None and marks.made_by_us(self.snapshot.raw)
        self.overwrite: ow.Overwrite | None = None
        self.stats = Stats()
        self.set_lock = asyncio.Lock()
        self._keys_of: tuple[ConfigSnapshot | None, Catalog | None] = (None, None)
        self._keys: dict[str, bool] = {}
        self._keys_complete = False
        self._keyed: tuple[Mapping[str, bool] | None, frozenset[str]] = (None, frozenset())

    @property
    def catalog(self) -> Catalog | None:
        return self.catalogs.current

    # ---- state ----------------------------------------------------------------------------

    def has_key(self, provider: str) -> bool:
        """Whether the provider's key variable is set, in the config's env or the process's.
        Remembered for the config snapshot and catalog in use (a listing asks about every
        provider; the process's environment does not change under it)."""
        keys = self._key_cache()
        known = keys.get(provider)
        if known is None:
            var = env_var_for(provider, self.catalog)
            known = self.snapshot.env_has(var) or bool(self.environ.get(var, "").strip())
            keys[provider] = known
        return known

    def catalog_keys(self) -> Mapping[str, bool]:
        """has_key of every provider of the catalog, at once (for a listing; read-only)."""
        keys = self._key_cache()
        if self.catalog is not None and not self._keys_complete:
            for provider in self.catalog.providers:
                self.has_key(provider)
            self._keys_complete = True
        return keys

    def keyed_providers(self) -> frozenset[str]:
        """The catalog's providers whose key is set (for a listing's ranking), remembered as
        catalog_keys is."""
        keys = self.catalog_keys()
        if self._keyed[0] is not keys:
            self._keyed = (keys, frozenset(p for p, known in keys.items() if known))
        return self._keyed[1]

    def _key_cache(self) -> dict[str, bool]:
        snap, catalog = self.snapshot, self.catalog
        if self._keys_of[0] is not snap or self._keys_of[1] is not catalog:
            self._keys_of, self._keys, self._keys_complete = (snap, catalog), {}, False
        return self._keys

    def _effective(self, warnings: list[str]) -> tuple[ModelRef, str, str | None, ModelRef | None]:
        """The model this window uses, its scope, what it was resolved from, and the workspace's
        model: session, then workspace, then the config's default_model, then tunacode's."""
        workspace = self._workspace_ref(warnings)  # its warning holds under a session choice too
        if self.session is not None:
            resolved_from, extra = self.session_extra
            warnings += extra
            return self.session, "session", resolved_from, workspace
        if workspace is not None:
            return workspace, "workspace", None, workspace
        persisted = self.snapshot.default_model
        text = persisted or DEFAULT_MODEL
        try:
            ref = parse_model(text)
        except ModelStringError as exc:
            warnings.append(f"default_model in the config is not usable: {exc}")
            ref = parse_model(DEFAULT_MODEL)
        if ref.provider is None:
            warnings.append(
                f"default_model {text!r} has no provider; tunacode expects 'provider:model_id'"
            )
            ref = ModelRef("?", ref.model_id)
        return ref, "global" if persisted else "default", None, None

    def choice(self) -> tuple[str, str]:
        """The model and scope `state` would show, without the rest of the state."""
        ref, scope, _, _ = self._effective([])
        return ref.model, scope

    def state(self, origin: Origin) -> ModelState:
        snap = self.snapshot
        persisted = snap.default_model
        warnings: list[str] = []
        ref, scope, resolved_from, workspace = self._effective(warnings)
        assert ref.provider is not None
        info = self.catalog.model(ref.provider, ref.model_id) if self.catalog else None
        var = env_var_for(ref.provider, self.catalog)
        present = self.has_key(ref.provider)
        if not present:
            warnings.append(
                f"no API key for {ref.provider}: set {var} in the config's env or the environment"
            )
        if self.invalid is not None:
            warnings.append(
                f"the config file is invalid ({self.invalid.cause}); showing the last good state, "
                "and nothing will be written until it is fixed"
            )
        if snap.exposed_to_others and snap.holds_keys and snap.mode is not None:
            warnings.append(
                f"{snap.path} holds API keys and is readable by other users "
                f"(mode {snap.mode & 0o777:o}); run: chmod 600 {snap.path}"
            )
        if self.preferences.error is not None:
            warnings.append(f"routing preferences ignored: {self.preferences.error}")
        pending = self.overwrite is not None and self.overwrite.resolution == "pending"
        if pending and self.overwrite is not None:
            warnings.append(ow.message(self.overwrite, snap.path))
        return ModelState(
            model=ref.model,
            provider=ref.provider,
            model_id=ref.model_id,
            scope=scope,  # type: ignore[arg-type]
            persisted_model=persisted,
            config_path=str(self.store.path),
            name=info.name if info else None,
            context_window=info.context_window if info else None,
            api_key="present" if present else "missing",
            api_key_env_var=var,
            recent_models=snap.recent_models,
            warnings=warnings,
            origin=origin,
            resolved_from=resolved_from,
            config_valid=self.invalid is None,
            catalog=self.catalog.describe if self.catalog else None,
            workspace_folder=self.workspace_folder,
            workspace_model=workspace.model if workspace else None,
            via_editor=self.via_editor,
            overwrite=self.overwrite,
        )

    def _workspace_ref(self, warnings: list[str]) -> ModelRef | None:
        """This folder's remembered model, if it has a usable one."""
        if self.workspace_folder is None:
            return None
        value = self.preferences.workspace_model(self.workspace_folder)
        if value is None:
            return None
        try:
            ref = parse_model(value)
            if ref.provider is None:
                raise ModelStringError("it has no provider; expected 'provider:model_id'")
        except ModelStringError as exc:
            warnings.append(
                f"the workspace model for {self.workspace_folder} in {self.preferences.path} "
                f"is ignored: {exc}"
            )
            return None
        return ref

    # ---- validation -----------------------------------------------------------------------

    async def resolve(self, text: object) -> tuple[ModelRef, str | None, list[str]]:
        """Parse, check against the catalog and route. Raises ModelStringError."""
        ref = parse_model(text)
        catalog = await self.catalogs.wait()
        if ref.provider is None:
            if catalog is None:
                raise ModelStringError(
                    f"{ref.model_id!r} has no provider and the model catalog is unavailable; "
                    "give it as 'provider:model_id'"
                )
            from .routing import resolve_bare  # with the catalog, loaded after the first status

            preferred = self.preferences.providers_for(ref.canonical)
            res = resolve_bare(ref.model_id, catalog, preferred, self.has_key)
            try:  # the catalog's own id, checked as the user's would be: an index could hold anything
                parse_model(res.ref.model)
            except ModelStringError as exc:
                raise ModelStringError(
                    f"the model catalog resolves {ref.model_id!r} to an id that is not a valid "
                    f"model string ({exc}); give it as 'provider:model_id'"
                ) from None
            return res.ref, res.resolved_from, res.warnings
        warnings: list[str] = []
        if catalog is not None:
            if ref.provider not in catalog.providers:
                raise ModelStringError(
                    f"unknown provider {ref.provider!r}{catalog.provider_hint(ref.provider) or '.'} "
                    "Expected 'provider:model_id' with a known provider id (e.g. 'openai:gpt-4.1')"
                )
            if catalog.model(ref.provider, ref.model_id) is None:
                close = catalog.closest_models(ref.provider, ref.model_id)
                hint = f"; close matches: {', '.join(close)}" if close else ""
                warnings.append(
                    f"{ref.model} is not in the model catalog (fine for a custom or new model){hint}"
                )
        return ref, None, warnings

    # ---- changes --------------------------------------------------------------------------

    async def set_model(self, text: object, scope: str) -> SetOutcome:
        """Raises ModelStringError or ScopeError (bad input) or ConfigError (nothing changed)."""
        if scope == "workspace":
            self._require_folder("set")
        started = time.perf_counter()
        ref, resolved_from, warnings = await self.resolve(text)
        log.debug("set: resolved to %s (from %s)", ref.model, resolved_from or "as given")
        async with self.set_lock:
            if scope == "session":
                return self._set_session(ref, resolved_from, warnings)
            with self._attempt(scope, "set", started) as done:
                if scope == "workspace":
                    outcome = self._set_workspace(ref, resolved_from, warnings)
                else:
                    outcome = await self._set_global(ref, resolved_from, warnings)
                done.append(outcome)
            return outcome

    @contextlib.contextmanager
    def _attempt(self, scope: str, kind: str, started: float) -> Iterator[list[SetOutcome]]:
        """One attempt to write a choice to disk, as a line of the save outcomes (PROTOCOL.md
        10), written after the response: saved, unchanged, or failed with its reason."""
        done: list[SetOutcome] = []
        try:
            yield done
        except ConfigError as exc:
            self._outcome(scope, kind, "failed", started, exc.reason)
            raise
        if done:
            self._outcome(scope, kind, "saved" if done[0].wrote else "unchanged", started)

    def _outcome(
        self, scope: str, kind: str, outcome: str, started: float, reason: str | None = None
    ) -> None:
        if (saves := self.saves) is None:
            return
        ms = (time.perf_counter() - started) * 1000
        client = self.client_name
        self.defer(
            lambda: saves.record(
                scope=scope, kind=kind, outcome=outcome, ms=ms, client=client, reason=reason
            )
        )

    def _set_session(
        self, ref: ModelRef, resolved_from: str | None, warnings: list[str]
    ) -> SetOutcome:
        before = self.choice()
        self.session = ref
        self.session_extra = (resolved_from, warnings)
        after = self.state("client")
        changed = before != (after.model, after.scope)
        if changed:
            self.stats.session_sets += 1
            self.via_editor = True
            after = after._replace(via_editor=True)
            self._record(before[0], after, "client")
        return SetOutcome(
            after,
            f"Model set to {ref.model} for this session only (not saved)",
            changed,
            after,
        )

    async def _set_global(
        self, ref: ModelRef, resolved_from: str | None, warnings: list[str]
    ) -> SetOutcome:
        before = self.choice()
        previous_global = self.snapshot.default_model
        t0 = time.perf_counter()
        try:
            old, new = await self._update(lambda data: with_model(data, ref.model))
        except ConfigError:
            raise
        wrote = new is not old
        if wrote:
            self.stats.saves += 1
            self.stats.record_latency((time.perf_counter() - t0) * 1000)
        else:
            self.stats.unchanged_sets += 1
        self.snapshot = new
        self.invalid = None
        self._overwrite_undone(new)  # the user's choice is newer than the overwrite's
        after, status, changed = self._chosen(before, ref, resolved_from, warnings, wrote)
        if wrote and after.scope != "global":
            # the global model changed under this window's workspace choice: the history says so
            # (what this window uses is recorded by _chosen)
            self._record(previous_global, after._replace(model=ref.model, scope="global"), "client")
        where = f"saved to {self.store.path}" if wrote else f"already saved in {self.store.path}"
        message = f"Model set to {ref.model} and {where}"
        if after.scope == "workspace":
            message += (
                f"; this window still uses {after.model}, the workspace's model (clear it to "
                "use the global one here)"
            )
        return SetOutcome(after, message, changed, status, wrote)

    async def _update(
        self, change: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> tuple[ConfigSnapshot, ConfigSnapshot]:
        """One locked read-modify-write of the shared config, marked as tuna-lsp's own. Tries the
        lock at once on the loop (the common case, no thread hop), else waits in a thread."""
        mark = self.marks.add if self.marks is not None else None
        try:
            try:
                return self.store.update(change, blocking=False, on_write=mark)
            except BlockingIOError:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(
                    None, lambda: self.store.update(change, on_write=mark)
                )
        except ConfigError as exc:
            self.stats.failures[exc.reason] = self.stats.failures.get(exc.reason, 0) + 1
            raise

    def _chosen(
        self,
        before: tuple[str, str],
        ref: ModelRef,
        resolved_from: str | None,
        warnings: list[str],
        wrote: bool,
    ) -> tuple[ModelState, ModelState, bool]:
        """What a saved choice (global or workspace) does besides its write: this window's
        session choice gives way, the provider is remembered, the change is recorded. Returns the
        answer's state, the window's state (as tuna/modelChanged shows it) and whether it
        changed."""
        self.session = None
        self.session_extra = (None, [])
        self.via_editor = True
        self._remember_provider(ref)
        status = self.state("client")
        after = status._replace(resolved_from=resolved_from, warnings=warnings + status.warnings)
        changed = wrote or before != (after.model, after.scope)
        if changed:
            self._record(before[0], after, "client")
        return after, status, changed

    def _require_folder(self, doing: str) -> str:
        if self.workspace_folder is None:
            raise ScopeError(
                f"cannot {doing} a workspace model: this window has no workspace folder (a single "
                "file is open); expected scope 'session' (this window) or 'global' (the shared config)"
            )
        return self.workspace_folder

    def _write_workspace(self, model: str | None) -> bool:
        folder = self._require_folder("set" if model else "clear")
        try:
            return self.preferences.set_workspace(folder, model)
        except PreferencesError as exc:
            self.stats.failures["invalid-config"] = self.stats.failures.get("invalid-config", 0) + 1
            raise ConfigError("invalid-config", exc.path, exc.cause) from exc

    def _set_workspace(
        self, ref: ModelRef, resolved_from: str | None, warnings: list[str]
    ) -> SetOutcome:
        before = self.choice()
        wrote = self._write_workspace(ref.model)
        after, status, changed = self._chosen(before, ref, resolved_from, warnings, wrote)
        cli = after.persisted_model or DEFAULT_MODEL
        return SetOutcome(
            after,
            f"Model set to {ref.model} for this workspace ({self.workspace_folder}), remembered in "
            f"{self.preferences.path}; the tunacode CLI's own default is unchanged ({cli})",
            changed,
            status,
            wrote,
        )

    async def clear_model(self, scope: Literal["session", "workspace"]) -> SetOutcome:
        """Drop a session or workspace choice. Raises ScopeError or ConfigError."""
        started = time.perf_counter()
        async with self.set_lock:
            before = self.state("client")
            if scope == "session":
                had = self.session is not None
                self.session = None
                self.session_extra = (None, [])
            else:
                with self._attempt(scope, "clear", started) as done:
                    had = self._write_workspace(None)
                    done.append(SetOutcome(before, "", had, wrote=had))
            after = self.state("client")
            if not had:
                what = "session" if scope == "session" else f"workspace ({self.workspace_folder})"
                return SetOutcome(
                    after, f"No {what} model was set; this window uses {after.model}", False
                )
            self.via_editor = True
            after = after._replace(via_editor=True)
            if (before.model, before.scope) != (after.model, after.scope):
                self._record(before.model, after, "client", kind="clear")
            return SetOutcome(
                after,
                f"The {scope} model is cleared; this window now uses {after.model} ({after.scope})",
                True,
            )

    async def restore_overwrite(self) -> SetOutcome:
        """Put back the model a stale overwrite undid (and the keys it dropped). Exactly one
        server writes: under the lock, a file that no longer shows the overwrite is left alone.
        Raises OverwriteError (nothing pending) or ConfigError (nothing changed)."""
        async with self.set_lock:
            pending = self.overwrite
            if pending is None or pending.resolution != "pending":
                raise OverwriteError(
                    "there is no stale overwrite to restore"
                    + (f" (the last one was {pending.resolution})" if pending else "")
                    + "; nothing was changed"
                )
            started = time.perf_counter()
            before = self.state("client")
            with self._attempt("global", "restore", started) as attempt:
                if self.invalid is not None:
                    raise ConfigError("invalid-config", self.store.path, self.invalid.cause)
                old, new = await self._update(lambda data: ow.restored(pending, data))
                wrote = new is not old
                attempt.append(SetOutcome(before, "", wrote, wrote=wrote))
            self.snapshot = new
            self.via_editor = True
            self.overwrite = pending.resolved("restored")
            after = self.state("client")
            if wrote:
                self.stats.saves += 1
                self._record(before.model, after, "restored")
                done = f"restored to {pending.replaced_model} in {self.store.path}"
                if pending.dropped_keys:
                    done += f", with {', '.join(pending.dropped_keys)} put back"
            else:
                done = f"already restored in {self.store.path} (by another window)"
            return SetOutcome(after, f"Model {done}", wrote)

    def keep_overwrite(self) -> ModelState | None:
        """The user kept what the overwrite wrote: record it, write nothing."""
        if self.overwrite is None or self.overwrite.resolution != "pending":
            return None
        self.overwrite = self.overwrite.resolved("kept")
        state = self.state("client")
        self._record(self.overwrite.replaced_model, state, "kept")
        return state

    async def prefer_providers(self, model: str, providers: list[str]) -> str:
        """Save which providers serve a model id first (preferences.toml [providers]); returns
        the canonical id. Raises ModelStringError or UnknownProvider (bad input) or
        PreferencesError (the file could not be written; nothing changed)."""
        canonical = canonical_id(model.split(":", 1)[-1].strip())
        check_model_id(canonical, whole=model)  # a key of preferences.toml: a model id's rules
        catalog = await self.catalogs.wait()
        if catalog is not None:
            for provider in providers:
                if provider not in catalog.providers:
                    hint = catalog.provider_hint(provider)
                    raise UnknownProvider(f"unknown provider {provider!r}{hint}")
        self.preferences.set_providers(canonical, providers)
        return canonical

    def _remember_provider(self, ref: ModelRef) -> None:
        """A global pick of provider:model is the user's preference for that model."""
        if self.catalog is None or ref.provider is None:
            return
        canonical = canonical_id(ref.model_id)
        if len(self.catalog.serving(canonical)) < 2 and not self.preferences.providers_for(
            canonical
        ):
            return
        try:
            self.preferences.prefer(canonical, ref.provider)
        except PreferencesError as exc:
            log.warning("provider preference not saved: %s", exc)

    def _overwrite_undone(self, snap: ConfigSnapshot) -> bool:
        """Whether a stale overwrite is pending; if the file no longer holds it (restored here or
        in another window, or the model changed since, by the user too), it is pending no more:
        a later "Restore" would undo that newer choice."""
        if self.overwrite is None or self.overwrite.resolution != "pending":
            return False
        if snap.data is not None and not ow.still_in_effect(self.overwrite, snap.data):
            restored = snap.default_model == self.overwrite.replaced_model
            self.overwrite = self.overwrite.resolved("restored" if restored else "kept")
        return True

    def _follow_overwrite(self, previous: ConfigSnapshot, snap: ConfigSnapshot) -> None:
        """Recognize a new stale overwrite, or see a pending one resolved elsewhere."""
        if self._overwrite_undone(snap):
            return
        if self.via_editor or previous.data is None or snap.data is None:
            return
        found = ow.detect(previous.data, snap.data)
        if found is not None:
            self.overwrite = found
            log.warning("%s", ow.message(found, snap.path))
            self.history.record(
                previous=found.replaced_model,
                model=found.model or DEFAULT_MODEL,
                scope="global",
                origin="stale-overwrite",
                client=None,
                # every server records this write once; a later overwrite with the same models
                # (tunacode's next save) is another write, with other bytes
                event=digest(snap.raw)[:16],
            )

    def _record(
        self, previous: str | None, state: ModelState, origin: str, kind: str | None = None
    ) -> None:
        client = self.client_name if origin == "client" else None
        self.defer(
            lambda: self.history.record(
                previous=previous,
                model=state.model,
                scope=state.scope,
                origin=origin,
                client=client,
                kind=kind,
            )
        )

    async def follow_external(self) -> tuple[ModelState | None, str | None]:
        """The watcher saw the shared config change: read it once settled, under the set lock
        (a set of this window's in flight is seen whole or not at all); see `external_change`."""
        async with self.set_lock:
            return self.external_change(await self.store.read_settled())

    def external_change(self, snap: ConfigSnapshot) -> tuple[ModelState | None, str | None]:
        """React to a fresh (settled) read of the file made by someone else. Returns the new
        state if anything visible may have changed, and a warning to show once if the file
        just turned invalid."""
        if (
            self.invalid is None
            and snap.error is None
            and snap.raw == self.snapshot.raw
            and snap.mode == self.snapshot.mode
        ):
            return None, None  # the same bytes as the state shown (our own write, seen): no change
        before = self.state("external")
        if snap.error is not None and (snap.error.reason == "invalid-config" or snap.exists):
            newly = self.invalid is None or self.invalid.cause != snap.error.cause
            first_time = self.invalid is None
            self.invalid = snap.error
            shown = (
                f"tunacode config {snap.path} is invalid: {snap.error.cause}. Keeping the last "
                "good model; nothing will be written until it is fixed."
                if first_time
                else None
            )
            return (self.state("external") if newly else None), shown
        self.invalid = None
        previous = self.snapshot
        self.snapshot = snap
        self.via_editor = self.marks is not None and self.marks.made_by_us(snap.raw)
        self._follow_overwrite(previous, snap)
        after = self.state("external")
        if after.change_key() == before.change_key():
            return None, None
        if (before.model, before.scope, before.persisted_model) != (
            after.model,
            after.scope,
            after.persisted_model,
        ):
            self.stats.external_changes += 1
            if (before.model, before.scope) != (after.model, after.scope):
                self._record(before.model, after, "external")
            elif after.persisted_model and before.persisted_model != after.persisted_model:
                # the global model changed under a session or workspace choice of this window
                global_now = after._replace(model=after.persisted_model, scope="global")
                self._record(before.persisted_model, global_now, "external")
        return after, None
