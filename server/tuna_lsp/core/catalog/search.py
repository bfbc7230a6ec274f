"""The search behind `tuna/listModels` (PROTOCOL.md section 4): which models match a query and in
what order, over the catalog's index.

Matching: every token is a substring of the model string, provider name or model name
(lowercased). Ranking (`Search._rank`): how well the tokens fit the id, then current, recents, a
provider with a key, the maker, direct ids. The few models ranked here (pinned ones, those a
token names, all matches when there are few) follow that rule in Python; the index ranks the
others by its levels of terms, to the same order (tests/e2e/test_catalog_index.py checks the two
against a plain reference)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING, Any

from ...base.model_string import canonical_id
from .schema import GRAM, INFO, INFO_M, all_of, any_of, model_info, quote, term, windows, words
from .sources import ModelInfo, custom_model, split_model

if TYPE_CHECKING:
    from .index import Catalog

# Models a token names exactly are ranked in Python, unless there are this many; so are all
# matches when there are at most _FEW of them.
_NAMED = 500
_FEW = 60
_TERMS_KEPT = 4096  # which terms exist, remembered during a picker session (a few bytes each)
_BITMAPS_KEPT = 64  # common terms' bitmaps, the same (a bit per model: 6 KiB for 50 000 models)

Rank = tuple[int, int, int, bool, bool, bool, str, str]
Ranked = list[tuple[Rank, ModelInfo]]


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


@dataclass(slots=True)
class _Query:
    tokens: list[str]  # lowercased
    provider: str | None
    current: str | None
    recent_rank: dict[str, int]
    pinned: list[str]  # the current model, then the recents: they lead
    keyed: Callable[[str], bool] | None
    offset: int
    limit: int

    def page(self, ranked: Ranked) -> list[ModelInfo]:
        ranked.sort(key=lambda pair: pair[0])
        return [info for _, info in ranked[self.offset : self.offset + self.limit]]


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


class _Match:
    """The models whose haystack holds every token: those the index's `expr` matches (each
    token's `g` terms), checked by instr for the tokens longer than GRAM (`check`)."""

    def __init__(self, db: Any, expr: str, check: list[str]) -> None:
        self._db = db
        self.expr = expr
        self.check = check

    def rows(self, select: str) -> list[Any]:
        if not self.check:
            sql = f"SELECT {select} FROM terms WHERE terms MATCH ?"
            return list(self._db.execute(sql, (self.expr,)))
        instr = " AND ".join("instr(hay, ?) > 0" for _ in self.check)
        sql = (
            f"SELECT {select} FROM terms JOIN models ON models.rowid = terms.rowid"
            f" WHERE terms MATCH ? AND {instr}"
        )
        return list(self._db.execute(sql, (self.expr, *self.check)))

    def first(self, select: str, expr: str, want: int) -> list[Any]:
        """The first `want` models (by pos) that `expr` (a level: `expr` and more) matches."""
        instr = "".join(" AND instr(m.hay, ?) > 0" for _ in self.check)
        sql = (
            f"SELECT {select} FROM terms JOIN models m ON m.rowid = terms.rowid"
            f" WHERE terms MATCH ?{instr} ORDER BY terms.rowid LIMIT ?"
        )
        return list(self._db.execute(sql, (expr, *self.check, want)))


