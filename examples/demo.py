"""The main job, end to end, on an embedded default: a real LSP client starts `tuna-lsp` in an
isolated home with no tunacode config, reads the model, selects another, and shows the
`tuna/modelChanged` notifications it receives and the file the server wrote.

    make demo            (or: .venv/bin/python examples/demo.py [provider:model])
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import BaseLanguageClient

SHOWN = ("model", "scope", "persistedModel", "name", "contextWindow", "apiKey", "origin")


def plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


async def main(model: str) -> None:
    home = Path(tempfile.mkdtemp(prefix="tuna-demo-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")},
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    server = shutil.which("tuna-lsp", path=str(Path(sys.executable).parent)) or "tuna-lsp"
    client = BaseLanguageClient("tuna-demo", "1")
    changes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    @client.feature("tuna/modelChanged")
    def on_changed(params: Any) -> None:
        changes.put_nowait(plain(params))

    @client.feature("tuna/catalogChanged")
    def on_catalog(params: Any) -> None:
        catalog = plain(params).get("catalog") or {}
        sources = ", ".join(f"{x['name']} {x['version']}" for x in catalog.get("sources", []))
        print(f"<- tuna/catalogChanged: {catalog.get('models')} models loaded ({sources})")

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: types.LogMessageParams) -> None:
        pass

    print(f"isolated home: {home} (no tunacode config yet)")
    await client.start_io(server, "--log-level", "WARNING", env=env)
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            client_info=types.ClientInfo(name="tuna-demo", version="1"),
        )
    )
    client.initialized(types.InitializedParams())
    first = await asyncio.wait_for(changes.get(), 10)
    print("\n<- tuna/modelChanged (initial):")
    print(json.dumps({k: first[k] for k in SHOWN}, indent=2))

    print(f"\n-> tuna/setModel {{model: {model!r}}}")
    result = plain(await client.protocol.send_request_async("tuna/setModel", {"model": model}))
    print(f"<- result message: {result['message']}")
    while True:
        change = await asyncio.wait_for(changes.get(), 10)
        if change["origin"] == "client":
            break
    print("<- tuna/modelChanged:")
    print(json.dumps({k: change[k] for k in SHOWN}, indent=2))

    config = Path(result["configPath"])
    print(f"\n{config} (mode {config.stat().st_mode & 0o777:o}):")
    print(config.read_text())
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "anthropic:claude-sonnet-4-20250514"))
