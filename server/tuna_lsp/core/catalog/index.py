"""The catalog's sqlite index: written (`write_index`: the merged sources, the search terms),
opened (`Catalog.open`: only as data, never a function, view or trigger of the file) and read
(`Catalog`: lookups; `search` ranks, `suggest` says "did you mean"). Where sqlite3 has no FTS5
(probed once, `has_fts5`), the index holds no search terms and `search` scans the models."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ...base.model_string import PROVIDER_RE, canonical_id, check_model_id
from . import suggest
from .schema import (
    DDL,
    DDL_NO_FTS5,
    INFO,
    SCHEMA,
    first_word,
    grams,
    model_info,
    prefixes,
    quote,
    term,
    words,
)
from .search import Search
from .sources import Layer, ModelInfo, ProviderInfo, Source

log = logging.getLogger(__name__)
# A term of this many models gets a bitmap: counting that many rows in FTS5 takes ~0.3 ms, and
# the bitmaps of a 50 000-model catalog take 6.5 MiB more of the index file.
_DENSE = 2000
# sqlite's page cache of an index file's connection (KiB), idle and from a search to its end
# (Catalog.shrink_memory, a moment after the last search): each editor window has a server.
IDLE_CACHE_KIB = 256
SEARCH_CACHE_KIB = 2048

# Whether this Python's sqlite3 has FTS5 (some standalone builds ship it without): probed once.
# Without it the index holds no search terms and `search` scans the models (same rules, slower).
_fts5: bool | None = None


def has_fts5() -> bool:
    global _fts5
    if _fts5 is None:
        db = sqlite3.connect(":memory:")
        try:
            db.execute("CREATE VIRTUAL TABLE temp.probe USING fts5(t)")
            _fts5 = True
        except sqlite3.Error as exc:
            _fts5 = False
            log.warning(
                "this Python's sqlite3 has no FTS5 (%s): model search scans the catalog instead "
                "of its full-text index (the same results; slower on each keystroke)",
                exc,
            )
        finally:
            db.close()
    return _fts5


def assume_no_fts5() -> None:
    """The index builder's parent found no FTS5 (or a test forced that): the same here."""
    global _fts5
    _fts5 = False


def listable(info: ModelInfo) -> bool:
    """Catalog entries whose ids break the model-string rules are left out of listings."""
    if not PROVIDER_RE.fullmatch(info.provider):
        return False
    try:
        check_model_id(info.model_id, whole=info.model_id)
    except ValueError:
        return False
    return True


class _ModelRow(NamedTuple):
    """A row of `models` (schema.DDL), in its columns' order, but for `pos`."""

    provider: str
    model_id: str
    model: str
    name: str | None
    context: int | None
    output: int | None
    cost_in: float | None
    cost_out: float | None
    reasoning: bool | None
    tool_call: bool | None
    canonical: str
    listable: int
    hay: str | None  # model string, provider name, model name, lowercased (listable ones)
    slash: int
    not_maker: int


_COLUMNS = ", ".join(["rowid", *_ModelRow._fields, "pos"])
_INSERT_MODEL = (
    f"INSERT INTO models({_COLUMNS}) VALUES ({', '.join('?' * (len(_ModelRow._fields) + 2))})"
)


def _makers(providers: Mapping[str, ProviderInfo]) -> dict[str, str]:
    """Each canonical id's maker: the vendor prefix aggregators give it most ("openai" in
    openai/gpt-4.1)."""
    vendors: dict[str, Counter[str]] = {}
    for prov in providers.values():
        for mid, info in prov.models.items():
            # an entry whose id breaks the model-string rules can be neither listed nor routed to
            # (written to the config, it would break the next read): it names no maker either
            if "/" in mid and listable(info):
                vendors.setdefault(canonical_id(mid), Counter())[mid.split("/")[0].lower()] += 1
    return {c: v.most_common(1)[0][0] for c, v in vendors.items()}


