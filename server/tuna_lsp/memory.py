"""The memory seam: every trick the server plays with the garbage collector and the C heap, in one
place, and what each buys. The figure they move is the one users see on every editor window:
idle memory (`make bench`: idle RSS above a bare pygls server, 16 servers on one config).

- `freeze_start_up`: pygls and lsprotocol leave hundreds of thousands of objects that live as
  long as the process. Frozen out of the collector's way while the server starts, so the set-up
  that follows pays for no full collection over them (20 to 30 ms of a 500 ms start).
- `after_start_up`: once the catalog is loaded and the client has been quiet for `QUIET_S` (at
  the latest `LATEST_S` later), one full collection of what start-up left, a freeze of what
  remains (it lives as long as the server: a full collection in the middle of some request
  would otherwise walk it all), and the heap's free pages handed back.
- `give_back_heap`: glibc keeps freed pages for reuse; `malloc_trim` hands them back (after a
  picker session's searches too: features/catalog.py). Linux/glibc only (storage/platform.py).
- `collector_paused`: the collector paused while a long text is analysed (millions of objects in
  no cycle, freed by reference counting: each full collection walked them all, for up to 0.6 s
  with 4 MiB, holding up every request).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
import time
from collections.abc import Callable, Iterator

from .storage import platform

QUIET_S = 0.2
LATEST_S = 10.0


def freeze_start_up() -> None:
    gc.freeze()


def after_start_up(last_message: Callable[[], float]) -> None:
    """Schedule the end of start-up: `last_message()` is when the client last spoke (monotonic)."""
    loop = asyncio.get_running_loop()
    latest = time.monotonic() + LATEST_S

    def end() -> None:
        now = time.monotonic()
        quiet = now - last_message()
        if quiet >= QUIET_S or now >= latest:
            trim_heap()
        else:  # not inside a burst of requests (a picker opened as the editor starts)
            loop.call_later(QUIET_S - quiet, end)

    loop.call_later(QUIET_S, end)


def trim_heap() -> None:
    gc.unfreeze()  # frozen at start: what start-up left for the collector is collected now
    gc.collect()
    gc.freeze()
    give_back_heap()


def give_back_heap() -> None:
    trim = platform.libc_function("malloc_trim")
    if trim is not None:
        trim(0)


_paused_lock = threading.Lock()
_paused = {"analyses": 0, "was_enabled": True}


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Resumed when the last analysis under way ends (analyses run in threads of their own)."""
    with _paused_lock:
        if _paused["analyses"] == 0:
            _paused["was_enabled"] = gc.isenabled()
            gc.disable()
        _paused["analyses"] += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused["analyses"] -= 1
            if _paused["analyses"] == 0 and _paused["was_enabled"]:
                gc.enable()
