"""What applies to every suite (tests/unit, tests/e2e, tests/reliability): the `posix` marker's
skip on Windows, and the isolated home each test of a real process gets. Their helpers are in
tests/harness/; the end-to-end fixtures in tests/e2e/conftest.py."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.home import Home


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On Windows, a test marked `posix` (modes, owners, FIFOs, symlinks) is skipped, named as
    such in the report: it never fails at collection nor for a reason it does not test."""
    if os.name != "nt":
        return
    skip = pytest.mark.skip(reason="needs POSIX (modes, owners, FIFOs or symlinks)")
    for item in items:
        if item.get_closest_marker("posix"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def catalog_indexes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalog index files servers built during this run, by name. The name says which
    sources an index holds (core/catalog/cache.py index_path), so one built for a home is the one any
    home without a snapshot of its own would build: each test's server then opens it at once,
    as every server after the first does on a user's machine, instead of spending seconds of
    CPU building it again beside the test. tests/e2e/test_catalog_index.py builds its own."""
    return tmp_path_factory.mktemp("catalog-indexes")


@pytest.fixture
def home(tmp_path: Path, catalog_indexes: Path) -> Iterator[Home]:
    h = Home(tmp_path / "home")
    h.root.mkdir()
    h.cache.mkdir(mode=0o700, parents=True)
    for index in catalog_indexes.glob("catalog-index-*.sqlite"):
        os.link(index, h.cache / index.name)
    yield h
    for index in h.cache.glob("catalog-index-*.sqlite"):
        with contextlib.suppress(FileExistsError):
            os.link(index, catalog_indexes / index.name)
