"""Offline installs of the server from Neovim (:TunaInstall): wheels of its dependencies and of
its build backend, fetched into .cache/nvim-pack-wheels/ once per dependency list (the only step
that reaches a package index); every later run installs from that folder with no network."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

from .paths import ROOT

WHEEL_CACHE = ROOT / ".cache" / "nvim-pack-wheels"
FETCH_TIMEOUT = 600  # the first run only: the dependency wheels from the package index


def pip(*args: str, timeout: float) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )


def dependency_wheels(src: Path) -> Path:
    """.cache/nvim-pack-wheels/<key>: wheels of the server's dependencies and of its build backend, fetched
    once per dependency list (the only step that reaches the package index); every later run is offline."""
    meta = tomllib.loads((src / "pyproject.toml").read_text())
    key = hashlib.sha256(
        json.dumps(
            [
                meta["project"]["dependencies"],
                meta["build-system"]["requires"],
                sys.version_info[:2],
            ]
        ).encode()
    ).hexdigest()[:16]
    folder = WHEEL_CACHE / key
    if (folder / "complete").exists():
        return folder
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    partial = WHEEL_CACHE / f"{key}.partial-{uuid.uuid4().hex[:8]}"
    try:
        pip("wheel", "--quiet", "--wheel-dir", str(partial), str(src), timeout=FETCH_TIMEOUT)
        for built in partial.glob("tuna_lsp-*.whl"):
            built.unlink()  # built again at each run, from the source under test
        requires = meta["build-system"]["requires"]
        pip(
            "download",
            "--quiet",
            "--only-binary=:all:",
            "--dest",
            str(partial),
            *requires,
            timeout=FETCH_TIMEOUT,
        )
        (partial / "complete").write_text(
            json.dumps(sorted(p.name for p in partial.glob("*.whl")), indent=1)
        )
        try:
            partial.rename(folder)
        except OSError:  # another run got there first
            shutil.rmtree(partial, ignore_errors=True)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return folder
