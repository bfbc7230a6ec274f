"""Crash consistency: real servers SIGKILLed at random moments while they stream sets.

After every kill the shared config parses, keeps every other key's value and place, and holds
either the last acknowledged model or the one that was in flight (an acknowledged set is never
lost, a torn file is never seen); the history and the preferences still parse; and the lock the
killed writer may have held is free at once (the kernel drops a flock with its holder), so the
next writer never waits for it. The killed server's debug log says where each kill landed.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from harness.home import Home

from .harness import (
    SUMMARIES,
    RawServer,
    RpcError,
    ServerGone,
    SuiteFigures,
    check_config,
    figures,
    n,
    rich_config,
    scale,
)

SUITE = "crash"
KILLS = scale(20, 200)
SLOTS = 2  # independent homes, each with its own stream of servers: two kills in flight at once
DEADLINE_S = scale(150, 1500)
LOCK_LIMIT_S = 2.0  # PROTOCOL.md 7: waiting longer for the lock is lock-timeout
MODELS = [
    "openai:gpt-4.1",
    "openrouter:openai/gpt-4.1",  # served by several providers: a global set writes preferences.toml
    "anthropic:claude-sonnet-4-20250514",
    "openai:gpt-4o",
    "openai:o3",
    "google:gemini-2.5-pro",
    "openai:crash-custom-model",  # not in the catalog: accepted with a warning
    "openrouter:anthropic/claude-sonnet-4",
]
STAGES = (  # the debug trace of one set, in order (model_service / config_store / server)
    ("request", "set: request"),
    ("resolved", "set: resolved"),
    ("locked", "set: lock"),
    ("renamed", "set: renamed"),
    ("notified", "tuna/modelChanged"),
)


def summary(f: SuiteFigures) -> str:
    return (
        f"crash: {n(f.get('kills'))} kills survived ({n(f.get('killsHoldingLock'))} holding the lock, "
        f"{n(f.get('killsSetInFlight'))} with a set in flight), {n(f.get('tornFiles'))} torn files, "
        f"{n(f.get('lostValues'))} lost values, {n(f.get('lostAcknowledged'))} acknowledged sets lost, "
        f"max lock wait {f.get('maxLockWaitS'):.3f} s (limit {LOCK_LIMIT_S:g} s), "
        f"{n(f.get('tempCopiesLeft'))} temp copies left by killed writers (all removed by later writers)"
    )


SUMMARIES[SUITE] = summary


@dataclass
class Stream:
    """One server's stream of sets, awaited one after the other."""

    acked: str
    inflight: str | None = None
    sets: int = 0
    errors: list[str] = field(default_factory=list)

    async def run(self, srv: RawServer, rng: random.Random) -> None:
        while True:
            model = rng.choice([m for m in MODELS if m != (self.inflight or self.acked)])
            self.inflight = model
            try:
                await srv.request("tuna/setModel", {"model": model}, timeout=60)
            except ServerGone:
                return
            except RpcError as exc:
                self.errors.append(str(exc))
                return
            self.acked, self.inflight = model, None
            self.sets += 1


def stage_at_kill(log: str) -> str:
    """Where the last set was when the process died, from its debug log."""
    last = "idle"
    for line in log.splitlines():
        for stage, text in STAGES:
            if text in line:
                last = stage
    return "idle" if last == "notified" else last


async def lock_wait(lock_path: Path) -> float:
    """How long a fresh writer waits for the lock right after the kill."""
    from filelock import FileLock

    def take() -> float:
        t0 = time.monotonic()
        with FileLock(str(lock_path), timeout=LOCK_LIMIT_S):
            return time.monotonic() - t0

    return await asyncio.to_thread(take)


def check_side_files(home: Home) -> list[str]:
    problems = []
    if home.history.exists():
        for i, line in enumerate(home.history.read_bytes().splitlines()):
            try:
                json.loads(line)
            except ValueError:
                problems.append(f"history line {i + 1} is torn: {line[:80]!r}")
    if home.preferences.exists():
        try:
            tomllib.loads(home.preferences.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"preferences.toml does not parse: {exc}")
    return problems


def temp_copies(home: Home) -> list[Path]:
    return sorted(home.config.parent.glob(f".{home.config.name}.*.tmp"))


