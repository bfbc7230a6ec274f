"""Fixtures of the reliability suites, and the figures they publish at the end of the run.

`rel` gives a test its servers (real `tuna-lsp` processes over recorded stdio). When the test
ends it stops them, checks that none of them (nor any helper process) is left running, and
scans everything they emitted, and every file they left in their homes, for the secret markers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from harness.home import Home
from harness.paths import ROOT

from .harness import (
    FIGURES,
    MODE,
    RESULTS,
    SUMMARIES,
    RawServer,
    ScanResult,
    config_holders,
    figures,
    home_files,
    scan_files,
)


def suite_of(module_name: str) -> str:
    return module_name.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")


class Rel:
    def __init__(self, tmp_path: Path, suite: str) -> None:
        self.artifacts = tmp_path / "emitted"
        self.suite = suite
        self.servers: list[RawServer] = []
        self.helpers: list[subprocess.Popen[Any]] = []
        self.homes: dict[Path, tuple[Home, set[Path]]] = {}
        self.scan = ScanResult()
        self.cleanups: list[Any] = []  # run after the scan (a home outside tmp_path, say)

    def server(
        self, home: Home, name: str | None = None, *, artifacts: Path | None = None, **kw: Any
    ) -> RawServer:
        srv = RawServer(
            home, artifacts or self.artifacts, name or f"server{len(self.servers)}", **kw
        )
        self.servers.append(srv)
        self.watch(home)
        return srv

    async def start(self, home: Home, name: str | None = None, **kw: Any) -> RawServer:
        start_kw = {
            k: kw.pop(k)
            for k in ("init_options", "client_name", "wait_initial", "init_params")
            if k in kw
        }
        return await self.server(home, name, **kw).start(**start_kw)

    def watch(self, home: Home, *holders: Path) -> None:
        """Scan this home at the end; `holders` hold the env values by design (a config's target)."""
        _, known = self.homes.setdefault(home.root, (home, set()))
        known.update(holders)

    def helper(self, proc: subprocess.Popen[Any]) -> subprocess.Popen[Any]:
        self.helpers.append(proc)
        return proc

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        for srv in self.servers:
            if srv.proc is None or srv.proc.returncode is not None:
                continue
            if getattr(srv.proc, "_loop", loop) is loop:
                await srv.stop()
            else:  # started on a test's own loop (hypothesis tests) and left running: kill by pid
                with contextlib.suppress(ProcessLookupError):
                    os.kill(srv.pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(srv.pid, 0)
        for proc in self.helpers:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)

    def orphans(self) -> list[str]:
        ours = {s.pid for s in self.servers if s.proc is not None} | {p.pid for p in self.helpers}
        found = []
        deadline = time.monotonic() + 5
        while True:
            found = []
            for pid in sorted(ours):
                try:
                    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                except (FileNotFoundError, ProcessLookupError, IndexError):
                    continue
                if state != "Z":
                    found.append(f"pid {pid} still running")
            out = subprocess.run(
                ["pgrep", "-P", str(os.getpid()), "-f", "tuna-lsp|config_reader|cli_writer"],
                capture_output=True,
                text=True,
            ).stdout.split()
            found += [
                f"pid {p} (child of the test run) still running" for p in out if int(p) in ours
            ]
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)  # a reaped child leaves /proc a moment later; bounded by the deadline

    def scan_all(self) -> ScanResult:
        result = ScanResult()
        for srv in self.servers:
            if srv.proc is not None:
                result.add(scan_files(srv.emitted_files()))
        for home, extra in self.homes.values():
            holders = config_holders(home, extra)
            result.add(scan_files(home_files(home, holders)))
        return result


@pytest.fixture
async def rel(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Rel]:
    r = Rel(tmp_path, suite_of(request.module.__name__))
    try:
        yield r
    finally:
        await r.close()
        orphans = r.orphans()
        scan = r.scan_all()
        started = sum(1 for s in r.servers if s.proc is not None)
        figures("secrets").add(
            scanFiles=scan.files, scanBytes=scan.bytes, hits=len(scan.hits), scanServers=started
        )
        figures(r.suite).add(servers=started)
        for cleanup in r.cleanups:
            cleanup()
        assert not orphans, f"processes left running: {orphans}"
        assert not scan.hits, "secret markers found in what the server emitted:\n" + "\n".join(
            scan.hits[:20]
        )


# ---- figures at the end of the run ------------------------------------------------------------


SUITES = ("crash", "concurrency", "bad-input", "permissions", "hardening", "secrets")
PARTIAL: set[str] = set()  # suites of which only some tests were selected: no record for them


def _suite_of_nodeid(nodeid: str) -> str | None:
    path = nodeid.split("::", 1)[0].replace("\\", "/")
    if "reliability/test_" not in path:
        return None
    return suite_of(path.rsplit("/", 1)[-1].removesuffix(".py"))


def pytest_deselected(items: list[pytest.Item]) -> None:
    PARTIAL.update(s for s in (_suite_of_nodeid(i.nodeid) for i in items) if s)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for arg in config.args:
        if "::" in arg:
            suite = _suite_of_nodeid(arg)
            if suite:
                PARTIAL.add(suite)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "tests/reliability/test_" not in report.nodeid.replace("\\", "/"):
        return
    module = report.nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
    fig = figures(suite_of(module))
    fig.seconds += report.duration
    if report.when == "call" and report.passed:
        fig.passed += 1
    elif report.failed:
        fig.failed += 1


def _commit() -> str | None:
    with contextlib.suppress(Exception):
        return (
            subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                timeout=5,
            ).stdout.strip()
            or None
        )
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # the secret scan runs after every test of every suite: it has figures even when
    # test_secrets itself was not selected
    ran = {s: f for s, f in FIGURES.items() if f.passed or f.failed or f.counts.get("scanFiles")}
    if not ran:
        return
    commit = _commit()
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    terminalreporter.section(f"reliability figures ({MODE} mode)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a", encoding="utf-8") as out:
        for suite in SUITES:
            fig = ran.get(suite)
            if fig is None:
                continue
            fmt = SUMMARIES.get(suite)
            line = fmt(fig) if fmt else f"{suite}: {fig.counts}"
            status = "" if not fig.failed else f" ({fig.failed} test(s) FAILED)"
            terminalreporter.write_line(f"RELIABILITY {line}{status}")
            record = {
                "suite": suite,
                "mode": MODE,
                "ts": now,
                "commit": commit,
                "summary": line,
                "passed": fig.passed,
                "failed": fig.failed,
                "durationS": round(fig.seconds, 1),
                **{k: v for k, v in fig.counts.items()},
                **{k: v for k, v in fig.maxima.items()},
                **fig.notes,
            }
            if suite == "secrets" and any(  # the scan covers the suites that ran: all of them
                s in PARTIAL or s not in ran or not ran[s].passed + ran[s].failed for s in SUITES
            ):
                PARTIAL.add(suite)
            if suite in PARTIAL or not fig.passed + fig.failed:
                terminalreporter.write_line(f"  (a partial run of {suite}: not recorded)")
                continue
            out.write(json.dumps(record) + "\n")
