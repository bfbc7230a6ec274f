"""The packages of tuna_lsp import each other in one direction only, bottom to top:

    base      pure helpers (model strings, JSON kinds, the config's rules): no file, no process
    storage   files on disk: the config and its watcher, history, preferences, locks, the platform
    core      the domain and its use cases: the catalog, routing, the model service (over storage)
    text      the documents' analysis (over core)
    features  the LSP handlers, on top, with the modules of the package's top level (server,
              transport, protocol, wire), which only they and the top level import

A module imports its own package and those below it, never one above nor a top-level module:
so no two packages import each other (no cycle, whatever the path). Imports inside functions
and under TYPE_CHECKING count too. Read from the source (ast), nothing is imported."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
import tuna_lsp

SERVER = Path(tuna_lsp.__file__).resolve().parent.parent  # server/ (src/ in make mutation's copy)
LAYERS = ("base", "storage", "core", "text", "features")  # bottom to top
# Imports against the layering still to go, each named here (a test below fails once it has gone,
# so that it is taken off). None now: usage.py (pure) moved to base, where storage may read it.
PENDING: set[tuple[str, str]] = set()

pytestmark = pytest.mark.source


def module_name(path: Path) -> str:
    parts = path.relative_to(SERVER).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """The absolute name of every module `path` imports (of a `from` import: the module, or for
    `from package import name`, package.name), with its line, wherever the import is."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module) if p)
            if node.module:
                yield module, node.lineno
            else:
                for alias in node.names:
                    yield f"{module}.{alias.name}", node.lineno


def layer(module: str) -> str | None:
    """The package (layer) of a tuna_lsp module; None for the top level."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


EDGES = [
    (module_name(path), imported, f"{path.relative_to(SERVER.parent)}:{line}")
    for path in sorted((SERVER / "tuna_lsp").rglob("*.py"))
    for imported, line in imports(path)
]


def test_the_imports_are_read() -> None:
    found = {(importer, imported) for importer, imported, _ in EDGES}
    assert (
        "tuna_lsp.core.catalog.build",
        "tuna_lsp.storage.file_lock",
    ) in found  # from ...x import
    assert (
        "tuna_lsp.core.catalog.index",
        "tuna_lsp.core.catalog.suggest",
    ) in found  # from . import
    assert ("tuna_lsp.setup", "tuna_lsp.features.catalog") in found  # inside a function


def test_a_package_imports_only_itself_and_those_below_it() -> None:
    wrong = []
    for importer, imported, where in EDGES:
        low = layer(importer)
        if low is None or not imported.startswith("tuna_lsp") or (importer, imported) in PENDING:
            continue
        high = layer(imported)
        if high is None and low == "features":
            continue  # the handlers' own level
        if high is None or LAYERS.index(high) > LAYERS.index(low):
            above = f"{high} is above {low}" if high else "the top level is above every package"
            wrong.append(f"{where}: {importer} imports {imported} ({above})")
    assert not wrong, "\n".join(wrong)


def test_each_pending_import_is_still_there() -> None:
    edges = {(importer, imported) for importer, imported, _ in EDGES}
    gone = [edge for edge in PENDING if edge not in edges]
    assert not gone, f"no longer imported, take them off PENDING: {gone}"


def test_below_the_handlers_no_module_imports_the_lsp_libraries() -> None:
    wrong = [
        f"{where}: {importer} imports {imported}"
        for importer, imported, where in EDGES
        if layer(importer) not in (None, "features")
        and imported.split(".")[0] in ("lsprotocol", "pygls")
    ]
    assert not wrong, "\n".join(wrong)
