"""The model choice of one server process: effective model, session override, and how it changes.

The domain heart of the server. It combines the shared config (config_store), the catalog, the
routing preferences and the history into `ModelState`, and implements a set (validate, resolve,
write, record) and the reaction to an external change of the file. It knows nothing of LSP:
handlers in `features/` translate requests to calls here and results to the wire (`conversion`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from ..storage.config_store import DEFAULT_MODEL, ConfigError, ConfigSnapshot, ConfigStore
from .model_string import ModelRef, ModelStringError, canonical_id, parse_model

if TYPE_CHECKING:
    from ..storage.history import History
    from ..storage.preferences import Preferences
    from .catalog import Catalog

log = logging.getLogger(__name__)

Scope = Literal["session", "global", "default"]
Origin = Literal["initial", "client", "external"]


@dataclass(frozen=True)
class ModelState:
    model: str
    provider: str
    model_id: str
    scope: Scope
    persisted_model: str | None
    config_path: str
    name: str | None
    context_window: int | None
    api_key: Literal["present", "missing"]
    api_key_env_var: str | None
    recent_models: list[str]
    warnings: list[str]
    origin: Origin
    resolved_from: str | None = None
    config_valid: bool = True
    catalog: dict[str, Any] | None = None

    def change_key(self) -> tuple[Any, ...]:
        """What makes a tuna/modelChanged: the fields PROTOCOL.md names, plus warnings and validity.
        `origin` alone is not a change, and neither is the catalog arriving with a name and a
        context window for the same model (that is `tuna/catalogChanged`)."""
        return (
            self.model,
            self.scope,
            self.persisted_model,
            tuple(self.recent_models),
            self.api_key,
            self.api_key_env_var,
            tuple(self.warnings),
            self.config_valid,
        )


@dataclass
class SetOutcome:
    state: ModelState
    message: str
    changed: bool


@dataclass
class Stats:
    saves: int = 0
    unchanged_sets: int = 0
    session_sets: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    external_changes: int = 0
    save_latencies_ms: list[float] = field(default_factory=list)

    def record_latency(self, ms: float) -> None:
        self.save_latencies_ms.append(ms)
        if len(self.save_latencies_ms) > 10_000:
            del self.save_latencies_ms[:5_000]

    def as_dict(self) -> dict[str, Any]:
        lat = sorted(self.save_latencies_ms)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 3) if lat else None

        return {
            "saves": self.saves,
            "unchangedSets": self.unchanged_sets,
            "sessionSets": self.session_sets,
            "failures": dict(self.failures),
            "externalChanges": self.external_changes,
            "saveLatencyMs": {
                "p50": pct(0.5),
                "p90": pct(0.9),
                "p99": pct(0.99),
                "count": len(lat),
            },
        }


def env_var_for(provider: str, catalog: Catalog | None) -> str:
    """As tunacode does: the catalog's first env var, else PROVIDER_API_KEY."""
    if catalog is not None:
        names = catalog.env_vars(provider)
        if names:
            return names[0]
    return f"{provider.upper().replace('-', '_')}_API_KEY"


