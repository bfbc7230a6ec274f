"""Follows the shared config on disk: a watch on its directory, and settled reads.

Every server process watches, so a change made by the CLI, another editor or a hand edit reaches
every open editor within milliseconds. On Linux the watch is inotify read on the event loop:
the first event is handled at once, with no grouping delay, and costs nothing
while idle; elsewhere, or when inotify cannot be had (the per-user instance limit reached:
EMFILE), watchfiles, grouping events for a few ms; when watchfiles cannot be imported or started
either, a stat of the file every POLL_ONLY_MS. Each step down is logged once, never retried
forever. An atomic rename is read whole at once; tunacode writes in place (truncate, then write), so only a read of an empty or half-written
file is retried until the content settles, and only then is the file called invalid. Nothing here
ever writes. Must not import lsprotocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from . import platform

log = logging.getLogger(__name__)
# watchfiles groups events for `step` ms of quiet (max `debounce` ms); its defaults (50/1600 ms)
# are far too slow for a status bar that should follow the CLI at once.
STEP_MS = 10
DEBOUNCE_MS = 50
# inotify(7), from linux/inotify.h: a stable kernel ABI, called through ctypes (no library needed
# for two calls and a read; the read side is os.read on the loop).
_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len; then the name
IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF, IN_IGNORED, IN_ISDIR = 0x400, 0x800, 0x8000, 0x40000000


class _Inotify:
    """An inotify instance: its fd (non-blocking, close-on-exec) and its watches."""

    def __init__(self) -> None:
        libc = platform.libc()  # ctypes: inotify only (Linux), the other paths never load it
        init = getattr(libc, "inotify_init1", None)
        self._add_watch = getattr(libc, "inotify_add_watch", None)
        if init is None or self._add_watch is None:
            raise OSError(errno.ENOSYS, "inotify is not available from the C library")
        self._errno = platform.libc_errno
        self.fd = init(platform.O_NONBLOCK | platform.O_CLOEXEC)
        if self.fd < 0:
            err = self._errno()
            raise OSError(err, f"inotify_init1: {os.strerror(err)}")

    def add_watch(self, path: Path, mask: int) -> None:
        assert self._add_watch is not None
        if self._add_watch(self.fd, os.fsencode(path), mask) < 0:
            err = self._errno()
            raise OSError(err, f"inotify_add_watch {path}: {os.strerror(err)}")

    def __enter__(self) -> _Inotify:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


# How long a hand-edited file that may parse half-written (preferences.toml) must stay unchanged.
QUIET_MS = 50
# A safety net for missed events (network file systems, a directory replaced under us): every
# POLL_MS without events the file's stat is compared with the last one seen.
POLL_MS = 1000
# Without inotify and watchfiles, the stat poll is all there is: often enough to follow the CLI.
POLL_ONLY_MS = 100


def _nearest_existing(path: Path) -> Path:
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path


class ConfigWatcher:
    """`quiet_ms`: 0 reacts to the first event (the config: its reader settles a torn read, which
    never parses); more waits for that long without events, for a file whose half-written
    content may well parse (an empty TOML file is a valid one)."""

    def __init__(
        self, path: Path, on_change: Callable[[], Awaitable[None]], *, quiet_ms: int = 0
    ) -> None:
        self.path = path
        self.on_change = on_change
        self.quiet_ms = quiet_ms
        self._quiet: asyncio.TimerHandle | None = None
        self._following: asyncio.Task[Any] | None = None
        self._polling: asyncio.TimerHandle | None = None
        self._stop = asyncio.Event()
        self._busy = False
        self._again = False
        self._seen: tuple[int, int, int] | None = self._stat()

    def stop(self) -> None:
        self._stop.set()
        if self._following is not None:  # waiting on inotify: nothing else would wake it
            self._following.cancel()

    def _targets(self) -> tuple[set[Path], set[str]]:
        dirs = {_nearest_existing(self.path.parent)}
        names = {self.path.name}
        real = Path(os.path.realpath(self.path))
        if real != self.path:
            dirs.add(_nearest_existing(real.parent))
            names.add(real.name)
        return dirs, names

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    async def run(self) -> None:
        """Follow until stopped: inotify where the system has it; watchfiles when there is none or
        it cannot be had; a stat poll when watchfiles cannot be imported or started."""
        self.method = ""
        try:
            if platform.INOTIFY and await self._run_inotify():
                return
            if await self._run_watchfiles():
                return
            await self._run_poll()
        except asyncio.CancelledError:
            if not self._stop.is_set():
                raise
        finally:
            if self._polling is not None:
                self._polling.cancel()

    method = ""  # how the file is followed: "inotify", "watchfiles", "a stat poll" (logged once)

    def _using(self, method: str, dirs: set[Path], names: set[str]) -> None:
        if method != self.method:
            self.method = method
            log.info(
                "following %s in %s with %s",
                ", ".join(sorted(names)),
                ", ".join(sorted(map(str, dirs))),
                method,
            )

    async def _run_inotify(self) -> bool:
        """Follow with inotify until stopped (True); False, the reason logged, when it cannot
        be had (EMFILE: the per-user limit of instances; ENOSPC: of watches; ENOSYS)."""
        mask = (
            IN_CREATE
            | IN_MODIFY
            | IN_CLOSE_WRITE
            | IN_MOVED_TO
            | IN_MOVED_FROM
            | IN_DELETE
            | IN_ATTRIB
            | IN_DELETE_SELF
            | IN_MOVE_SELF
        )
        self._poll()
        while not self._stop.is_set():
            dirs, names = self._targets()
            try:
                inotify = _Inotify()
            except OSError as exc:
                log.warning("inotify cannot be had (%s); following with watchfiles instead", exc)
                return False
            with inotify:
                try:
                    for d in dirs:
                        inotify.add_watch(d, mask)
                except OSError as exc:
                    if exc.errno in (errno.ENOENT, errno.ENOTDIR):  # a directory just went
                        await asyncio.sleep(0.01)
                        continue
                    log.warning(
                        "inotify cannot watch %s (%s); following with watchfiles", dirs, exc
                    )
                    return False
                self._using("inotify", dirs, names)
                self.trigger()  # catch up with what was written before the watch was set
                self._following = asyncio.current_task()
                try:
                    await self._follow(inotify, dirs, names)
                except OSError as exc:  # a read of the instance failed: a new one
                    log.warning("reading inotify events failed (%s); watching anew in 1 s", exc)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), 1.0)
                finally:
                    self._following = None
        return True

    def _poll(self) -> None:
        """The safety net: a change no event reported (every POLL_MS, a stat)."""
        if self._stop.is_set():
            return
        if self._polling is not None and self._stat() != self._seen:
            self.trigger()
        self._polling = asyncio.get_running_loop().call_later(POLL_MS / 1000, self._poll)

    async def _follow(self, inotify: _Inotify, dirs: set[Path], names: set[str]) -> None:
        """Handle events until the watched directories change (the caller then watches anew).
        Every write of ours makes half a dozen events in the directory (lock, temp file,
        rename), other programs' files make more: each batch the kernel has ready is read at
        once and looked at as bytes, and makes at most one check."""
        loop = asyncio.get_running_loop()
        restart: asyncio.Future[None] = loop.create_future()
        ours_b = {os.fsencode(n) for n in names}
        gone = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED

        def readable() -> None:
            try:
                data = os.read(inotify.fd, 64 * 1024)
            except BlockingIOError:
                return
            except OSError as exc:
                if not restart.done():
                    restart.set_exception(exc)
                return
            ours = moved = dirs_changed = False
            at = 0
            while at + _EVENT.size <= len(data):  # struct inotify_event, then the name
                _, mask, _, length = _EVENT.unpack_from(data, at)
                name = data[at + _EVENT.size : at + _EVENT.size + length].rstrip(b"\0")
                at += _EVENT.size + length
                ours = ours or name in ours_b
                moved = moved or bool(mask & gone)
                dirs_changed = dirs_changed or bool(mask & IN_ISDIR)
            if not moved and (ours or dirs_changed):
                moved = self._targets() != (dirs, names)
            if ours or moved:
                self.trigger()
            if moved and not restart.done():
                restart.set_result(None)  # the config dir appeared or went, or a link moved

        loop.add_reader(inotify.fd, readable)
        try:
            await restart
        finally:
            loop.remove_reader(inotify.fd)

    async def _run_watchfiles(self) -> bool:
        """Follow with watchfiles until stopped (True); False, the reason logged, when it cannot
        be imported, or fails before it has watched at all."""
        try:
            from watchfiles import awatch  # the fallback: may be missing, or refused
        except Exception as exc:  # ImportError, or its binary refused by this system
            log.warning("watchfiles cannot be imported (%s); following by a stat poll", exc)
            return False

        loop = asyncio.get_running_loop()
        started = False
        while not self._stop.is_set():
            # The watch is in place once the loop below has started; catch up with anything
            # written between the last read and then.
            loop.call_later(0.05, self.trigger)
            dirs, names = self._targets()
            restart = False
            try:
                async for changes in awatch(
                    *dirs,
                    watch_filter=None,
                    debounce=DEBOUNCE_MS,
                    step=STEP_MS,
                    stop_event=self._stop,
                    recursive=False,
                    ignore_permission_denied=True,
                    rust_timeout=POLL_MS,
                    yield_on_timeout=True,
                ):
                    if not started:
                        started = True
                        self._using("watchfiles", dirs, names)
                    if self._watchfiles_changes(changes, dirs, names):
                        restart = True
                        break
            except Exception as exc:  # OSError, RuntimeError, its Rust side's own errors
                if not started:
                    log.warning(
                        "watchfiles cannot watch %s (%s); following by a stat poll", dirs, exc
                    )
                    return False
                log.warning("watching %s failed (%s); retrying in 1 s", dirs, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 1.0)
            if not restart and not self._stop.is_set():
                await asyncio.sleep(0.05)
        return True

    def _watchfiles_changes(
        self, changes: set[tuple[Any, str]], dirs: set[Path], names: set[str]
    ) -> bool:
        """Handle one batch from watchfiles (empty: its timeout, when the stat is the safety net);
        True when the watched directories changed and must be watched anew."""
        if not changes:
            if self._stat() != self._seen:
                self.trigger()
            return False
        relevant = any(Path(p).name in names for _, p in changes)
        restart = self._targets() != (dirs, names)
        if restart:
            relevant = True  # the config dir appeared, or a link moved
        if relevant:
            self.trigger()
        return restart

    async def _run_poll(self) -> None:
        """Follow by the file's stat alone, every POLL_ONLY_MS: what is left when neither
        inotify nor watchfiles can be had."""
        self._using("a stat poll", *self._targets())
        self.trigger()  # catch up with what was written before
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), POLL_ONLY_MS / 1000)
            if not self._stop.is_set() and self._stat() != self._seen:
                self.trigger()

    def trigger(self) -> None:
        if self.quiet_ms:
            if self._quiet is not None:
                self._quiet.cancel()
            self._quiet = asyncio.get_running_loop().call_later(self.quiet_ms / 1000, self._fire)
        else:
            self._fire()

    def _fire(self) -> None:
        """Coalesce: one check at a time, and one more if events came in meanwhile."""
        self._quiet = None
        if self._busy:
            self._again = True
            return
        asyncio.get_running_loop().create_task(self._check())

    async def _check(self) -> None:
        self._busy = True
        try:
            while True:
                self._again = False
                self._seen = self._stat()
                try:
                    await self.on_change()
                except Exception:
                    log.exception("handling a change of %s failed", self.path)
                if not self._again:
                    break
        finally:
            self._busy = False