async def test_sigkill_during_sets_never_tears_or_loses(rel, tmp_path: Path) -> None:
    fig = figures(SUITE)
    rng = random.Random(os.environ.get("TUNA_RELIABILITY_SEED", "crash"))
    deadline = time.monotonic() + DEADLINE_S
    kills = 0
    problems: list[str] = []
    start_model = MODELS[0]

    async def slot(k: int) -> None:
        nonlocal kills
        home = Home(tmp_path / f"home{k}")
        home.root.mkdir()
        expected = rich_config(start_model)
        home.write_config(expected)
        os.chmod(home.config, 0o600)
        acked = start_model
        temps_seen: set[Path] = set()
        i = 0
        while kills < KILLS:
            assert time.monotonic() < deadline, f"only {kills} kills in {DEADLINE_S} s"
            kills += 1
            i += 1
            srv = rel.server(home, f"slot{k}-{i}")
            stream = Stream(acked)
            early = rng.random() < 0.1  # some kills land during start-up, before any set
            if early:
                await srv.spawn()
                await asyncio.sleep(rng.uniform(0.0, 0.8))  # the random moment of the kill
                await srv.kill()
            else:
                await srv.start(client_name=f"crash-{k}")
                pid = (await srv.request("tuna/stats"))["pid"]
                t0 = time.monotonic()
                task = asyncio.get_running_loop().create_task(stream.run(srv, rng))
                # the first set of a new server follows a killed writer: it must not wait for
                # the dead one's lock
                await srv.wait_for(
                    lambda stream=stream, task=task: stream.sets or stream.errors or task.done(),
                    30,
                    "a first set",
                )
                fig.max(maxFirstSetAfterKillS=time.monotonic() - t0)
                await asyncio.sleep(rng.uniform(0.0, 0.3))  # the random moment of the kill
                await srv.kill(pid)
                await asyncio.wait_for(task, 10)
                problems.extend(f"server {srv.name}: {e}" for e in stream.errors)
            stage = stage_at_kill(srv.log_text())
            fig.add(
                kills=1,
                killsHoldingLock=stage in ("locked", "renamed"),
                killsSetInFlight=stream.inflight is not None,
                setsAcknowledged=stream.sets,
            )
            wait = await lock_wait(Path(str(home.config) + ".lock"))
            fig.max(maxLockWaitS=wait)
            raw = home.config.read_bytes()
            found = check_config(raw, expected, set(MODELS))
            fig.add(
                tornFiles=any(p.startswith("torn") for p in found),
                lostValues=any(p.startswith("lost") for p in found),
            )
            model = json.loads(raw).get("default_model") if not found else None
            allowed = {stream.acked, stream.inflight} - {None}
            if model is not None and model not in allowed:
                fig.add(lostAcknowledged=1)
                found.append(f"file holds {model}, expected one of {sorted(allowed)}")
            found += check_side_files(home)
            if os.stat(home.config).st_mode & 0o777 != 0o600:
                found.append(f"mode changed to {os.stat(home.config).st_mode & 0o777:o}")
            problems.extend(f"after kill {srv.name} (stage {stage}): {p}" for p in found)
            acked = model or acked
            temps_seen.update(temp_copies(home))

        # Temp copies a killed writer left before its rename hold the config, keys included.
        # The next writer removes the ones old enough to be nobody's work in progress.
        fig.add(tempCopiesLeft=len(temps_seen))
        for p in temp_copies(home):
            os.utime(p, (time.time() - 3600, time.time() - 3600))
        last = rel.server(home, f"slot{k}-final")
        await last.start()
        await last.request("tuna/setModel", {"model": "openai:final-check"})
        await last.stop()
        assert temp_copies(home) == [], f"stale temp copies kept: {temp_copies(home)}"
        data = home.read_config()
        assert data["default_model"] == "openai:final-check"
        assert {k: v for k, v in data.items() if k not in ("default_model", "recent_models")} == {
            k: v for k, v in expected.items() if k not in ("default_model", "recent_models")
        }

    await asyncio.gather(*(slot(k) for k in range(SLOTS)))
    assert not problems, "\n".join(problems[:30])
    assert fig.get("maxLockWaitS") < LOCK_LIMIT_S
    # the random kills must actually have hit writes, or this proved little
    assert fig.get("killsSetInFlight") > 0, "no kill landed while a set was in flight"
