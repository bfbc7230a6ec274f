"""Shared test harness: isolated homes, and real `tuna-lsp` processes driven by pytest-lsp clients."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from tui import Tui
from waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# TUNA_LSP_SERVER runs the suites against another install (make test-wheel: the built wheel's).
SERVER_CMD = [os.environ.get("TUNA_LSP_SERVER") or str(BIN / "tuna-lsp")]
TUNACODE_PY = (
    Path(os.environ.get("TUNACODE_VENV", ROOT / ".cache" / "tunacode-venv")) / "bin" / "python"
)
TUNACODE_BIN = TUNACODE_PY.parent / "tunacode"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On Windows, a test marked `posix` (modes, owners, FIFOs, symlinks) is skipped, named as
    such in the report: it never fails at collection nor for a reason it does not test."""
    if os.name != "nt":
        return
    skip = pytest.mark.skip(reason="needs POSIX (modes, owners, FIFOs or symlinks)")
    for item in items:
        if item.get_closest_marker("posix"):
            item.add_marker(skip)


# The capabilities of the real editor a session declares unless a test says otherwise; the
# `real_client` fixture (tests/test_requests.py, test_flow.py, test_workspace.py) runs a suite as
# each of those pytest-lsp ships.
REAL_CLIENTS = ("visual-studio-code", "neovim", "emacs")
REAL_CLIENT = [REAL_CLIENTS[0]]


@pytest.fixture(params=REAL_CLIENTS)
def real_client(request: pytest.FixtureRequest) -> Iterator[str]:
    """Use as `pytestmark = pytest.mark.usefixtures("real_client")`: every session of the test
    declares that client's capabilities."""
    REAL_CLIENT[0] = request.param
    try:
        yield request.param
    finally:
        REAL_CLIENT[0] = REAL_CLIENTS[0]


SECRET_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "GEMINI_API_KEY")


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
class Home:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / ".config" / "tunacode.json"

    @property
    def history(self) -> Path:
        return self.root / "state" / "tunacode" / "model-history.jsonl"

    @property
    def preferences(self) -> Path:
        return self.root / "xdgconfig" / "tunacode" / "preferences.toml"

    @property
    def cache(self) -> Path:
        return self.root / "cache" / "tunacode"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if k not in SECRET_VARS and k != "TUNACODE_CONFIG"
        }
        env.update(
            HOME=str(self.root),
            # Windows: Path.home() (the server's and tunacode's home) is USERPROFILE, and
            # platformdirs' folders are under APPDATA and LOCALAPPDATA: never a developer's own
            USERPROFILE=str(self.root),
            APPDATA=str(self.root / "appdata"),
            LOCALAPPDATA=str(self.root / "localappdata"),
            XDG_CONFIG_HOME=str(self.root / "xdgconfig"),
            XDG_STATE_HOME=str(self.root / "state"),
            XDG_CACHE_HOME=str(self.root / "cache"),
        )
        env.update(extra)
        return env

    def write_config(self, data: Any, path: Path | None = None) -> Path:
        path = path or self.config
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data if isinstance(data, str) else json.dumps(data, indent=4))
        return path

    def read_config(self, path: Path | None = None) -> Any:
        return json.loads((path or self.config).read_text())


@pytest.fixture(scope="session")
def catalog_indexes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalog index files servers built during this run, by name. The name says which
    sources an index holds (core/catalog/build.py index_path), so one built for a home is the one any
    home without a snapshot of its own would build: each test's server then opens it at once,
    as every server after the first does on a user's machine, instead of spending seconds of
    CPU building it again beside the test. tests/test_catalog_index.py builds its own."""
    return tmp_path_factory.mktemp("catalog-indexes")


@pytest.fixture
def home(tmp_path: Path, catalog_indexes: Path) -> Iterator[Home]:
    h = Home(tmp_path / "home")
    h.root.mkdir()
    h.cache.mkdir(mode=0o700, parents=True)
    for index in catalog_indexes.glob("catalog-index-*.sqlite"):
        os.link(index, h.cache / index.name)
    yield h
    for index in h.cache.glob("catalog-index-*.sqlite"):
        with contextlib.suppress(FileExistsError):
            os.link(index, catalog_indexes / index.name)


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


def run_tunacode(home: Home, code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run Python inside the real tunacode CLI's virtualenv, with HOME pointing at `home`."""
    if not TUNACODE_PY.exists():
        pytest.fail(f"the tunacode CLI venv is missing at {TUNACODE_PY}: run `make tunacode-venv`")
    return subprocess.run(
        [str(TUNACODE_PY), "-c", code],
        env=home.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


@pytest.fixture
def tui() -> Iterator[Callable[[Home], Awaitable[Tui]]]:
    """Starts real tunacode TUIs (tests/tui.py) and stops every one when the test ends."""
    started: list[Tui] = []

    async def start(home: Home) -> Tui:
        t = Tui(home, TUNACODE_BIN)
        started.append(t)
        await t.start()
        return t

    yield start
    for t in started:
        t.stop()
