"""The values of the model domain (core/model_service.py works on them): the state of a window's
model choice as the wire shows it, the outcome of a set, the counters behind `tuna/stats`, the
domain's errors, and where the catalog comes from. Must not import lsprotocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from . import overwrite as ow

if TYPE_CHECKING:
    from .catalog import Catalog

Scope = Literal["session", "workspace", "global", "default"]
Origin = Literal["initial", "client", "external"]


class ModelState(NamedTuple):
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
    workspace_folder: str | None = None
    workspace_model: str | None = None
    via_editor: bool = False
    overwrite: ow.Overwrite | None = None

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
            self.workspace_model,
            (self.overwrite.at, self.overwrite.resolution) if self.overwrite else None,
        )


class ScopeError(Exception):
    """A scope this server cannot serve (workspace without a folder): bad input, nothing changed."""


class OverwriteError(Exception):
    """`restoreOverwrite` with nothing pending: nothing changed."""


class UnknownProvider(ValueError):
    """A provider the catalog does not know: bad input, nothing changed."""


class SetOutcome(NamedTuple):
    state: ModelState  # the answer's: with what this request resolved and warned of
    message: str
    changed: bool
    status: ModelState | None = None  # this window's state now, as tuna/modelChanged shows it
    wrote: bool = False  # a file was written (the save outcomes: "saved", else "unchanged")


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


class CatalogSource(Protocol):
    """Where the catalog in use comes from: loaded once off the start-up path, replaced on refresh."""

    @property
    def current(self) -> Catalog | None: ...

    async def wait(self) -> Catalog | None: ...


class FixedCatalog:
    """A catalog source that is already loaded (tests, tools)."""

    def __init__(self, catalog: Catalog | None) -> None:
        self.current = catalog

    async def wait(self) -> Catalog | None:
        return self.current
