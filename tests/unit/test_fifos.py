"""A FIFO (or another file that is not a regular one) where the server keeps a file of its own:
the preferences, the history, the write marks. Opening a FIFO waits for its other end, and the
server has one thread for every request: each must fail at once, saying what is wrong."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tuna_lsp.storage.history import History
from tuna_lsp.storage.preferences import Preferences
from tuna_lsp.storage.quiet_read import read_regular
from tuna_lsp.storage.write_marks import WriteMarks

pytestmark = pytest.mark.posix  # FIFOs


def at_once(fn: Callable[[], Any], seconds: float = 5) -> Any:
    """fn() on a daemon thread; fails if it does not return within `seconds` (a thread blocked in
    open(2) cannot be stopped: a daemon one does not hold the test run)."""
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{fn} waited on the FIFO"
    return out[0]


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "state" / "file"
    path.parent.mkdir()
    os.mkfifo(path)
    return path


def test_preferences(fifo: Path) -> None:
    prefs = Preferences(fifo)
    assert at_once(prefs.all) == {}
    assert prefs.error is not None
    assert prefs.error.cause == "cannot read the file (not a regular file)"


def test_history(fifo: Path, caplog: pytest.LogCaptureFixture) -> None:
    history = History(fifo)
    assert at_once(lambda: history.entries(20)) == []
    record = dict(previous="a:b", model="a:c", scope="global", origin="client", client=None)
    at_once(lambda: history.record(**record))  # logged as not recorded
    assert "not a file" in caplog.text and "could not append" in caplog.text


def test_write_marks(fifo: Path) -> None:
    marks = WriteMarks(fifo)
    at_once(lambda: marks.add(b"{}"))
    assert at_once(lambda: marks.made_by_us(b"{}")) is False


def test_read_regular_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_regular(path, 100) == b"x" * 100
    with pytest.raises(OSError, match="larger than 99 bytes"):
        read_regular(path, 99)
    with pytest.raises(OSError, match="not a regular file"):
        read_regular(tmp_path, 100)
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing", 100)
