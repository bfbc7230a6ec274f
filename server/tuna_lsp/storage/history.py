"""The model history: `model-history.jsonl` in the user state dir, one JSON object per effective change.

Entries hold model strings, scopes, origins and the client's name: never a value from `env`.
Several servers watch the same config, so an external change is recorded once: a server skips it
when the newest entries already hold the same external change. Must not import lsprotocol.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import platform
from .file_lock import LockTimeout, lock_beside, locked
from .jsonl import append_line, iso, rotated, utc_now
from .quiet_read import open_to_read

if TYPE_CHECKING:  # datetime is loaded on the first record, not at start-up (jsonl.utc_now)
    import datetime as dt

log = logging.getLogger(__name__)
HISTORY_NAME = "model-history.jsonl"
DEDUP_WINDOW_S = 10.0
_TAIL_BYTES = 64 * 1024
# Changes every server watching the file sees: recorded once, by whichever gets there first.
SEEN_BY_EVERY_SERVER = ("external", "stale-overwrite")


class History:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._dir_ready = False

    def record(
        self,
        *,
        previous: str | None,
        model: str,
        scope: str,
        origin: str,
        client: str | None,
        event: str | None = None,
        kind: str | None = None,
    ) -> None:
        """`event`: what tells this change from an earlier one with the same models (the digest
        of the file that made it), for the servers' dedup; stored, never shown in `entries`."""
        now = utc_now()
        entry = {
            "ts": iso(now),
            "previous": previous,
            "model": model,
            "scope": scope,
            "origin": origin,
            "client": client,
        }
        if event is not None:
            entry["event"] = event
        if kind is not None:  # "clear": a session or workspace choice dropped (base/usage.py)
            entry["kind"] = kind
        try:
            if not self._dir_ready:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._dir_ready = True
            try:
                line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate (in a client's name): escape it
                line = (json.dumps(entry) + "\n").encode("ascii")
            if origin not in SEEN_BY_EVERY_SERVER:
                self._append(line)
                return
            # Every server sees an external change: check and append under one lock, so that
            # it is recorded once.
            try:
                with locked(lock_beside(self.path), timeout=1):
                    if not self._seen_recently(entry, now):
                        self._append(line)
            except LockTimeout:
                log.debug("history lock busy; recording the external change anyway")
                self._append(line)
        except OSError as exc:
            log.warning("could not append to the model history %s: %s", self.path, exc.strerror)

    def _append(self, line: bytes) -> None:
        append_line(self.path, line)

    def _seen_recently(self, entry: dict[str, Any], now: dt.datetime) -> bool:
        for old in self._tail(limit=20):  # a busy round: every window records its own lines
            if (old.get("origin"), old.get("previous"), old.get("model"), old.get("event")) != (
                entry["origin"],
                entry["previous"],
                entry["model"],
                entry.get("event"),
            ):
                continue
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                ts = type(now).fromisoformat(str(old["ts"]).replace("Z", "+00:00"))
                if (now - ts).total_seconds() < DEDUP_WINDOW_S:
                    return True
        return False

    def entries(self, limit: int) -> list[dict[str, Any]]:
        """Newest first. Reads only the tail of the file; bad lines are skipped."""
        return [
            {k: obj.get(k) for k in ("ts", "previous", "model", "scope", "origin", "client")}
            for obj in self._tail(limit)
        ]

    def _tail(self, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` entries as stored, newest first (from the rotated copy too, when
        the file holds fewer)."""
        out = self._tail_of(self.path, limit)
        if len(out) < limit:
            out += self._tail_of(rotated(self.path), limit - len(out))
        return out

    def _tail_of(self, path: Path, limit: int) -> list[dict[str, Any]]:
        try:
            fd = open_to_read(path, nonblock=True)  # never waits on a FIFO
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.warning("could not read the model history %s: %s", path, exc.strerror)
            return []
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                log.warning("could not read the model history %s: not a file", path)
                return []
            size = st.st_size
            want = _TAIL_BYTES
            while True:
                start = max(0, size - want)
                lines = platform.pread(fd, size - start, start).splitlines()
                if start > 0:
                    lines = lines[1:]  # maybe cut in the middle
                if start == 0 or len(lines) >= limit:
                    break
                want *= 4
        except OSError as exc:
            log.warning("could not read the model history %s: %s", path, exc.strerror)
            return []
        finally:
            os.close(fd)
        out: list[dict[str, Any]] = []
        for raw in reversed(lines):
            if len(out) >= limit:
                break
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("model"), str):
                out.append(obj)
        return out
