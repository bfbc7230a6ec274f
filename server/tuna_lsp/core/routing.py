"""Routing (PROTOCOL.md section 5): which provider serves a model given without one.

A bare id resolves to the first preferred provider that serves it and has its key; else the first
preferred provider that serves it (warning: key missing); else any provider that serves it, those
with a key first (warning: fallback). Must not import lsprotocol.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..base.model_string import ModelRef, ModelStringError, canonical_id
from .catalog import Catalog, ModelInfo, did_you_mean


@dataclass(frozen=True)
class Resolution:
    ref: ModelRef
    resolved_from: str | None = None
    warnings: list[str] = field(default_factory=list)


def resolve_bare(
    text: str,
    catalog: Catalog,
    preferred: Sequence[str],
    has_key: Callable[[str], bool],
) -> Resolution:
    canonical = canonical_id(text)
    serving = catalog.serving(canonical)
    if not serving:
        close = catalog.closest_canonical(canonical)
        hint = did_you_mean(close)
        raise ModelStringError(
            f"no provider serves a model {text!r}{hint or '.'} Give it as 'provider:model_id' "
            "(e.g. 'openai:gpt-4.1') for a custom or local model"
        )
    by_provider = {info.provider: info for info in serving}
    in_prefs = [by_provider[p] for p in preferred if p in by_provider]

    def ref(info: ModelInfo) -> ModelRef:
        return ModelRef(info.provider, info.model_id)

    for info in in_prefs:
        if has_key(info.provider):
            return Resolution(ref(info), canonical)
    if in_prefs:
        first = in_prefs[0]
        return Resolution(
            ref(first),
            canonical,
            [
                f"{first.provider} is your preferred provider for {canonical} but its API key is "
                "missing; no other preferred provider with a key serves it"
            ],
        )

    maker = catalog.maker(canonical)

    def order(info: ModelInfo) -> tuple[bool, bool, bool, str]:
        # keyed first; then the maker itself; then ids without a vendor prefix; then by name
        return (
            not has_key(info.provider),
            info.provider != maker,
            "/" in info.model_id,
            info.provider,
        )

    chosen = sorted(serving, key=order)[0]
    why = "it has an API key" if has_key(chosen.provider) else "no provider serving it has a key"
    others = len(serving) - 1
    return Resolution(
        ref(chosen),
        canonical,
        [
            f"no provider preference for {canonical}: fell back to {chosen.provider} ({why}; "
            f"{others} other provider{'s' if others != 1 else ''} serve it). Set one with "
            "tuna/setProviderPreference or by choosing 'provider:model' once"
        ],
    )
