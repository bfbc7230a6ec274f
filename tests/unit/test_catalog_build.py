"""The index build (core/catalog/build.py) runs in a child process that the folder an editor
opened cannot steer: `python -I` (no PYTHON* variables, no user site, no working directory on
the import path) from the cache dir, with the server's own import path given explicitly. Code
planted in that folder (the server's working directory) never runs (PROTOCOL.md 1)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tuna_lsp.core.catalog import index_path, open_catalog


def plant(folder: Path, marker: Path) -> None:
    """Modules that write `marker` when a Python imports them from `folder`."""
    code = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    (folder / "tuna_lsp").mkdir(parents=True)
    (folder / "tuna_lsp" / "__init__.py").write_text(code)
    (folder / "sitecustomize.py").write_text(code)
    (folder / "usercustomize.py").write_text(code)


@pytest.mark.spawns
def test_the_builder_runs_no_code_of_the_opened_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    repo, cache, marker = tmp_path / "repo", tmp_path / "cache", tmp_path / "ran"
    plant(repo, marker)
    # the bait works on a Python that is not isolated
    subprocess.run(
        [sys.executable, "-c", "import tuna_lsp"],
        cwd=repo,
        env={"PYTHONPATH": str(repo)},
        check=True,
    )
    assert marker.read_text().split() == ["sitecustomize", "tuna_lsp"]
    marker.unlink()

    monkeypatch.chdir(repo)  # the server started in the folder (and `python -m` put it first)
    monkeypatch.syspath_prepend(str(repo))
    monkeypatch.setenv("PYTHONPATH", str(repo))
    catalog = open_catalog(cache, include_tunacode=False)
    assert index_path(cache, False).is_file()  # the child built the index, the one read:
    assert "loading in memory" not in caplog.text and catalog.describe["models"] > 100
    assert not marker.exists()
