"""The save outcomes: `saves.jsonl` in the user state dir, one JSON object per attempt of this
server to write a choice to disk (PROTOCOL.md 10). Never a key's value: scope, kind, outcome,
the failure's reason, milliseconds and the client's name. Must not import lsprotocol."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from .jsonl import append_line, iso, read_lines, utc_now

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
        entry: dict[str, object] = {
            "ts": iso(utc_now()),
            "scope": scope,
            "kind": kind,
            "outcome": outcome,
        }
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
    from ..base.usage import usage, window  # with datetime: on a usage request, not at start-up

    since, now = window(days)
    cutoff = iso(since).encode()
    return usage(
        read_lines(history, cutoff), read_lines(saves, cutoff), days, now=now, persisted=persisted
    )
