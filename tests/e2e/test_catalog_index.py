"""The catalog's sqlite index answers `search` exactly as the rules of PROTOCOL.md section 4 say,
checked against a plain in-memory reference of those rules (the search tuna-lsp had before the
index) over thousands of random queries: same items, same order, same total."""

from __future__ import annotations

import random
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "server"))

from tuna_lsp.base.model_string import canonical_id
from tuna_lsp.core.catalog import Catalog, ModelInfo, ProviderInfo, load_catalog
from tuna_lsp.core.catalog import index as index_module
from tuna_lsp.core.catalog import search as search_module
from tuna_lsp.core.catalog.index import listable as _listable
from tuna_lsp.core.catalog.load import layers as _layers
from tuna_lsp.core.catalog.schema import words as _words
from tuna_lsp.core.catalog.sources import split_model as _split


class Reference:
    """Matching and ranking over lists in memory, written for clarity, not speed."""

    def __init__(self, providers: dict[str, ProviderInfo]) -> None:
        self.providers = providers
        vendors: dict[str, Counter[str]] = {}
        self.rows: list[tuple[ModelInfo, str, tuple[str, str, str, tuple[str, ...]]]] = []
        for pid in sorted(providers):
            for mid in sorted(providers[pid].models):
                info = providers[pid].models[mid]
                if "/" in mid:
                    vendors.setdefault(canonical_id(mid), Counter())[mid.split("/")[0].lower()] += 1
                if _listable(info):
                    hay = f"{info.model} {providers[pid].name} {info.name or ''}".lower()
                    lmid, name = mid.lower(), (info.name or "").lower()
                    key = (lmid, canonical_id(lmid), name, tuple(_words(f"{lmid} {name}")))
                    self.rows.append((info, hay, key))
        self.makers = {c: v.most_common(1)[0][0] for c, v in vendors.items()}

    def model(self, provider: str, model_id: str) -> ModelInfo | None:
        prov = self.providers.get(provider)
        return prov.models.get(model_id) if prov else None

    def search(
        self,
        query: str | None,
        *,
        provider: str | None,
        limit: int,
        current: str | None,
        offset: int,
        keyed: Callable[[str], bool] | None,
        recents: Sequence[str],
    ) -> tuple[list[ModelInfo], int]:
        tokens = (query or "").lower().split()
        recent_rank = {m: i for i, m in enumerate(recents)}
        pinned = ([current] if current else []) + [r for r in recents if r != current]

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
            names = {i.model for i in lead}
            rest = [
                i
                for i, _, _ in self.rows
                if (not provider or i.provider == provider) and i.model not in names
            ]
            items = lead + rest
            return items[offset : offset + limit], len(items)

        def rank(info: ModelInfo, key: tuple[str, str, str, tuple[str, ...]]) -> tuple[Any, ...]:
            mid, canon, name, words = key
            score = 100 if len(tokens) > 1 and "-".join(tokens) == canon else 0
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
            return (
                -score,
                0 if info.model == current else 1,
                recent_rank.get(info.model, len(recent_rank) + 1),
                keyed is not None and not keyed(info.provider),
                info.provider != self.makers.get(canon),
                "/" in mid,
                info.provider,
                info.model_id,
            )

        matches = []
        found = set()
        for info, hay, key in self.rows:
            if all(t in hay for t in tokens) and (not provider or info.provider == provider):
                found.add(info.model)
                matches.append((rank(info, key), info))
        for model in pinned:
            custom = None if model in found else pinned_info(model)
            if custom is not None and all(t in model.lower() for t in tokens):
                mid = custom.model_id.lower()
                matches.append(
                    (rank(custom, (mid, canonical_id(mid), "", tuple(_words(mid)))), custom)
                )
        matches.sort(key=lambda pair: pair[0])
        return [i for _, i in matches[offset : offset + limit]], len(matches)


def typed(result: tuple[list[ModelInfo], int]) -> Any:
    """Items with each value's type: 2 and 2.0 differ on the wire."""
    items, total = result
    return [[(type(v).__name__, v) for v in tuple(i)] for i in items], total


WORDS = [
    "claude", "sonnet", "gpt", "4.1", "4o", "mini", "o3", "openai", "anthropic", "gemini",
    "pro", "llama", "3", "a", "x", "gpt-4.1", "claude-sonnet-4", "opus", "Mistral", "flash",
    "/", "ai", "qwen", "zzz", "v1", "free", "openrouter", "é", "-", "4", "gpt-4.1-mini", ":",
]  # fmt: skip
PINNED = [
    "openai:gpt-4.1", "anthropic:claude-sonnet-4-20250514", "local:my-own", "bad",
    "openrouter:anthropic/claude-sonnet-4", "openai:gpt-4o", "openai:gpt-4.1", "x:Weird Name",
]  # fmt: skip


