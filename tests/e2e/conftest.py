"""Fixtures of the end-to-end suites: the real editor a session declares, and the real tunacode
TUIs a test starts. Their helpers are in tests/harness/ (the home: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest
from harness.home import Home
from harness.paths import TUNACODE_BIN
from harness.session import REAL_CLIENT, REAL_CLIENTS
from harness.tui import Tui


@pytest.fixture(params=REAL_CLIENTS)
def real_client(request: pytest.FixtureRequest) -> Iterator[str]:
    """Use as `pytestmark = pytest.mark.usefixtures("real_client")`: every session of the test
    declares that client's capabilities."""
    REAL_CLIENT[0] = request.param
    try:
        yield request.param
    finally:
        REAL_CLIENT[0] = REAL_CLIENTS[0]


@pytest.fixture
def tui() -> Iterator[Callable[[Home], Awaitable[Tui]]]:
    """Starts real tunacode TUIs (harness/tui.py) and stops every one when the test ends."""
    started: list[Tui] = []

    async def start(home: Home) -> Tui:
        t = Tui(home, TUNACODE_BIN)
        started.append(t)
        await t.start()
        return t

    yield start
    for t in started:
        t.stop()
