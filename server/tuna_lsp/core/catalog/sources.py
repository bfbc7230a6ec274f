"""What the sources hold, as every reader of the catalog sees it: a model (`ModelInfo`, or a
`CustomModel` no source has), a provider, a source's name and version; the models.dev document
(the shape of tunacode's registry and of a snapshot: `providers_from_models_dev_json`,
`validate_snapshot`); and where the sources' files are (`package_file`, `SNAPSHOT_NAME`), which
name the shared index (`cache.index_path`).

Reading the sources themselves is `load`'s, the builder's (a child process) and the in-memory
fallback's only: a server that opens the index imports this module, never that one.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ...base.model_string import ModelRef

SNAPSHOT_NAME = "models-dev-snapshot.json"


class ModelInfo(NamedTuple):  # (a listing makes tens of these: a tuple is made 4x faster)
    provider: str
    model_id: str
    name: str | None
    context_window: int | None
    output_limit: int | None
    cost_input: float | None
    cost_output: float | None
    reasoning: bool | None
    tool_call: bool | None

    @property
    def in_catalog(self) -> bool:
        """The wire's inCatalog."""
        return True

    @property
    def model(self) -> str:
        return f"{self.provider}:{self.model_id}"


class CustomModel(ModelInfo):
    """A model the catalog does not have: a custom or new one the user chose. Only its id."""

    __slots__ = ()

    @property
    def in_catalog(self) -> bool:
        return False


def custom_model(provider: str, model_id: str) -> CustomModel:
    return CustomModel(provider, model_id, None, None, None, None, None, None, None)


def split_model(model: str) -> ModelRef:
    """`provider:model_id` (a current or recent model); ValueError if either part is empty."""
    provider, _, model_id = model.partition(":")
    if not provider or not model_id:
        raise ValueError(model)
    return ModelRef(provider, model_id)


@dataclass(slots=True)
class ProviderInfo:
    id: str
    name: str
    env: tuple[str, ...]
    models: dict[str, ModelInfo] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    version: str


Layer = tuple[dict[str, ProviderInfo], Source]


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _model_from_json(pid: str, mid: str, m: dict[str, Any]) -> ModelInfo:
    limit: dict[str, Any] = m["limit"] if isinstance(m.get("limit"), dict) else {}
    cost: dict[str, Any] = m["cost"] if isinstance(m.get("cost"), dict) else {}
    mname = m.get("name")
    return ModelInfo(
        provider=pid,
        model_id=mid,
        name=mname if isinstance(mname, str) else None,
        context_window=_int(limit.get("context")),
        output_limit=_int(limit.get("output")),
        cost_input=_num(cost.get("input")),
        cost_output=_num(cost.get("output")),
        reasoning=_bool(m.get("reasoning")),
        tool_call=_bool(m.get("tool_call")),
    )


def providers_from_models_dev_json(raw: Mapping[str, Any]) -> dict[str, ProviderInfo]:
    """Providers from a models.dev document (`{provider_id: {id, name, env, models: {...}}}`);
    the shape of the API, of tunacode's bundled registry and of a downloaded snapshot."""
    out: dict[str, ProviderInfo] = {}
    for pid, pdata in raw.items():
        if not isinstance(pdata, dict) or not isinstance(pid, str):
            continue
        env = pdata.get("env")
        env_t = tuple(e for e in env if isinstance(e, str)) if isinstance(env, list) else ()
        name = pdata.get("name")
        prov = ProviderInfo(pid, name if isinstance(name, str) else pid, env_t)
        models = pdata.get("models")
        for mid, m in models.items() if isinstance(models, dict) else ():
            if isinstance(m, dict) and isinstance(mid, str):
                prov.models[mid] = _model_from_json(pid, mid, m)
        out[pid] = prov
    return out


def package_file(name: str, *parts: str) -> Path | None:
    """A file of an installed package, found without importing the package."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)), *parts)


TUNACODE_REGISTRY = ("tunacode", "configuration", "models_registry.json")


def validate_snapshot(raw: object) -> dict[str, ProviderInfo]:
    """A downloaded snapshot is used only if it looks like models.dev: an object of providers,
    enough of them, each with models. Raises ValueError saying what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("a models.dev snapshot must be a JSON object of providers")
    providers = providers_from_models_dev_json(raw)
    with_models = [p for p in providers.values() if p.models]
    if len(with_models) < 10:
        raise ValueError(
            f"the snapshot has {len(with_models)} providers with models; expected a full "
            "models.dev document (100 or more)"
        )
    return providers