def _model_rows(providers: Mapping[str, ProviderInfo], makers: dict[str, str]) -> list[_ModelRow]:
    rows = []
    for pid in sorted(providers):  # (provider, model_id): the unranked listing
        prov = providers[pid]
        for mid in sorted(prov.models):
            info = prov.models[mid]
            ok = listable(info)
            lmid = mid.lower()
            rows.append(_ModelRow(
                pid, mid, info.model, info.name, info.context_window, info.output_limit,
                info.cost_input, info.cost_output, info.reasoning, info.tool_call,
                canonical_id(mid), int(ok),
                f"{info.model} {prov.name} {info.name or ''}".lower() if ok else None,
                int("/" in lmid), int(pid != makers.get(canonical_id(lmid))),
            ))  # fmt: skip
    return rows


def _terms(row: _ModelRow, known: dict[str, frozenset[str]]) -> set[str]:
    """The search terms of a listable model (schema.DDL says what each kind means); `known`
    keeps the `g` terms of words that repeat (those of names and provider names)."""
    mid, model = row.model_id.lower(), row.model.lower()
    canon, name = canonical_id(mid), (row.name or "").lower()
    terms = prefixes("p", model) | prefixes("p", mid)
    if canon != mid:
        terms |= prefixes("p", canon)
    for word in (row.hay or "").split():
        if word == model:  # unique: not worth keeping
            terms |= grams("g", word)
            continue
        if word not in known:
            known[word] = frozenset(grams("g", word))
        terms |= known[word]
    terms.update(term("x", k) for k in (mid, canon, model))
    terms.add(term("v", row.provider))
    for word in {first_word(name), *words(f"{mid} {name}")}:
        terms |= prefixes("w", word)
    terms.add(term("c", canon))
    return terms


def write_index(db: Any, providers: Mapping[str, ProviderInfo], sources: Sequence[Source]) -> None:
    """Fill an empty sqlite database with the merged catalog and its search index: each listable
    model's haystack (model string, provider name, model name, lowercased), its place among
    models of equal score (`pos`: maker first, direct ids first, provider, model id) and the
    terms that say which tokens it matches and how well (see schema.DDL). Without FTS5, the
    models only (meta `search`: "scan")."""
    fts = has_fts5()
    db.executescript(DDL if fts else DDL_NO_FTS5)
    makers = _makers(providers)
    rows = _model_rows(providers, makers)
    # pos: the order of (not_maker, slash, provider, model_id), the last keys of the ranking
    listed = sorted(
        (r for r in rows if r.listable),
        key=lambda r: (r.not_maker, r.slash, r.provider, r.model_id),
    )
    # a listable model's rowid is its pos (looked up by rowid, without an index); the others after
    ranked = listed + [r for r in rows if not r.listable]
    db.executemany(
        _INSERT_MODEL,
        [(i, *row, i if row.listable else None) for i, row in enumerate(ranked, 1)],
    )
    if fts:
        known: dict[str, frozenset[str]] = {}
        docs = [(pos, " ".join(_terms(row, known))) for pos, row in enumerate(listed, 1)]
        db.executemany("INSERT INTO terms(rowid, t) VALUES (?, ?)", docs)
    listed_by_provider = Counter(row.provider for row in listed)
    db.executemany(
        "INSERT INTO providers VALUES (?, ?, ?, ?, ?)",
        [
            (p.id, p.name, json.dumps(p.env), len(p.models), listed_by_provider[p.id])
            for p in providers.values()
        ],
    )
    db.executemany("INSERT INTO makers VALUES (?, ?)", sorted(makers.items()))
    meta = {
        "schema": SCHEMA,
        "sources": [[s.name, s.version] for s in sources],
        "models": len(rows),
        "search": "fts5" if fts else "scan",
    }
    db.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()])
    if fts:
        db.execute("INSERT INTO terms(terms) VALUES ('optimize')")
        _write_dense(db, len(listed))
    db.commit()


