"""Concurrency: N real servers set models in a loop for a fixed time on one shared config, while a
separate process reads and parses the file without pause; then the same with the real tunacode
CLI (0.2.3) writing in between, in place, as it does.

Servers only: zero unparsable reads, zero lost values, no failed set, and every server's last
notification names the file's final model. With the CLI: its torn in-place writes are seen by the
reader (that is the CLI), but never make a server fail a set, report the config invalid, warn the
user, notify a model nobody set, or write anything but a whole, valid file; nothing is lost.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest
from harness.home import Home

from .harness import (
    SUMMARIES,
    TUNACODE_PY,
    RawServer,
    RpcError,
    SuiteFigures,
    cli_config,
    figures,
    finish_helper,
    n,
    python_helper,
    rich_config,
    scale,
)

SUITE = "concurrency"
SERVERS = scale(4, 16)
SECONDS = scale(3.0, 20.0)
SERVER_MODELS = [
    "openai:gpt-4.1",
    "openai:gpt-4o",
    "openai:o3",
    "anthropic:claude-sonnet-4-20250514",
    "openrouter:openai/gpt-4.1",
    "google:gemini-2.5-pro",
]
CLI_MODELS = ["openai:cli-written-a", "anthropic:cli-written-b", "openrouter:cli/written-c"]


def summary(f: SuiteFigures) -> str:
    return (
        f"concurrency: {n(f.get('servers'))} servers ({n(f.get('maxServers'))} at once), "
        f"{n(f.get('writesRaced'))} writes raced, {n(f.get('readsChecked'))} reads checked, "
        f"{n(f.get('parseFailures'))} parse failures, {n(f.get('lostValues'))} lost values, "
        f"{n(f.get('failedSets'))} failed sets; with the tunacode CLI: {n(f.get('cliWrites'))} "
        f"in-place CLI writes ({n(f.get('tornCliReads'))} torn reads of them seen by the reader), "
        f"{n(f.get('garbageReports'))} garbage reports by servers"
    )


SUMMARIES[SUITE] = summary


async def hammer(srv: RawServer, until: float, rng: random.Random, errors: list[str]) -> int:
    sets = 0
    while time.monotonic() < until:
        try:
            await srv.request("tuna/setModel", {"model": rng.choice(SERVER_MODELS)}, timeout=30)
            sets += 1
        except RpcError as exc:
            errors.append(f"{srv.name}: {exc}")
    return sets


async def race(
    rel: Any, home: Home, config: dict[str, Any], tmp_path: Path, *, with_cli: bool
) -> dict[str, Any]:
    """Start the servers, race them (and the CLI) for SECONDS with the reader on, converge."""
    home.write_config(config)
    os.chmod(home.config, 0o600)
    models = [config["default_model"], *SERVER_MODELS, *(CLI_MODELS if with_cli else [])]
    spec = tmp_path / f"expected-{with_cli}.json"
    spec.write_text(json.dumps({"config": config, "models": models}))
    servers = await asyncio.gather(
        *(
            rel.start(home, f"{'cli' if with_cli else 'srv'}{i}", client_name=f"c{i}")
            for i in range(SERVERS)
        )
    )
    rng = random.Random(f"concurrency-{with_cli}")
    reader = rel.helper(
        python_helper("config_reader.py", str(home.config), str(spec), str(SECONDS + 1))
    )
    cli = None
    if with_cli:
        cli = rel.helper(
            python_helper(
                "cli_writer.py",
                str(SECONDS),
                json.dumps(CLI_MODELS),
                "cli",
                python=str(TUNACODE_PY),
                env=home.env(),
            )
        )
    errors: list[str] = []
    until = time.monotonic() + SECONDS
    sets = await asyncio.gather(*(hammer(s, until, rng, errors) for s in servers))
    cli_report = await finish_helper(cli, 60) if cli else None
    read_report = await finish_helper(reader, 60)

    final = home.read_config()["default_model"]
    for s in servers:
        await s.wait_for(
            lambda s=s: (
                s.changes
                and s.changes[-1]["model"] == final
                and s.changes[-1]["persistedModel"] == final
            ),
            15,
            f"the last tuna/modelChanged to name the final model {final}",
        )
        state = await s.request("tuna/getModel")
        assert (state["model"], state["persistedModel"]) == (final, final), s.name
    stats = [await s.request("tuna/stats") for s in servers]
    return {
        "servers": servers,
        "sets": sum(sets),
        "errors": errors,
        "stats": stats,
        "reader": read_report,
        "cli": cli_report,
        "final": final,
        "models": set(models),
    }


async def test_servers_race_on_one_config(rel, home: Home, tmp_path: Path) -> None:
    fig = figures(SUITE)
    config = rich_config(SERVER_MODELS[0])
    r = await race(rel, home, config, tmp_path, with_cli=False)
    reads = r["reader"]
    saves = sum(s["saves"] for s in r["stats"])
    fig.add(
        writesRaced=saves,
        setsRequested=r["sets"],
        readsChecked=reads["reads"],
        parseFailures=reads["parseFailures"] + reads["emptyReads"],
        lostValues=reads["lostValues"],
        failedSets=len(r["errors"]),
    )
    fig.max(maxServers=SERVERS)
    assert reads["reads"] > 100, reads
    assert reads["parseFailures"] == reads["emptyReads"] == 0, reads["examples"]
    assert reads["lostValues"] == reads["badModels"] == 0, reads["examples"]
    assert not r["errors"], r["errors"][:10]
    assert all(not s["failures"] for s in r["stats"]), [s["failures"] for s in r["stats"]]
    assert saves > SERVERS, "the servers barely wrote: nothing was raced"
    final = home.read_config()
    for key, value in config.items():
        if key not in ("default_model", "recent_models"):
            assert final[key] == value, f"lost {key}"
    assert list(final) == list(config)
    assert home.config.read_text() == json.dumps(final, indent=4)
    for s in r["servers"]:
        assert all(c["configValid"] for c in s.changes), s.name
        assert not s.shown, (s.name, s.shown)


@pytest.mark.cli
async def test_servers_and_the_tunacode_cli_race(rel, home: Home, tmp_path: Path) -> None:
    if not TUNACODE_PY.exists():
        pytest.fail(f"the tunacode CLI venv is missing at {TUNACODE_PY}: run `make tunacode-venv`")
    fig = figures(SUITE)
    config = cli_config(SERVER_MODELS[0])  # only the keys tunacode's own save keeps
    r = await race(rel, home, config, tmp_path, with_cli=True)
    reads, cli = r["reader"], r["cli"]
    fig.add(
        writesRaced=sum(s["saves"] for s in r["stats"]) + cli["writes"],
        cliWrites=cli["writes"],
        readsChecked=reads["reads"],
        tornCliReads=reads["parseFailures"] + reads["emptyReads"],
        lostValues=reads["lostValues"],
        failedSets=len(r["errors"]),
    )
    assert not cli["errors"], cli["errors"]
    assert cli["writes"] > 10, cli
    assert reads["lostValues"] == reads["badModels"] == 0, reads["examples"]
    garbage = []
    for s in r["servers"]:
        for c in s.changes:
            if not c["configValid"] or any("invalid" in w for w in c["warnings"]):
                garbage.append(f"{s.name} reported the config invalid: {c['warnings']}")
            if c["model"] not in r["models"] or (
                c["persistedModel"] is not None and c["persistedModel"] not in r["models"]
            ):
                garbage.append(f"{s.name} notified a model nobody set: {c['model']!r:.80}")
        garbage += [f"{s.name} showed {m}" for m in s.shown if m.get("type") in (1, 2)]
    garbage += [f"failures {st['failures']}" for st in r["stats"] if st["failures"]] + r["errors"]
    fig.add(garbageReports=len(garbage))
    assert not garbage, garbage[:10]
    final = home.read_config()
    assert final["env"] == config["env"] and final["settings"] == config["settings"]
    assert r["final"] in r["models"]
