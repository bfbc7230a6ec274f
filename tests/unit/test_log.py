"""log.ClientLogHandler: records reach the client's log from any thread, always sent on the loop's."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from tuna_lsp.log import ClientLogHandler


class Recorder:
    """The one call the handler makes of the server, with the thread it was made on."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, Any]] = []

    def window_log_message(self, params: Any) -> None:
        self.sent.append((threading.get_ident(), params))


def test_records_from_other_threads_are_sent_on_the_loop() -> None:
    async def main() -> tuple[int, list[tuple[int, Any]]]:
        server = Recorder()
        handler = ClientLogHandler(server)  # type: ignore[arg-type]
        log = logging.getLogger("tests.client_log")
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        try:
            log.warning("on the loop")
            await asyncio.to_thread(log.warning, "from a worker %s", "thread")
            log.debug("below the client's level")
            deadline = time.monotonic() + 5
            while len(server.sent) < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.001)
        finally:
            log.removeHandler(handler)
        return threading.get_ident(), server.sent

    loop_thread, sent = asyncio.run(main())
    assert [p.message for _, p in sent] == ["on the loop", "from a worker thread"]
    assert [t for t, _ in sent] == [loop_thread, loop_thread]
    assert {int(p.type) for _, p in sent} == {2}  # Warning
