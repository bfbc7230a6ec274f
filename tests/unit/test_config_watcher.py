"""Following the shared config (storage/config_watcher.py): settled reads of a file a writer is
changing in place, coalesced change checks, and the watcher itself on a real directory."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from tuna_lsp.storage.config_store import ConfigStore
from tuna_lsp.storage.config_watcher import ConfigWatcher


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return tmp_path / "tunacode.json"


async def test_a_valid_file_is_read_at_once(cfg: Path) -> None:
    cfg.write_text(json.dumps({"default_model": "a:b"}))
    loop = asyncio.get_running_loop()
    start = loop.time()
    snap = await ConfigStore(cfg).read_settled(settle=5.0)
    assert snap.default_model == "a:b"
    assert loop.time() - start < 1.0


async def test_a_missing_file_is_not_waited_for(cfg: Path) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    snap = await ConfigStore(cfg).read_settled(settle=5.0)
    assert not snap.exists and snap.valid
    assert loop.time() - start < 1.0


async def test_a_writer_stalled_after_truncating_is_waited_for(cfg: Path) -> None:
    """tunacode truncates, then writes: on a busy machine it was seen to stall in between for
    longer than the settle time, and a server called the config invalid ("the file is empty").
    An empty file is waited for longer (EMPTY_SETTLE_S) before it is called invalid."""
    cfg.write_text("")

    async def finish() -> None:
        await asyncio.sleep(0.8)  # past SETTLE_S (0.25 s), within EMPTY_SETTLE_S
        cfg.write_text('{"default_model": "c:d"}')

    writer = asyncio.create_task(finish())
    snap = await ConfigStore(cfg).read_settled()
    await writer
    assert snap.valid and snap.default_model == "c:d", snap.error


async def test_an_in_place_write_is_waited_for(cfg: Path) -> None:
    cfg.write_text("")  # truncated: the writer is half-way through

    async def finish() -> None:
        await asyncio.sleep(0.05)
        cfg.write_text('{"default_model": ')
        await asyncio.sleep(0.05)
        cfg.write_text('{"default_model": "c:d"}')

    writer = asyncio.create_task(finish())
    snap = await ConfigStore(cfg).read_settled(settle=0.08)
    await writer
    # the content kept moving, so the read waited past its first deadline
    assert snap.valid and snap.default_model == "c:d"


async def test_an_invalid_file_that_stays_invalid(cfg: Path) -> None:
    cfg.write_text("{")
    loop = asyncio.get_running_loop()
    start = loop.time()
    snap = await ConfigStore(cfg).read_settled(settle=0.1)
    elapsed = loop.time() - start
    assert not snap.valid and snap.error is not None and snap.error.reason == "invalid-config"
    assert 0.1 <= elapsed < 2.0


async def test_the_last_seen_content_is_reported(cfg: Path) -> None:
    cfg.write_text("")

    async def change() -> None:
        await asyncio.sleep(0.03)
        cfg.write_text("{")

    task = asyncio.create_task(change())
    snap = await ConfigStore(cfg).read_settled(settle=0.15)
    await task
    assert snap.raw == b"{"
    assert snap.error is not None and snap.error.cause.startswith("invalid JSON")


async def test_checks_are_coalesced(cfg: Path) -> None:
    calls = 0
    gate = asyncio.Event()

    async def on_change() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await gate.wait()

    watcher = ConfigWatcher(cfg, on_change)
    watcher.trigger()
    await asyncio.sleep(0)
    for _ in range(5):  # events while the first check runs: one more check, not five
        watcher.trigger()
    gate.set()
    await wait_for(lambda: calls == 2 and not watcher._busy)
    await asyncio.sleep(0.05)
    assert calls == 2


async def test_a_failing_handler_does_not_stop_later_checks(
    cfg: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0

    async def on_change() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    watcher = ConfigWatcher(cfg, on_change)
    watcher.trigger()
    await wait_for(lambda: calls == 1 and not watcher._busy)
    watcher.trigger()
    await wait_for(lambda: calls == 2)
    assert any("handling a change of" in r.getMessage() for r in caplog.records)


async def test_the_watcher_sees_writes_and_a_directory_made_later(tmp_path: Path) -> None:
    cfg = tmp_path / "later" / "tunacode.json"
    seen: list[bytes | None] = []

    async def on_change() -> None:
        seen.append(cfg.read_bytes() if cfg.exists() else None)

    watcher = ConfigWatcher(cfg, on_change)
    task = asyncio.create_task(watcher.run())
    try:
        await wait_for(lambda: seen == [None])  # the catch-up check once the watch is set
        cfg.parent.mkdir()
        cfg.write_text('{"default_model": "a:b"}')
        await wait_for(lambda: seen and seen[-1] == b'{"default_model": "a:b"}')
        cfg.write_text('{"default_model": "c:d"}')
        await wait_for(lambda: seen[-1] == b'{"default_model": "c:d"}')
    finally:
        watcher.stop()
        await asyncio.wait_for(task, 5)


async def wait_for(predicate: object, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError("condition not met within the deadline")
        await asyncio.sleep(0.01)


# The watcher also polls the file's stat every second (POLL_MS), a safety net that would hide a
# broken event path: these tests want each change seen well before a poll could see it.
PROMPT_S = 0.7


async def seen_promptly(predicate: object) -> None:
    await wait_for(predicate, timeout=PROMPT_S)


async def test_changes_are_seen_at_once_not_by_the_poll(tmp_path: Path) -> None:
    cfg = tmp_path / "tunacode.json"
    cfg.write_text("{}")
    seen: list[bytes] = []

    async def on_change() -> None:
        seen.append(cfg.read_bytes())

    watcher = ConfigWatcher(cfg, on_change)
    task = asyncio.create_task(watcher.run())
    try:
        await wait_for(lambda: seen == [b"{}"])
        for i in range(3):
            body = json.dumps({"default_model": f"p:{i}"}).encode()
            cfg.write_bytes(body)
            await seen_promptly(lambda body=body: seen[-1] == body)
    finally:
        watcher.stop()
        await asyncio.wait_for(task, 5)


@pytest.mark.posix
async def test_a_symlinked_config_is_followed_to_its_target(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "home").mkdir()
    target = tmp_path / "real" / "tunacode.json"
    target.write_text("{}")
    link = tmp_path / "home" / "tunacode.json"
    link.symlink_to(target)
    seen: list[bytes] = []

    async def on_change() -> None:
        seen.append(link.read_bytes())

    watcher = ConfigWatcher(link, on_change)
    task = asyncio.create_task(watcher.run())
    try:
        await wait_for(lambda: seen == [b"{}"])
        target.write_text('{"default_model": "a:b"}')  # a write to the target, not the link
        await seen_promptly(lambda: seen[-1] == b'{"default_model": "a:b"}')
    finally:
        watcher.stop()
        await asyncio.wait_for(task, 5)


async def test_a_directory_made_later_is_watched_at_once(tmp_path: Path) -> None:
    cfg = tmp_path / "a" / "b" / "tunacode.json"
    seen: list[bytes | None] = []

    async def on_change() -> None:
        seen.append(cfg.read_bytes() if cfg.exists() else None)

    watcher = ConfigWatcher(cfg, on_change)
    task = asyncio.create_task(watcher.run())
    try:
        await wait_for(lambda: seen == [None])
        cfg.parent.mkdir(parents=True)
        cfg.write_text("{}")
        await seen_promptly(lambda: seen and seen[-1] == b"{}")
        cfg.write_text("[]")
        await seen_promptly(lambda: seen[-1] == b"[]")
    finally:
        watcher.stop()
        await asyncio.wait_for(task, 5)


async def test_a_directory_replaced_under_the_watch_is_caught_by_the_poll(tmp_path: Path) -> None:
    # the watch holds the old directory: no event comes for the new file, only the stat poll
    cfg = tmp_path / "d" / "tunacode.json"
    cfg.parent.mkdir()
    cfg.write_text("{}")
    seen: list[bytes] = []

    async def on_change() -> None:
        seen.append(cfg.read_bytes())

    watcher = ConfigWatcher(cfg, on_change)
    task = asyncio.create_task(watcher.run())
    try:
        await seen_promptly(lambda: seen == [b"{}"])  # the catch-up check once the watch is set
        (tmp_path / "d").rename(tmp_path / "old")
        cfg.parent.mkdir()
        cfg.write_text("[]")
        await wait_for(lambda: seen[-1] == b"[]", timeout=3.0)
    finally:
        watcher.stop()
        await asyncio.wait_for(task, 5)


async def test_no_change_no_check(tmp_path: Path) -> None:
    cfg = tmp_path / "tunacode.json"
    cfg.write_text("{}")
    calls = 0

    async def on_change() -> None:
        nonlocal calls
        calls += 1

    watcher = ConfigWatcher(cfg, on_change)
    task = asyncio.create_task(watcher.run())
    try:
        await seen_promptly(lambda: calls == 1)
        await asyncio.sleep(1.3)  # past one poll: an unchanged file is not checked again
        assert calls == 1
    finally:
        watcher.stop()
        await asyncio.wait_for(task, 5)


@pytest.mark.parametrize("forced", ["other-os", "no-watchfiles", "watchfiles-fails"])
async def test_each_fallback_follows_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forced: str
) -> None:
    """Without inotify (another OS), the watch is watchfiles'; when watchfiles cannot be
    imported or started, a stat poll. Each sees a write, an atomic rename and a later one."""
    import sys

    from tuna_lsp.storage import platform

    monkeypatch.setattr(platform, "INOTIFY", False)
    expected = "watchfiles"
    if forced == "no-watchfiles":
        monkeypatch.setitem(sys.modules, "watchfiles", None)  # import raises ImportError
        expected = "a stat poll"
    elif forced == "watchfiles-fails":
        import watchfiles

        def refused(*args: object, **kwargs: object) -> object:
            raise RuntimeError("cannot start the watcher (forced)")

        monkeypatch.setattr(watchfiles, "awatch", refused)
        expected = "a stat poll"
    cfg = tmp_path / "tunacode.json"
    cfg.write_text("{}")
    seen: list[bytes] = []

    async def on_change() -> None:
        seen.append(cfg.read_bytes())

    watcher = ConfigWatcher(cfg, on_change)
    task = asyncio.create_task(watcher.run())
    try:
        await wait_for(lambda: seen and watcher.method == expected)
        cfg.write_text('{"default_model": "a:b"}')  # in place
        await wait_for(lambda: seen[-1] == b'{"default_model": "a:b"}')
        (tmp_path / "new").write_text('{"default_model": "c:d"}')
        os.replace(tmp_path / "new", cfg)  # atomic
        await wait_for(lambda: seen[-1] == b'{"default_model": "c:d"}')
        assert not task.done()
    finally:
        watcher.stop()
        await asyncio.wait_for(task, 5)
    assert watcher.method == expected
