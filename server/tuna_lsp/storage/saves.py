"""The save outcomes: `saves.jsonl` in the user state dir, one JSON object per attempt of this
server to write a choice to disk (PROTOCOL.md 10). Never a key's value: scope, kind, outcome,
the failure's reason, milliseconds and the client's name. Must not import lsprotocol."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from .jsonl import append_line, read_lines

log = logging.getLogger(__name__)
SAVES_NAME = "saves.jsonl"


class SaveLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def record(
        self,
        *,
        scope: str,
        kind: str,
        outcome: str,
        ms: float,
        client: str | None,
        reason: str | None = None,
    ) -> None:
        import datetime as dt  # on the first save, not at start-up

        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        entry: dict[str, object] = {"ts": now, "scope": scope, "kind": kind, "outcome": outcome}
        if reason is not None:
            entry["reason"] = reason
        entry.update(ms=round(ms, 2), client=client)
        line = (json.dumps(entry) + "\n").encode("ascii")  # escaped: a lone surrogate is text too
        try:
            append_line(self.path, line)
        except OSError as exc:
            log.warning("could not append to the save outcomes %s: %s", self.path, exc)


def read_usage(
    history: Path, saves: Path, days: int, persisted: str | None = None
) -> dict[str, Any]:
    """The Usage object of PROTOCOL.md 10 from the two files and their rotated copies. Raises
    OSError when one of them is not a regular file."""
    import datetime as dt  # on a usage request, not at start-up

    from ..base.usage import iso, usage  # likewise

    now = dt.datetime.now(dt.UTC)
    since = iso(now - dt.timedelta(days=days)).encode()
    return usage(
        read_lines(history, since), read_lines(saves, since), days, now=now, persisted=persisted
    )