class Search:
    """Searches of one catalog's index (`Catalog.search`), with what a picker session asks again
    at every keystroke (the tokens typed before the last) remembered until `forget`."""

    def __init__(
        self,
        db: Any,
        listable: Mapping[str, int],
        *,
        model: Callable[[str, str], ModelInfo | None],
        maker: Callable[[str], str | None],
    ) -> None:
        self._db = db
        self._listable = listable  # how many models of each provider can be listed
        self._model = model
        self._maker = maker
        # which index terms exist, as searches asked; dropped by forget
        self.has_term: dict[str, bool] = {}
        self.bitmaps: dict[str, int | None] = {}  # the same, for `_popcount` (None: none kept)

    def forget(self) -> None:
        self.has_term.clear()
        self.bitmaps.clear()

    def search(
        self,
        query: str | None,
        *,
        provider: str | None,
        limit: int,
        current: str | None,
        offset: int,
        keyed: Callable[[str], bool] | None,
        keyed_providers: Collection[str] | None,
        recents: Sequence[str],
        scan: bool,
    ) -> tuple[list[ModelInfo], int]:
        """`Catalog.search`; `scan`: the index has no search terms (no FTS5)."""
        q = _Query(
            tokens=(query or "").lower().split(),
            provider=provider,
            current=current,
            recent_rank={m: i for i, m in enumerate(recents)},
            pinned=([current] if current else []) + [r for r in recents if r != current],
            keyed=keyed,
            offset=offset,
            limit=limit,
        )
        if not q.tokens:
            return self._unranked(q)
        if scan:
            return self._scan(q)
        return self._indexed(q, keyed_providers)

    def _pinned_info(self, q: _Query, model: str) -> ModelInfo | None:
        """A current or recent model as listed: the catalog's entry, or a custom one."""
        try:
            ref = split_model(model)
        except ValueError:
            return None
        if q.provider and ref.provider != q.provider:
            return None
        assert ref.provider is not None
        return self._model(ref.provider, ref.model_id) or custom_model(ref.provider, ref.model_id)

    def _unranked(self, q: _Query) -> tuple[list[ModelInfo], int]:
        """No query: the pinned models, then every listable one by provider and id."""
        where = ["listable"]
        args: list[Any] = []
        if q.provider:
            where.append("provider = ?")
            args.append(q.provider)
        lead = [i for i in (self._pinned_info(q, m) for m in q.pinned) if i is not None]
        lead_models = [i.model for i in lead]
        (led,) = self._db.execute(
            f"SELECT count(*) FROM models WHERE {' AND '.join(where)} AND model IN "
            f"({_marks(lead_models)})",
            [*args, *lead_models],
        ).fetchone()
        listable = self._listable.get(q.provider, 0) if q.provider else sum(self._listable.values())
        rest = listable - led  # counted by the index, not by reading every model
        where.append(f"model NOT IN ({_marks(lead_models)})")
        args += lead_models
        items = lead[q.offset : q.offset + q.limit]
        skip = max(0, q.offset - len(lead))
        want = q.limit - len(items)
        if want > 0:
            rows = self._db.execute(
                f"SELECT {INFO} FROM models WHERE {' AND '.join(where)}"
                " ORDER BY provider, model_id LIMIT ? OFFSET ?",
                [*args, want, skip],
            )
            items += map(model_info, rows)
        return items, len(lead) + rest

    def _scan(self, q: _Query) -> tuple[list[ModelInfo], int]:
        """Without the full-text index (no FTS5): sqlite picks the models whose haystack holds
        every token, each ranked here by the same rule (`_rank`) as the index ranks."""
        where = ["listable", *["instr(hay, ?) > 0"] * len(q.tokens)]
        args: list[Any] = list(q.tokens)
        if q.provider:
            where.append("provider = ?")
            args.append(q.provider)
        ranked: Ranked = []
        found = set()
        rows = self._db.execute(
            f"SELECT {INFO}, not_maker FROM models WHERE {' AND '.join(where)}", args
        )
        for *values, not_maker in rows:
            info = model_info(values)
            found.add(info.model)
            ranked.append((self._rank(info, q, bool(not_maker)), info))
        ranked += self._ranked_custom(q, found)
        return q.page(ranked), len(ranked)

    def _indexed(
        self, q: _Query, keyed_providers: Collection[str] | None
    ) -> tuple[list[ModelInfo], int]:
        """With the full-text index: the pinned models and those a token names exactly (or the
        tokens joined by '-' name: scores of 100 and more) ranked here, and all matches when
        there are few; else the index ranks the others, level by level."""
        # every token is in the haystack: it is a `g` term, or (longer than GRAM) all of its
        # substrings of that length are and instr checks it
        distinct = Counter(q.tokens)
        every = [term("g", g) for t in distinct for g in windows(t)]
        if q.provider:
            every.append(term("v", q.provider))
        match = _Match(self._db, all_of(*map(quote, every)), [t for t in distinct if len(t) > GRAM])
        joined = "-".join(q.tokens) if len(q.tokens) > 1 else None
        named = self._named(distinct, joined)
        ranked, found, apart = self._ranked_apart(q, named)
        customs = self._ranked_custom(q, found)
        ranked += customs
        total = None if match.check else self._popcount(every)
        if total is None:
            ((total,),) = match.rows("count(*)")
        if total - len(found) <= _FEW:  # all of them, ranked here
            ranked += self._ranked_rest(q, match, apart)
        else:
            levels = self._levels(list(distinct.items()), joined, match.expr, exact=not named)
            ranked += self._ranked_by_levels(q, levels, match, keyed_providers, apart)
        return q.page(ranked), total + len(customs)

    def _named(self, distinct: Iterable[str], joined: str | None) -> list[int]:
        """The models (pos) a token names exactly, or the tokens joined by '-', whatever the
        other tokens: few (the caller drops those the tokens do not match; FTS5 would walk the
        common tokens' long lists to tell); none if there are _NAMED (the index ranks them)."""
        exact = [quote(term("x", t)) for t in distinct]
        if joined:
            exact.append(quote(term("c", joined)))
        named = [
            pos
            for (pos,) in self._db.execute(
                "SELECT rowid FROM terms WHERE terms MATCH ? LIMIT ?", (any_of(*exact), _NAMED)
            )
        ]
        return [] if len(named) == _NAMED else named

    def _ranked_apart(self, q: _Query, named: list[int]) -> tuple[Ranked, set[str], set[int]]:
        """The pinned models the catalog lists and the `named` ones that match, ranked here; the
        models found so, and the pos of every one of them (matching or not: set apart)."""
        ranked: Ranked = []
        found: set[str] = set()
        apart: set[int] = set()
        columns = f"{INFO}, hay, pos, not_maker"
        rows = self._db.execute(
            f"SELECT {columns} FROM models WHERE listable AND model IN ({_marks(q.pinned)})"
            f" UNION SELECT {columns} FROM models WHERE rowid IN ({_marks(named)})",
            [*q.pinned, *named],
        )
        for *values, hay, pos, not_maker in rows:
            info = model_info(values)
            apart.add(pos)
            if (not q.provider or info.provider == q.provider) and all(t in hay for t in q.tokens):
                found.add(info.model)
                ranked.append((self._rank(info, q, bool(not_maker)), info))
        return ranked, found, apart

    def _ranked_rest(self, q: _Query, match: _Match, apart: set[int]) -> Ranked:
        """Every other match (few of them), ranked here."""
        rest = [pos for (pos,) in match.rows("terms.rowid") if pos not in apart]
        rows = self._db.execute(
            f"SELECT {INFO}, not_maker FROM models WHERE rowid IN ({_marks(rest)})", rest
        )
        ranked: Ranked = []
        for *values, not_maker in rows:
            info = model_info(values)
            ranked.append((self._rank(info, q, bool(not_maker)), info))
        return ranked

    def _ranked_by_levels(
        self,
        q: _Query,
        levels: list[tuple[int, str]],
        match: _Match,
        keyed_providers: Collection[str] | None,
        apart: set[int],
    ) -> Ranked:
        """The other matches, best first: by score (one level of the index per sum of tiers),
        then with a key first, then pos; `need` of them are enough, as pinned ones only come
        before. Each comes with its row (joined: one statement per level, no second one for the
        rows)."""
        need = q.offset + q.limit
        no_key = self._key_conditions(q, keyed_providers)
        last = len(q.recent_rank) + 1
        select = f"terms.rowid, {INFO_M}, m.not_maker, m.slash"
        ranked: Ranked = []
        for score, expr in levels:
            for flag, cond in no_key.items():
                want = need - len(ranked) + len(apart)
                for pos, *values, not_maker, slash in match.first(select, f"({expr}){cond}", want):
                    if pos not in apart and len(ranked) < need:
                        info = model_info(values)
                        rank = (-score, 1, last, flag, bool(not_maker), bool(slash))
                        ranked.append(((*rank, info.provider, info.model_id), info))
                if len(ranked) >= need:
                    return ranked
        return ranked

    def _key_conditions(
        self, q: _Query, keyed_providers: Collection[str] | None
    ) -> dict[bool, str]:
        """The index's condition for the models of a provider with a key (False: not "no key")
        and for the others (True), in the order they rank; one empty condition when all are
        alike."""
        if q.keyed is None:
            return {False: ""}
        # `keyed_providers`, when given, are the providers `keyed` says yes to (asking it about
        # each of hundreds of providers costs more than the rest of a listing)
        have = keyed_providers if keyed_providers is not None else filter(q.keyed, self._listable)
        with_key = sorted(
            quote(term("v", p))
            for p in have
            if self._listable.get(p) and (not q.provider or p == q.provider)
        )
        if not with_key:
            return {True: ""}
        return {False: " AND " + any_of(*with_key), True: " NOT " + any_of(*with_key)}

    def _ranked_custom(self, q: _Query, found: set[str]) -> Ranked:
        """The current and recent models the catalog does not have (custom ones) that match
        every token, ranked by the same rule; those the search found already are not repeated."""
        out: Ranked = []
        for model in q.pinned:
            custom = None if model in found else self._pinned_info(q, model)
            if custom is not None and all(t in model.lower() for t in q.tokens):
                out.append((self._rank(custom, q, id_only=True), custom))
        return out

    def _popcount(self, terms: list[str]) -> int | None:
        """How many models have all of `terms`, from their bitmaps; None unless each has one.
        The bitmaps are kept during a picker session: the tokens typed before the last are the
        same at every keystroke."""
        unique = set(terms)
        kept = self.bitmaps
        new = [t for t in unique if t not in kept]
        if len(kept) + len(new) > _BITMAPS_KEPT:
            kept.clear()
            new = list(unique)
        if new:
            found = dict(
                self._db.execute(f"SELECT term, bits FROM dense WHERE term IN ({_marks(new)})", new)
            )
            for t in new:
                bits = found.get(t)
                kept[t] = None if bits is None else int.from_bytes(bits, "little")
        common = -1
        for t in unique:
            bitmap = kept[t]
            if bitmap is None:
                return None
            common &= bitmap
        return common.bit_count()

    def _known_terms(self, asked: list[str]) -> set[str]:
        """Which of `asked` the index has, remembered for those asked before: a statement per 100
        (one each cost 2.5x more; SQLite takes at most 500 parts in a compound SELECT)."""
        known = self.has_term
        if len(known) > _TERMS_KEPT:
            known.clear()
        new = [t for t in asked if t not in known]
        for at in range(0, len(new), 100):
            part = new[at : at + 100]
            sql = " UNION ALL ".join(
                ["SELECT ? FROM (SELECT 1 FROM terms WHERE terms MATCH ? LIMIT 1)"] * len(part)
            )
            found = {t for (t,) in self._db.execute(sql, [x for t in part for x in (t, quote(t))])}
            known.update((t, t in found) for t in part)
        return {t for t in asked if known[t]}

    def _levels(
        self, tokens: list[tuple[str, int]], joined: str | None, match: str, *, exact: bool
    ) -> list[tuple[int, str]]:
        """The index's expressions for the matches of each score, best first: a token's tier is
        100 (`x` term), 40 (`p` or `v`), 20 (`w`) or 5, each meaning none of the better ones;
        tiers whose terms the index lacks are left out, and so are the scores of 100 (a token
        names the model) and the +100 of `joined` unless `exact` (else ranked by the caller)."""
        names = {(t, k): term(k, t) for t, _ in tokens for k in "xpvw"}
        if not exact:
            names = {(t, k): name for (t, k), name in names.items() if k != "x"}
        bonus_term = term("c", joined) if joined and exact else None
        have = self._known_terms(sorted(t for t in {*names.values(), bonus_term} if t))
        choices = [_tiers([names.get((t, k), "") for k in "xpvw"], have) for t, _ in tokens]
        bonus: list[_Tier] = [(0, [], [])]
        if bonus_term in have:
            bonus = [(100, [quote(bonus_term)], []), (0, [], [bonus_term])]
        levels: dict[int, list[str]] = {}
        for combo in product(bonus, *choices):
            score = combo[0][0] + sum(
                tier * n for (tier, _, _), (_, n) in zip(combo[1:], tokens, strict=True)
            )
            must = [match] + [m for _, ms, _ in combo for m in ms]
            must_not = [quote(m) for _, _, ms in combo for m in ms]
            expr = "(" + all_of(*must) + ")"
            if must_not:
                expr += " NOT " + any_of(*must_not)
            levels.setdefault(score, []).append(expr)
        return [(score, " OR ".join(levels[score])) for score in sorted(levels, reverse=True)]

    def _rank(
        self, info: ModelInfo, q: _Query, not_maker: bool | None = None, *, id_only: bool = False
    ) -> Rank:
        """The rule the index's order follows too; `id_only`: a custom model, known by its id
        (its name not counted); `not_maker` as the index says, for the models it lists."""
        mid = info.model_id.lower()
        canon = canonical_id(mid)
        model = info.model.lower()
        name = "" if id_only else (info.name or "").lower()
        model_words = words(f"{mid} {name}")
        # "gpt-4.1 mini"
        score = 100 if len(q.tokens) > 1 and "-".join(q.tokens) == canon else 0
        for t in q.tokens:
            if t in (mid, canon, model):
                score += 100
            elif (
                canon.startswith(t)
                or mid.startswith(t)
                or info.provider == t
                or model.startswith(t)
            ):
                score += 40
            elif name.startswith(t) or any(w.startswith(t) for w in model_words):
                score += 20
            else:
                score += 5
        # among equals: a provider with a key, then the model's maker, then direct ids
        no_key = q.keyed is not None and not q.keyed(info.provider)
        if not_maker is None:
            not_maker = info.provider != self._maker(canon)
        return (
            -score,
            0 if info.model == q.current else 1,
            q.recent_rank.get(info.model, len(q.recent_rank) + 1),
            no_key,
            not_maker,
            "/" in mid,
            info.provider,
            info.model_id,
        )


# A token's tier in a level: its score, the terms it must have, those it must not (the better
# tiers' terms)
_Tier = tuple[int, list[str], list[str]]


def _tiers(terms: list[str], have: set[str]) -> list[_Tier]:
    """A token's tiers the index can tell, from its x, p, v and w `terms`: 100 (`x`), 40 (`p`
    or `v`), 20 (`w`), 5 (none)."""
    x, p, v, w = terms
    better: list[str] = [x] if x in have else []
    options: list[_Tier] = []
    if x in have:
        options.append((100, [quote(x)], []))
    if p in have or v in have:
        options.append((40, [any_of(quote(p), quote(v))], better))
        better = [*better, p, v]
    if w in have:
        options.append((20, [quote(w)], better))
        better = [*better, w]
    options.append((5, [], better))
    return options
