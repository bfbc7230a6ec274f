"""Figures of the server's shape (issue 26's before/after): lines, the largest module, functions
over complexity 12, imports inside functions, and the distinct private names of pygls the package
uses.

    python scripts/house_stats.py [SERVER_DIR]     (default: this checkout's server/)

A private name of pygls is an attribute `_name` (not a dunder) that the package reads or defines
and that pygls's own source defines too: an override of, or a reach into, pygls's internals.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pygls

ROOT = Path(__file__).resolve().parents[1]


def private_names(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = node.name
        if name and name.startswith("_") and not name.startswith("__"):
            found.add(name)
    return found


def pygls_defined() -> set[str]:
    names: set[str] = set()
    for path in Path(pygls.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def inner_imports(tree: ast.AST) -> int:
    lines = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    lines.add(node.lineno)
    return len(lines)


def main(server: Path) -> None:
    package = server / "tuna_lsp"
    modules = sorted(package.rglob("*.py"))
    sizes = {p.relative_to(package).as_posix(): len(p.read_text().splitlines()) for p in modules}
    ours: set[str] = set()
    inner = 0
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        ours |= private_names(tree)
        inner += inner_imports(tree)
    reached = sorted(ours & pygls_defined())
    ruff = [str(Path(sys.executable).parent / "ruff"), "check", "--select", "C901", "--isolated"]
    over = subprocess.run(
        [
            *ruff,
            "--config",
            "lint.mccabe.max-complexity=12",
            "--output-format",
            "json",
            str(package),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    complex_ = json.loads(over.stdout or "[]")
    largest = max(sizes, key=sizes.__getitem__)
    print(f"server lines: {sum(sizes.values())} in {len(sizes)} modules")
    print(f"largest module: {largest} {sizes[largest]}")
    print(f"functions over complexity 12: {len(complex_)}")
    for item in complex_:
        print(f"    {Path(item['filename']).relative_to(package)}: {item['message']}")
    print(f"imports inside functions: {inner}")
    print(f"pygls-private names used: {len(reached)}: {', '.join(reached)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "server")
