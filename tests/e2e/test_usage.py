"""Save outcomes and model usage (PROTOCOL.md 10): `saves.jsonl`, `tuna/usage` and `tuna-lsp usage`,
against real servers, the real tunacode CLI and real files."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from harness.home import Home
from harness.paths import SERVER_CMD
from harness.session import lsp_session
from harness.tunacode import tunacode_set
from harness.waiting import wait_until
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

CONFIG = {
    "default_model": "openai:gpt-4.1",
    "recent_models": ["openai:gpt-4.1"],
    "env": {"OPENAI_API_KEY": "sk-usage-SECRET"},
    "settings": {},
}


def shape(u: dict[str, Any]) -> tuple[Any, ...]:
    """What does not move with the clock, without the keys pytest-lsp's client renames (it reads
    results as namedtuples: "lock-timeout" comes back as "_0")."""
    saves = u["saves"]
    return (
        tuple(saves[k] for k in ("attempts", "saved", "unchanged", "failed", "successRate")),
        saves["latencyMs"],
        sorted(saves["failedByReason"].values()),
        [(x["model"], x["count"]) for x in u["selections"]],
        u["overwrites"],
        u["skipped"],
    )


def saves_file(home: Home) -> Path:
    return home.history.with_name("saves.jsonl")


def saves_lines(home: Home) -> list[dict[str, Any]]:
    path = saves_file(home)
    return [json.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


async def wait_lines(home: Home, count: int) -> list[dict[str, Any]]:
    """The outcome of a set is appended just after its response."""
    await wait_until(lambda: len(saves_lines(home)) >= count, 10, f"{count} save outcomes")
    return saves_lines(home)


def cli_usage(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    usage_cmd = [*SERVER_CMD, "usage", *args]
    return subprocess.run(usage_cmd, env=home.env(), capture_output=True, text=True, timeout=60)


async def test_saves_are_recorded_and_usage_adds_them_up(home: Home) -> None:
    from filelock import FileLock

    home.write_config(CONFIG)
    async with lsp_session(home, client_name="first") as s:
        await s.request("tuna/setModel", {"model": "openai:o3"})  # saved
        await s.request("tuna/setModel", {"model": "openai:o3"})  # unchanged
        await s.request("tuna/setModel", {"model": "openai:gpt-4o", "scope": "session"})  # no file
        with pytest.raises(JsonRpcInvalidParams):
            await s.request("tuna/setModel", {"model": "openai:$(x)"})  # bad input, no attempt
        with FileLock(str(home.config) + ".lock"):
            with pytest.raises(JsonRpcException) as err:
                await s.request("tuna/setModel", {"model": "openai:gpt-4.1-mini"})
            assert err.value.data["reason"] == "lock-timeout"
        lines = await wait_lines(home, 3)
        assert [(x["scope"], x["kind"], x["outcome"], x.get("reason")) for x in lines] == [
            ("global", "set", "saved", None),
            ("global", "set", "unchanged", None),
            ("global", "set", "failed", "lock-timeout"),
        ]
        assert all(x["client"] == "first 1" and isinstance(x["ms"], float) for x in lines)
        assert lines[2]["ms"] >= 1900  # the lock's 2 s wait, from the request to the failure
        # the CLI changes the model: an effective change with origin "external"
        before = len(s.changes)
        tunacode_set(home, "anthropic:claude-sonnet-4-20250514")
        await s.wait_change(
            lambda c: c["persistedModel"] == "anthropic:claude-sonnet-4-20250514", after=before
        )
        # an invalid config: a failed save with its reason, the file untouched
        raw = b'{"default_model": "openai:o3",'
        home.config.write_bytes(raw)
        with pytest.raises(JsonRpcException) as err:
            await s.request("tuna/setModel", {"model": "openai:o3"})
        assert err.value.data["reason"] == "invalid-config"
        assert home.config.read_bytes() == raw
        await wait_lines(home, 4)
        async with lsp_session(home, client_name="second") as other:
            seen = await other.request("tuna/usage", {})
        usage = await s.request("tuna/usage", {"days": 7})
    assert shape(seen) == shape(usage)  # a second window sees the first one's saves
    # every server has exited: the command prints the same, as JSON and as a table
    done = cli_usage(home, "--days", "7", "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert shape(printed) == shape(usage)
    usage = printed
    saves = usage["saves"]
    assert (saves["attempts"], saves["saved"], saves["unchanged"], saves["failed"]) == (4, 1, 1, 2)
    assert saves["failedByReason"] == {"lock-timeout": 1, "invalid-config": 1}
    assert saves["successRate"] == pytest.approx(1 / 3, abs=1e-6)
    assert saves["latencyMs"]["p50"] == saves["latencyMs"]["max"] == lines[0]["ms"]
    selections = {x["model"]: x["byOrigin"] for x in usage["selections"]}
    assert selections == {
        "openai:o3": {"client": 1},
        "anthropic:claude-sonnet-4-20250514": {"external": 1},
    }
    on = {x["model"]: x["seconds"] for x in usage["timeOnModel"]}
    assert set(on) == {"openai:gpt-4.1", "openai:o3", "anthropic:claude-sonnet-4-20250514"}
    assert usage["overwrites"] == {"caught": 0, "restored": 0, "kept": 0}
    assert usage["skipped"] == 0
    text = cli_usage(home).stdout
    assert "4 attempts, 1 saved, 1 unchanged, 2 failed" in text and "lock-timeout 1" in text
    assert "openai:o3" in text and "anthropic:claude-sonnet-4-20250514" in text
    for path in (saves_file(home), home.history):
        assert b"sk-usage-SECRET" not in path.read_bytes()


async def test_workspace_sets_clears_and_restores_are_attempts(home: Home, tmp_path: Path) -> None:
    home.write_config(CONFIG)
    folder = tmp_path / "project"
    folder.mkdir()
    async with lsp_session(home, workspace=folder) as s:
        await s.request("tuna/setModel", {"model": "openai:o3", "scope": "workspace"})
        await s.request("tuna/clearModel", {"scope": "workspace"})
        await s.request("tuna/clearModel", {"scope": "session"})  # writes nothing: no attempt
        await s.request("tuna/setModel", {"model": "openai:gpt-4o"})
        stale = {**CONFIG, "recent_models": ["openai:gpt-4.1"]}  # a running CLI's stale save
        home.config.write_text(json.dumps(stale, indent=4))
        await s.wait_change(lambda c: (c.get("overwrite") or {}).get("resolution") == "pending")
        await s.request("tuna/restoreOverwrite", {})
        lines = await wait_lines(home, 4)
        assert (await s.request("tuna/usage", None))["overwrites"]["restored"] == 1
    usage = json.loads(cli_usage(home, "--json").stdout)  # (pytest-lsp renames odd keys)
    assert [(x["scope"], x["kind"], x["outcome"]) for x in lines] == [
        ("workspace", "set", "saved"),
        ("workspace", "clear", "saved"),
        ("global", "set", "saved"),
        ("global", "restore", "saved"),
    ]
    assert usage["overwrites"] == {"caught": 1, "restored": 1, "kept": 0}
    by_model = {x["model"]: x["byOrigin"] for x in usage["selections"]}
    # the clear changed what the window used, not the global model; the overwrite is external
    assert by_model == {
        "openai:gpt-4o": {"client": 1, "restored": 1},
        "openai:gpt-4.1": {"external": 1},
    }


@pytest.mark.parametrize("days", [0, 3651, -1, 1.5, "30", True, [30]])
async def test_bad_days_are_invalid_params(home: Home, days: Any) -> None:
    home.write_config(CONFIG)
    async with lsp_session(home) as s:
        with pytest.raises(JsonRpcInvalidParams) as err:
            await s.request("tuna/usage", {"days": days})
        assert "days must be an integer" in str(err.value) and "1 to 3650" in str(err.value)
    for bad in ("0", "x", "3651"):
        done = cli_usage(home, "--days", bad)
        assert done.returncode == 2 and "expected an integer from 1 to 3650" in done.stderr


async def test_corrupt_lines_are_skipped_and_counted(home: Home) -> None:
    home.write_config(CONFIG)
    saves_file(home).parent.mkdir(parents=True, exist_ok=True)
    good = json.dumps(
        {"ts": "2026-01-01T00:00:00.000Z", "scope": "global", "kind": "set", "outcome": "saved"}
    )
    saves_file(home).write_text(f'{good}\n{{"ts": "2026-\nnot json\n\xff\n[1]\n')
    home.history.write_bytes(b'{"ts": "x", "model": 5}\n{"cut')
    async with lsp_session(home) as s:
        usage = await s.request("tuna/usage", {"days": 3650})
        assert usage["skipped"] == 6, usage
        await s.request("tuna/setModel", {"model": "openai:o3"})  # appends after the bad lines
        await wait_until(lambda: b"openai:o3" in home.history.read_bytes(), 10, "the history")
        usage = await s.request("tuna/usage", {"days": 3650})
    assert usage["saves"]["saved"] == 2 and usage["skipped"] == 6


@pytest.mark.parametrize("kind", ["fifo", "directory"])
async def test_a_state_file_of_the_wrong_type_is_a_clear_message(home: Home, kind: str) -> None:
    home.write_config(CONFIG)
    path = saves_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    async with lsp_session(home) as s:
        with pytest.raises(JsonRpcException) as err:
            await asyncio.wait_for(s.request("tuna/usage", {}), 10)
        assert (err.value.code == -32803 and "not a regular file" in str(err.value)) or (
            "Is a directory" in str(err.value)
        ), err.value
        r = await s.request("tuna/setModel", {"model": "openai:o3"})  # sets keep working
        assert r["model"] == "openai:o3" and home.read_config()["default_model"] == "openai:o3"
        assert "result" not in s.shown  # nothing odd shown
    done = cli_usage(home)
    assert done.returncode == 1 and str(path) in done.stderr, done.stderr


async def test_the_files_rotate_at_one_mib(home: Home) -> None:
    """Both files stay bounded: past 1 MiB a file becomes `.1` (the older copy replaced), and
    usage reads both."""
    home.write_config(CONFIG)
    path = saves_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (
        json.dumps(
            {
                "ts": "2026-12-01T00:00:00.000Z",
                "scope": "global",
                "kind": "set",
                "outcome": "failed",
                "reason": "io-error",
                "ms": 1.0,
                "client": "x",
            }
        )
        + "\n"
    )
    count = (1024 * 1024) // len(line)
    path.write_text(line * count)
    async with lsp_session(home) as s:
        await s.request("tuna/setModel", {"model": "openai:o3"})
        await wait_until(lambda: path.with_name("saves.jsonl.1").exists(), 10, "the rotation")
        await wait_until(lambda: path.exists() and path.stat().st_size > 0, 10, "the new file")
        assert (
            path.stat().st_size < 1024 and path.with_name("saves.jsonl.1").stat().st_size <= 2**20
        )
        usage = await s.request("tuna/usage", {"days": 3650})
    assert usage["saves"]["failed"] == count and usage["saves"]["saved"] == 1


async def test_eight_servers_at_once_leave_one_line_per_attempt(home: Home) -> None:
    home.write_config(CONFIG)
    models = ["openai:o3", "openai:gpt-4o", "openai:gpt-4.1", "openai:gpt-4.1-mini"]
    sessions = [lsp_session(home, client_name=f"w{i}") for i in range(8)]
    opened = [await cm.__aenter__() for cm in sessions]
    try:
        rounds = 10
        for r in range(rounds):
            await asyncio.gather(
                *(
                    s.request("tuna/setModel", {"model": models[(r + i) % len(models)]})
                    for i, s in enumerate(opened)
                )
            )
        lines = await wait_lines(home, 8 * rounds)
    finally:
        for cm in sessions:
            await cm.__aexit__(None, None, None)
    assert len(lines) == 8 * rounds  # well-formed (json.loads above), one per attempt
    assert {x["client"] for x in lines} == {f"w{i} 1" for i in range(8)}
    assert all(x["outcome"] in ("saved", "unchanged") for x in lines), lines
