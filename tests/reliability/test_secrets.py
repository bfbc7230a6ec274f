"""Secrets: no message, log, history, preference, cache or lock file the server writes ever holds
the value of an API key or of any `env` entry.

Every server of every reliability suite runs with distinct marker values in each `env` entry of its
config and in its process environment (harness.CONFIG_ENV, harness.PROCESS_ENV), at DEBUG log
level; when each test ends, everything it emitted is scanned (both directions of the protocol as
raw bytes, stderr, the log file, and every file in its home but the config itself). This suite adds
one pass that drives every operation the server has, the error paths included, and prints the
figure for the whole run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from harness.home import Home

from .harness import (
    CONFIG_ENV,
    TUNACODE_PY,
    RpcError,
    cli_config,
    finish_helper,
    python_helper,
    rich_config,
    scan_bytes,
)

SUITE = "secrets"  # its summary line is harness.secrets_summary: every suite feeds the scan


def uri(path: Path) -> str:
    return path.resolve().as_uri()


def pos(text: str, needle: str) -> dict[str, int]:
    """The LSP position (UTF-16 columns; the text is ASCII around markers) inside `needle`."""
    i = text.index(needle) + 3
    line = text.count("\n", 0, i)
    return {"line": line, "character": i - (text.rfind("\n", 0, i) + 1)}


async def test_every_operation_leaks_no_secret(rel, home: Home, tmp_path: Path) -> None:
    config = rich_config("openai:gpt-4.1")
    home.write_config(config)
    os.chmod(home.config, 0o644)  # readable by others while env holds keys: the warning path
    srv = await rel.start(home, "everything", init_options={"configPath": str(home.config)})
    srv.sent_has_secrets = True  # this client sends the config's text (didOpen): not an emission

    # requests and commands, the happy paths
    await srv.request("tuna/getModel", None)
    await srv.request("tuna/listModels", {"query": "OPENAI_API_KEY gpt", "limit": 5})
    await srv.request("tuna/listModels", {"provider": "openai", "limit": 1000})
    await srv.request("tuna/setModel", {"model": "anthropic:claude-sonnet-4-20250514"})
    await srv.request("tuna/setModel", {"model": "gpt-4.1"})  # bare: routing and preferences
    await srv.request("tuna/setModel", {"model": "openrouter:openai/gpt-4.1"})
    await srv.request("tuna/setModel", {"model": "openai:o3", "scope": "session"})
    await srv.request(
        "tuna/setProviderPreference", {"model": "o3", "providers": ["openai", "openrouter"]}
    )
    for command, args in (
        ("tuna.setModel", ["openai:gpt-4o", "default"]),
        ("tuna.setModel", [{"model": "openai:gpt-4.1", "scope": "session"}]),
        ("tuna.getModel", []),
        ("tuna.listModels", ["claude"]),
    ):
        await srv.request("workspace/executeCommand", {"command": command, "arguments": args})
    await srv.request("tuna/history", {"limit": 1000})
    await srv.request("tuna/stats")

    # the error paths: bad input, a busy lock, a refresh pointed at the config itself
    for bad in ({"model": "nope:x"}, {"model": ""}, {"model": 5}):
        with pytest.raises(RpcError):
            await srv.request("tuna/setModel", bad)
    from filelock import FileLock

    with FileLock(str(home.config) + ".lock"):
        with pytest.raises(RpcError) as err:
            await srv.request("tuna/setModel", {"model": "openai:o4-mini"})
        assert err.value.data["reason"] == "lock-timeout"
    refresh = await srv.call("tuna/refreshCatalog", {"url": uri(home.config)})
    assert "error" in refresh
    assert refresh["error"]["code"] != -32603, refresh["error"]["message"][:500]

    # the editor side: the config and the preferences as open documents
    text = home.config.read_text()
    await srv.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": uri(home.config),
                "languageId": "json",
                "version": 1,
                "text": text,
            }
        },
    )
    for value in CONFIG_ENV.values():
        at = pos(text, value)
        doc = {"textDocument": {"uri": uri(home.config)}, "position": at}
        await srv.request("textDocument/hover", doc)
        await srv.request("textDocument/completion", doc)
        await srv.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri(home.config)},
                "range": {"start": at, "end": at},
                "context": {"diagnostics": []},
            },
        )
    # an edit that breaks the env (values of the wrong type, a key holding a value) and the rest
    broken = json.loads(text)
    broken["env"] = {
        "OPENAI_API_KEY": [CONFIG_ENV["OPENAI_API_KEY"]],
        "ANTHROPIC_API_KEY": {"nested": CONFIG_ENV["ANTHROPIC_API_KEY"]},
        CONFIG_ENV["GEMINI_API_KEY"]: CONFIG_ENV["GEMINI_API_KEY"],
        "OPENROUTER_API_KEY": "  " + CONFIG_ENV["OPENROUTER_API_KEY"] + "\n",
    }
    broken["default_model"] = "openai:gpt-4.1 typo"
    broken_text = json.dumps(broken, indent=4)
    await srv.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri(home.config), "version": 2},
            "contentChanges": [{"text": broken_text}],
        },
    )
    for value in (CONFIG_ENV["OPENAI_API_KEY"], CONFIG_ENV["GEMINI_API_KEY"]):
        at = pos(broken_text, value)
        await srv.request(
            "textDocument/hover", {"textDocument": {"uri": uri(home.config)}, "position": at}
        )
        await srv.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri(home.config)},
                "range": {"start": {"line": 0, "character": 0}, "end": at},
                "context": {"diagnostics": []},
            },
        )
    # with unsaved edits open, a set is refused (and must not echo the buffer)
    await srv.call("tuna/setModel", {"model": "openai:gpt-4o-mini"})
    await srv.notify("textDocument/didClose", {"textDocument": {"uri": uri(home.config)}})

    # the file changes under the server: a hand edit, an invalid file, the real tunacode CLI
    changes = len(srv.changes)
    edited = {**json.loads(home.config.read_text()), "default_model": "openai:gpt-4.1-mini"}
    home.write_config(edited)
    await srv.wait_for(lambda: len(srv.changes) > changes, 10, "the hand edit to be seen")
    shown = len(srv.shown)
    home.config.write_text(json.dumps(edited, indent=4)[:-40])  # cut short, keys included
    await srv.wait_for(lambda: len(srv.shown) > shown, 10, "the invalid-config warning")
    with pytest.raises(RpcError):
        await srv.request("tuna/setModel", {"model": "openai:o3"})
    home.write_config(cli_config("openai:gpt-4.1"))
    if TUNACODE_PY.exists():
        cli = rel.helper(
            python_helper(
                "cli_writer.py",
                "0.5",
                json.dumps(["openai:cli-secret-check"]),
                "s",
                python=str(TUNACODE_PY),
                env=home.env(),
            )
        )
        report = await finish_helper(cli, 60)
        assert report["writes"] > 0, report
        await srv.wait_for(
            lambda: srv.changes and srv.changes[-1]["persistedModel"] == "openai:cli-secret-check",
            10,
            "the CLI's change",
        )
    await srv.request("tuna/setModel", {"model": "openai:gpt-4.1"})

    # a second server sees the same home: its start-up paths too
    other = await rel.start(home, "second")
    await other.request("tuna/getModel")
    await other.stop()
    await srv.stop()

    # the same scan the fixture runs for every test, here with what was found shown
    hits = scan_bytes(bytes(srv.received), "protocol, server to client")
    hits += scan_bytes(srv.files["log"].read_bytes(), "log")
    hits += scan_bytes(srv.files["stderr"].read_bytes(), "stderr")
    for path in (home.history, home.preferences):
        hits += scan_bytes(path.read_bytes(), str(path))
    assert not hits, "\n".join(hits[:20])
    log = srv.log_text()
    # the debug trace of a set, request to notification (PROTOCOL/issue 6), is there: secret-free
    for step in ("set: request", "set: resolved", "set: lock", "set: renamed", "tuna/modelChanged"):
        assert step in log, f"the debug log does not trace {step!r}"