class ModelService:
    def __init__(
        self,
        store: ConfigStore,
        history: History | None,
        preferences: Preferences | None,
        *,
        environ: Mapping[str, str] | None = None,
        client_name: str | None = None,
    ) -> None:
        self.store = store
        self.history = history
        self.preferences = preferences
        self.environ = environ if environ is not None else os.environ
        self.client_name = client_name
        self.catalog: Catalog | None = None
        self._catalog_waiter: Callable[[], Awaitable[Catalog | None]] | None = None
        self.snapshot: ConfigSnapshot = store.read(settle=0.0)
        self.invalid: ConfigError | None = self.snapshot.error
        self.session: ModelRef | None = None
        self.session_extra: tuple[str | None, list[str]] = (None, [])
        self.stats = Stats()
        self.set_lock = asyncio.Lock()

    # ---- state ----------------------------------------------------------------------------

    def has_key(self, provider: str) -> bool:
        var = env_var_for(provider, self.catalog)
        return self.snapshot.env_has(var) or bool(self.environ.get(var, "").strip())

    def state(self, origin: Origin) -> ModelState:
        snap = self.snapshot
        persisted = snap.default_model
        warnings: list[str] = []
        resolved_from = None
        if self.session is not None:
            ref, scope = self.session, "session"
            resolved_from, extra = self.session_extra
            warnings += extra
        else:
            scope = "global" if persisted else "default"
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
        if self.preferences is not None and self.preferences.error is not None:
            warnings.append(f"routing preferences ignored: {self.preferences.error}")
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
        )

    # ---- validation -----------------------------------------------------------------------

    def attach_catalog(self, waiter: Callable[[], Awaitable[Catalog | None]]) -> None:
        self._catalog_waiter = waiter

    async def _ensure_catalog(self) -> Catalog | None:
        if self.catalog is None and self._catalog_waiter is not None:
            self.catalog = await self._catalog_waiter()
        return self.catalog

    async def resolve(self, text: object) -> tuple[ModelRef, str | None, list[str]]:
        """Parse, check against the catalog and route. Raises ModelStringError."""
        ref = parse_model(text)
        catalog = await self._ensure_catalog()
        if ref.provider is None:
            if catalog is None:
                raise ModelStringError(
                    f"{ref.model_id!r} has no provider and the model catalog is unavailable; "
                    "give it as 'provider:model_id'"
                )
            from .routing import resolve_bare

            preferred = self.preferences.providers_for(ref.canonical) if self.preferences else []
            res = resolve_bare(ref.model_id, catalog, preferred, self.has_key)
            return res.ref, res.resolved_from, res.warnings
        warnings: list[str] = []
        if catalog is not None:
            if ref.provider not in catalog.providers:
                close = catalog.closest_providers(ref.provider)
                hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                raise ModelStringError(
                    f"unknown provider {ref.provider!r}{hint or '.'} Expected 'provider:model_id' with a "
                    "known provider id (e.g. 'openai:gpt-4.1')"
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
        """Raises ModelStringError (bad input) or ConfigError (nothing changed)."""
        ref, resolved_from, warnings = await self.resolve(text)
        log.debug("set: resolved to %s (from %s)", ref.model, resolved_from or "as given")
        async with self.set_lock:
            if scope == "session":
                return self._set_session(ref, resolved_from, warnings)
            return await self._set_global(ref, resolved_from, warnings)

    def _set_session(
        self, ref: ModelRef, resolved_from: str | None, warnings: list[str]
    ) -> SetOutcome:
        before = self.state("client")
        self.session = ref
        self.session_extra = (resolved_from, warnings)
        after = self.state("client")
        changed = (before.model, before.scope) != (after.model, after.scope)
        if changed:
            self.stats.session_sets += 1
            self._record(before.model, after, "client")
        return SetOutcome(
            after,
            f"Model set to {ref.model} for this session only (not saved)",
            changed,
        )

    async def _set_global(
        self, ref: ModelRef, resolved_from: str | None, warnings: list[str]
    ) -> SetOutcome:
        before = self.state("client")
        t0 = time.perf_counter()
        try:
            try:
                old, new = self.store.set_model(ref.model, blocking=False)
            except BlockingIOError:
                loop = asyncio.get_running_loop()
                old, new = await loop.run_in_executor(None, self.store.set_model, ref.model)
        except ConfigError as exc:
            self.stats.failures[exc.reason] = self.stats.failures.get(exc.reason, 0) + 1
            raise
        wrote = new is not old
        if wrote:
            self.stats.saves += 1
            self.stats.record_latency((time.perf_counter() - t0) * 1000)
        else:
            self.stats.unchanged_sets += 1
        self.snapshot = new
        self.invalid = None
        self.session = None
        self.session_extra = (None, [])
        self._remember_provider(ref)
        after = self.state("client")
        after = replace(after, resolved_from=resolved_from, warnings=warnings + after.warnings)
        changed = wrote or (before.model, before.scope) != (after.model, after.scope)
        if changed:
            self._record(before.model, after, "client")
        where = f"saved to {self.store.path}" if wrote else f"already saved in {self.store.path}"
        return SetOutcome(after, f"Model set to {ref.model} and {where}", changed)

    def _remember_provider(self, ref: ModelRef) -> None:
        """A global pick of provider:model is the user's preference for that model."""
        if self.preferences is None or self.catalog is None or ref.provider is None:
            return
        canonical = canonical_id(ref.model_id)
        if len(self.catalog.serving(canonical)) < 2 and not self.preferences.providers_for(
            canonical
        ):
            return
        from ..storage.preferences import PreferencesError

        try:
            self.preferences.prefer(canonical, ref.provider)
        except PreferencesError as exc:
            log.warning("provider preference not saved: %s", exc)

    def _record(self, previous: str | None, state: ModelState, origin: Origin) -> None:
        if self.history is not None:
            self.history.record(
                previous=previous,
                model=state.model,
                scope=state.scope,
                origin=origin,
                client=self.client_name if origin == "client" else None,
            )

    def external_change(self, snap: ConfigSnapshot) -> tuple[ModelState | None, str | None]:
        """React to a fresh (settled) read of the file made by someone else. Returns the new
        state if anything visible may have changed, and a warning to show once if the file
        just turned invalid."""
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
        self.snapshot = snap
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
        return after, None

    def set_catalog(self, catalog: Catalog | None) -> None:
        self.catalog = catalog