def _write_dense(db: Any, models: int) -> None:
    """The bitmap of each `g` and `v` term of at least _DENSE models (bit `pos`)."""
    db.execute("CREATE VIRTUAL TABLE temp.vocabulary USING fts5vocab(main, terms, row)")
    size = models // 8 + 1
    for (dense,) in db.execute(
        "SELECT term FROM temp.vocabulary WHERE doc >= ? AND substr(term, 1, 1) IN ('g', 'v')",
        (_DENSE,),
    ).fetchall():
        bits = bytearray(size)
        for (pos,) in db.execute("SELECT rowid FROM terms WHERE terms MATCH ?", (quote(dense),)):
            bits[pos >> 3] |= 1 << (pos & 7)
        db.execute("INSERT INTO dense VALUES (?, ?)", (dense, bytes(bits)))
    db.execute("DROP TABLE temp.vocabulary")


_UNKNOWN = object()  # Catalog.model's memo: not asked yet (None: asked, not in the catalog)


class Catalog:
    """An immutable view of the merged sources, read from a sqlite index: in a file in the cache
    dir shared by every server (through the page cache: no process holds the models), or in
    memory (`from_layers`). Providers (a few hundred) are held; models are looked up."""

    def __init__(self, db: Any, *, cache_kib: int = 0) -> None:
        self._db = db
        # An index file's connection keeps a small page cache while idle (`cache_kib`; the OS's
        # page cache holds the rest) and a larger one from a search until shrink_memory.
        self._cache_kib = cache_kib
        self._searching = False
        meta = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
        if meta.get("schema") != SCHEMA:
            raise ValueError(f"catalog index schema {meta.get('schema')!r}, expected {SCHEMA}")
        self.sources = tuple(Source(n, v) for n, v in meta["sources"])
        # an index without search terms (made where sqlite3 has no FTS5): `search` scans
        self.scans = meta.get("search") == "scan"
        self._count = int(meta["models"])
        self.providers: dict[str, ProviderInfo] = {}
        self._listable: dict[str, int] = {}  # how many models of each provider can be listed
        for pid, name, env, n in db.execute("SELECT id, name, env, listable FROM providers"):
            self.providers[pid] = ProviderInfo(pid, name, tuple(json.loads(env)))
            self._listable[pid] = n
        self._describe: dict[str, Any] | None = None
        self._recent: dict[tuple[str, str], ModelInfo | None] = {}
        self._serving: dict[str, tuple[ModelInfo, ...]] = {}
        self._search = Search(db, self._listable, model=self.model, maker=self.maker)

    @classmethod
    def open(cls, path: Path) -> Catalog:
        """The index file, read-only. Raises sqlite3.Error or ValueError if it is unusable."""
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
        # The file is only data: no function of its schema runs, and a view or a trigger (which
        # the builder never makes) means someone else made it.
        db.execute("PRAGMA trusted_schema = OFF")
        odd = db.execute(
            "SELECT type, name FROM sqlite_master WHERE type NOT IN ('table', 'index') LIMIT 1"
        ).fetchone()
        if odd is not None:
            db.close()
            kind, name = odd
            raise ValueError(f"the index holds a {kind} ({name!r}), which tuna-lsp never makes")
        db.execute(f"PRAGMA cache_size = -{IDLE_CACHE_KIB}")
        return cls(db, cache_kib=IDLE_CACHE_KIB)

    @classmethod
    def from_layers(cls, layers: Iterable[Layer]) -> Catalog:
        merged: dict[str, ProviderInfo] = {}
        sources = []
        for providers, source in layers:
            merged.update(providers)
            sources.append(source)
        db = sqlite3.connect(":memory:", check_same_thread=False)
        write_index(db, merged, sources)
        return cls(db)

    def shrink_memory(self) -> None:
        """Free what this connection holds that the OS page cache holds anyway (a search's
        larger page cache included)."""
        if self._cache_kib and self._searching:
            self._db.execute(f"PRAGMA cache_size = -{self._cache_kib}")
        self._searching = False
        self._search.forget()
        self._db.execute("PRAGMA shrink_memory")

    def maker(self, canonical: str) -> str | None:
        """The model's maker: the vendor prefix aggregators give it ("openai" in openai/gpt-4.1)."""
        rows = self._db.execute("SELECT maker FROM makers WHERE canonical = ?", (canonical,))
        return next((maker for (maker,) in rows), None)

    @property
    def describe(self) -> dict[str, Any]:
        """Which sources answered (sent with every state: computed once)."""
        if self._describe is None:
            self._describe = {
                "sources": [{"name": s.name, "version": s.version} for s in self.sources],
                "providers": len(self.providers),
                "models": self._count,
            }
        return dict(self._describe)

    def model(self, provider: str, model_id: str) -> ModelInfo | None:
        # Every state asks for the model in use: remember the last answers (the index never
        # changes under a Catalog).
        key = (provider, model_id)
        # one lookup, never "in" then "[]": the documents' analysis asks from its own thread,
        # and another thread may clear the memo in between
        if (known := self._recent.get(key, _UNKNOWN)) is not _UNKNOWN:
            return known  # type: ignore[return-value]
        row = self._db.execute(
            f"SELECT {INFO} FROM models WHERE provider = ? AND model_id = ?", key
        ).fetchone()
        if len(self._recent) >= 256:
            self._recent.clear()
        info = self._recent[key] = model_info(row) if row else None
        return info

    def env_vars(self, provider: str) -> tuple[str, ...]:
        prov = self.providers.get(provider)
        return prov.env if prov else ()

    def provider_name(self, provider: str) -> str | None:
        prov = self.providers.get(provider)
        return prov.name if prov else None

    def serving(self, canonical: str) -> list[ModelInfo]:
        """Every provider's entry for a canonical id, one per provider (the exact id first)."""
        if canonical in self._serving:  # every global set asks (provider preferences)
            return list(self._serving[canonical])
        seen: dict[str, ModelInfo] = {}
        rows = self._db.execute(
            f"SELECT {INFO} FROM models WHERE canonical = ? AND listable"
            " ORDER BY provider, model_id",
            (canonical,),
        )
        for info in sorted(map(model_info, rows), key=lambda i: (i.provider, "/" in i.model_id)):
            seen.setdefault(info.provider, info)
        if len(self._serving) >= 256:
            self._serving.clear()
        self._serving[canonical] = tuple(seen.values())
        return list(seen.values())

    # ---- did you mean (`suggest`) -------------------------------------------------------------

    def closest_providers(self, provider: str, n: int = 3) -> list[str]:
        return suggest.closest(provider, list(self.providers), n)

    def provider_hint(self, provider: str) -> str:
        return suggest.did_you_mean(self.closest_providers(provider))

    def closest_models(self, provider: str, model_id: str, n: int = 3) -> list[str]:
        if provider not in self.providers:
            return []
        rows = self._db.execute("SELECT model_id FROM models WHERE provider = ?", (provider,))
        return [f"{provider}:{m}" for m in suggest.close_matches(model_id, [m for (m,) in rows], n)]

    def closest_canonical(self, canonical: str, n: int = 3) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT canonical FROM models WHERE listable")
        return suggest.close_matches(canonical, [c for (c,) in rows], n, cutoff=0.6)

    # ---- search (`search`) --------------------------------------------------------------------

    def search(
        self,
        query: str | None,
        *,
        provider: str | None,
        limit: int,
        current: str | None,
        offset: int = 0,
        keyed: Callable[[str], bool] | None = None,
        keyed_providers: Collection[str] | None = None,
        recents: Sequence[str],
    ) -> tuple[list[ModelInfo], int]:
        """Ordered matches and their total. Current and recents lead; custom ones (not in the
        catalog) appear too, as people do use them. Matching: every token is a substring of the
        model string, provider name or model name (lowercased). Ranking (`search.Search`): how
        well the tokens fit the id, then current, recents, a provider with a key, the maker,
        direct ids."""
        if self._cache_kib and not self._searching:
            # A query reads a few hundred pages (doclists, bitmaps, rows); with the idle cache
            # each was a read(2) again at every keystroke: 15% of a 50 000-model query.
            self._db.execute(f"PRAGMA cache_size = -{SEARCH_CACHE_KIB}")
            self._searching = True
        return self._search.search(
            query,
            provider=provider,
            limit=limit,
            current=current,
            offset=offset,
            keyed=keyed,
            keyed_providers=keyed_providers,
            recents=recents,
            scan=self.scans,
        )
