"""Every link in the project's Markdown leads somewhere a reader of a published copy can follow:
a file or folder inside the repository (and, for a Markdown file, a heading there), or a public
web address. A link out of the repository (`../shared/...`) is dead on GitHub, PyPI and the
marketplace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".git", ".venv", ".cache", "node_modules", "build", "dist", ".e2e", "test-artifacts"}
LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def markdown_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.md") if not SKIP.intersection(p.relative_to(ROOT).parts))


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {anchor(m) for m in re.findall(r"^#{1,6} +(.+?) *#*$", text, re.M)}


def links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return [a or b for a, b in LINK.findall(text)]


def test_there_are_documents_with_links() -> None:
    assert ROOT / "README.md" in markdown_files()
    assert len(links(ROOT / "README.md")) >= 3


def problem(source: Path, target: str) -> str | None:
    if target.startswith(("https://", "mailto:")):
        return None
    if target.startswith("http://"):
        return "not https"
    where, _, fragment = target.partition("#")
    dest = (source.parent / where).resolve() if where else source
    if not dest.is_relative_to(ROOT):
        return "leaves the repository (dead on a published copy)"
    if not dest.exists():
        return "no such file in the repository"
    if fragment and dest.suffix == ".md" and fragment not in anchors(dest):
        return f"no heading #{fragment} in {dest.relative_to(ROOT)}"
    return None


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_leads_inside_the_repository_or_to_the_web(path: Path) -> None:
    bad = [(t, why) for t in links(path) if (why := problem(path, t))]
    assert not bad, f"{path.relative_to(ROOT)}: {bad}"
