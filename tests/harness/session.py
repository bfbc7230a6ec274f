"""Real `tuna-lsp` processes driven by pytest-lsp clients: `lsp_session` starts and initializes
one in a home, declaring a real editor's capabilities, and collects what the server sends."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from .home import Home
from .paths import SERVER_CMD
from .waiting import wait_until

# The capabilities of the real editor a session declares unless a test says otherwise; the
# `real_client` fixture (tests/e2e/conftest.py: tests/e2e/test_requests.py, test_flow.py,
# test_workspace.py) runs a suite as each of those pytest-lsp ships.
REAL_CLIENTS = ("visual-studio-code", "neovim", "emacs")
REAL_CLIENT = [REAL_CLIENTS[0]]


def plain(value: Any) -> Any:
    """pytest-lsp gives custom payloads as namedtuples; tests compare plain JSON values."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@dataclass
class Session:
    client: LanguageClient
    changes: list[dict[str, Any]] = field(default_factory=list)
    catalog_events: list[dict[str, Any]] = field(default_factory=list)
    init_result: Any = None
    # window/showMessageRequest received, and the title of the action to answer each with
    # (None: dismiss it, as a user closing the notification does); a coroutine answers later,
    # as a user who reads the notification first
    questions: list[dict[str, Any]] = field(default_factory=list)
    answer: Callable[[dict[str, Any]], str | Awaitable[str | None] | None] = lambda _q: None

    async def request(self, method: str, params: Any = None) -> Any:
        return plain(await self.client.protocol.send_request_async(method, params))

    async def command(self, name: str, *args: Any) -> Any:
        return plain(
            await self.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=name, arguments=list(args))
            )
        )

    async def wait_change(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0, after: int = 0
    ) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((c for c in self.changes[after:] if predicate(c)), None)

        return await wait_until(found, timeout, "a tuna/modelChanged matching the condition")

    async def wait_catalog(self, timeout: float = 10.0) -> dict[str, Any]:
        """The tuna/catalogChanged sent once the catalog has loaded: {catalog, state}."""
        return await wait_until(
            lambda: self.catalog_events and self.catalog_events[-1], timeout, "tuna/catalogChanged"
        )

    @property
    def shown(self) -> list[tuple[int, str]]:
        """window/showMessage received (pytest-lsp collects them)."""
        return [(int(m.type), m.message) for m in self.client.messages]

    @property
    def last(self) -> dict[str, Any]:
        return self.changes[-1]


@contextlib.asynccontextmanager
async def lsp_session(
    home: Home,
    *,
    init_options: Any = None,
    env: dict[str, str] | None = None,
    client_name: str = "pytest",
    command: list[str] | None = None,
    wait_initial: bool = True,
    workspace: Path | None = None,
    capabilities: types.ClientCapabilities | None = None,
) -> AsyncIterator[Session]:
    """A started, initialized session; `capabilities` are what the client declares: unless
    given, those of the real client in force (`real_client`, VS Code's by default; the request
    suites run as each of the clients pytest-lsp ships). An empty set is asked for explicitly,
    as `types.ClientCapabilities()`: it hides what real clients make the server do."""
    config = ClientServerConfig(server_command=command or SERVER_CMD, server_env=env or home.env())
    client = await config.start()
    session = Session(client)

    @client.feature("tuna/modelChanged")
    def _changed(params: Any) -> None:
        session.changes.append(plain(params))

    @client.feature("tuna/catalogChanged")
    def _catalog(params: Any) -> None:
        session.catalog_events.append(plain(params))

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    async def _question(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        question = {
            "type": int(params.type),
            "message": params.message,
            "actions": [a.title for a in params.actions or []],
        }
        session.questions.append(question)
        title = session.answer(question)
        if inspect.isawaitable(title):
            title = await title
        return types.MessageActionItem(title=title) if title is not None else None

    try:
        session.init_result = await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities
                if capabilities is not None
                else pytest_lsp.client_capabilities(REAL_CLIENT[0]),
                client_info=types.ClientInfo(name=client_name, version="1"),
                initialization_options=init_options,
                root_uri=workspace.as_uri() if workspace else None,
                workspace_folders=[
                    types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)
                ]
                if workspace
                else None,
            )
        )
        if wait_initial:
            await wait_until(lambda: session.changes, 10, "the initial tuna/modelChanged")
        yield session
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.shutdown_session(), 5)
        with contextlib.suppress(Exception):
            await client.stop()