@pytest.fixture(params=[True, False], ids=["fts5", "no-fts5"])
def fts5(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Each test runs with the full-text index and with the scan a sqlite3 without FTS5 gets."""
    monkeypatch.setattr(index_module, "_fts5", request.param)
    return bool(request.param)


def test_index_search_matches_the_reference_rules(fts5: bool) -> None:
    layers = _layers(None, include_tunacode=False)
    merged: dict[str, ProviderInfo] = {}
    for providers, _ in layers:
        merged.update(providers)
    ref = Reference(merged)
    catalog = Catalog.from_layers(layers)
    assert catalog.scans is not fts5
    rnd = random.Random(16)
    ids = sorted(merged)
    for _ in range(1500):
        keys = set(rnd.sample(ids, 20))
        args: dict[str, Any] = {
            "provider": rnd.choice([None, None, "openai", "openrouter", "anthropic", "nope"]),
            "limit": rnd.choice([1, 5, 50, 1000]),
            "offset": rnd.choice([0, 0, 2, 10]),
            "current": rnd.choice([*PINNED, None]),
            "recents": rnd.sample(PINNED, rnd.randint(0, 5)),
            "keyed": rnd.choice([None, keys.__contains__]),
        }
        query = " ".join(rnd.sample(WORDS, rnd.randint(0, 3)))
        assert typed(catalog.search(query, **args)) == typed(ref.search(query, **args)), (
            query,
            args,
        )


def test_index_file_is_shared_and_rebuilt_when_a_source_changes(tmp_path: Path, fts5: bool) -> None:
    from tuna_lsp.core.catalog import SNAPSHOT_NAME, index_path, open_catalog

    first = open_catalog(tmp_path, include_tunacode=False)
    path = index_path(tmp_path, False)
    assert path.is_file() and first.describe == load_catalog(None, include_tunacode=False).describe
    # the builder (a child process) made the index this sqlite3 can read
    assert first.scans is not fts5
    items, total = first.search("gpt 4.1", provider=None, limit=5, current=None, recents=[])
    assert total > 0 and all("gpt" in i.model.lower() for i in items)
    stamp = path.stat().st_mtime_ns
    again = open_catalog(tmp_path, include_tunacode=False)
    assert path.stat().st_mtime_ns == stamp and again.describe == first.describe  # not rebuilt
    bad = tmp_path / SNAPSHOT_NAME
    bad.write_text("{}")  # a changed source: a new index (the unusable snapshot is left out)
    assert index_path(tmp_path, False) != path
    assert open_catalog(tmp_path, include_tunacode=False).describe == first.describe


ODD_WORDS = [
    "claude", "sonnet", "Sonnet", "v1", "v12", "claude-sonnet-4-v1", "o'brien", '"q"', "~7e", "~",
    "a~b", "ünï", "ünïcode-model-with-a-long-id", "x", "4.1", "gpt-4.1", "gpt", "odd/one", "(", "%",
    "synthetic", "provider-0", "p1:claude", "thirteen-char", "zz", "-", "claude claude",
]  # fmt: skip


@pytest.mark.parametrize(
    "few, named, dense, fts5",
    [
        (200, 500, 2000, True),
        (0, 500, 2000, True),
        (0, 1, 2000, True),
        (0, 500, 1, True),
        (60, 500, 150, True),
        (60, 500, 2000, False),
    ],
)
def test_index_search_matches_the_reference_rules_on_a_synthetic_catalog(
    monkeypatch: pytest.MonkeyPatch, few: int, named: int, dense: int, fts5: bool
) -> None:
    """Many models sharing words (scores tie in large groups, the index reads levels), capitals,
    quotes, the escape character, non-ASCII and long ids; with each way `search` ranks: in
    Python for few matches, by levels of the index, with exact names among the levels; and
    each way it counts: by bitmaps of common terms (all of them, or those of `dense` models)."""
    monkeypatch.setattr(search_module, "_FEW", few)
    monkeypatch.setattr(search_module, "_NAMED", named)
    monkeypatch.setattr(index_module, "_DENSE", dense)
    monkeypatch.setattr(index_module, "_fts5", fts5)  # False: sqlite3 without FTS5, a scan
    families = [
        ("claude-sonnet-4", "Claude Sonnet 4"), ("gpt-4.1", "GPT-4.1"), ("o'brien-1", "O'Brien \"Q\""),
        ("a~b-model", "A~B (beta) 100%"), ("ünïcode-model-with-a-long-id", "Ünïcode Modél"),
        ("Mixed-CASE", None), ("odd/one", "Odd One"), ("gpt-4.1", "gpt 4.1 again"),
    ]  # fmt: skip
    providers: dict[str, ProviderInfo] = {}
    for p in range(12):
        pid = f"provider-{p}"
        prov = ProviderInfo(pid, f"Synthetic {p} ~Cloud", ("KEY",))
        for j in range(150):
            fam, name = families[(p + j) % len(families)]
            mid = f"{fam.split('-')[0]}/{fam}-v{j}" if p % 3 == 0 else f"{fam}-v{j % 7}"
            if j % 11 == 0:
                mid = fam  # exact ids, served by many providers
            info = ModelInfo(pid, mid, name and f"{name} v{j}", 1000, 100, 1.0, 2.0, None, True)
            prov.models[mid] = info
        providers[pid] = prov
    layers = [(providers, _layers(None, include_tunacode=False)[0][1])]
    ref = Reference(providers)
    catalog = Catalog.from_layers(layers)
    assert catalog.scans is not fts5
    pinned = [*PINNED, "provider-1:gpt-4.1", "provider-3:claude-sonnet-4", "provider-0:Mixed-CASE"]
    rnd = random.Random(7)
    ids = sorted(providers)
    for _ in range(600):
        keys = set(rnd.sample(ids, 3))
        keyed = rnd.choice([None, keys.__contains__, lambda p: True])
        args: dict[str, Any] = {
            "provider": rnd.choice([None, None, None, "provider-1", "provider-3", "nope"]),
            "limit": rnd.choice([1, 5, 50, 1000]),
            "offset": rnd.choice([0, 0, 2, 10, 100]),
            "current": rnd.choice([*pinned, None]),
            "recents": rnd.sample(pinned, rnd.randint(0, 5)),
            "keyed": keyed,
        }
        # as a listing asks: the keyed providers given at once (a custom one among them)
        given = {**args}
        if keyed is not None and rnd.random() < 0.5:
            given["keyed_providers"] = {p for p in [*ids, "local"] if keyed(p)}
        query = " ".join(rnd.sample(ODD_WORDS, rnd.randint(1, 3)))
        assert typed(catalog.search(query, **given)) == typed(ref.search(query, **args)), (
            query,
            given,
        )
