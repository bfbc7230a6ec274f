"""The stale-overwrite guard (PROTOCOL.md section 9) against the real tunacode-cli 0.2.3 TUI running in
a terminal (tmux, tests/harness/tui.py), beside real tuna-lsp servers.

The story of every test: tunacode starts on CLI_MODEL; an editor sets EDITOR_MODEL through tuna-lsp
(the file keeps the user's own "hooks" key); the user picks a theme in the running tunacode, which
writes back the copy it loaded at start: CLI_MODEL again, "hooks" gone, the new theme in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from harness.home import Home
from harness.session import Session, lsp_session
from harness.tui import Tui
from harness.waiting import wait_until
from pygls.exceptions import JsonRpcException

pytestmark = pytest.mark.cli

CLI_MODEL = "anthropic:claude-sonnet-4-5"
EDITOR_MODEL = "openai:gpt-4o"
HOOKS = {"on_start": "make check"}  # a key of the user's own, which tunacode does not know
BASE = {
    "default_model": CLI_MODEL,
    "recent_models": [CLI_MODEL],
    "env": {"ANTHROPIC_API_KEY": "sk-ant-test-not-a-key", "OPENAI_API_KEY": "sk-test-not-a-key"},
    "hooks": HOOKS,
    "settings": {"theme": "dracula"},  # /theme then Down picks another
}
RESTORE, KEEP = f"Restore {EDITOR_MODEL}", f"Keep {CLI_MODEL}"
StartTui = Callable[[Home], Awaitable[Tui]]


def overwrite(change: dict[str, Any]) -> dict[str, Any]:
    return change.get("overwrite") or {}


def resolution(value: str) -> Callable[[dict[str, Any]], bool]:
    return lambda c: overwrite(c).get("resolution") == value


@contextlib.asynccontextmanager
async def servers(home: Home, *options: dict[str, Any] | None) -> AsyncIterator[list[Session]]:
    """One tuna-lsp server per entry of `options` (its initializationOptions), all on `home`."""
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                lsp_session(home, init_options=opts, client_name=f"editor-{i}")
            )
            for i, opts in enumerate(options)
        ]


async def editor_sets_then_cli_saves(home: Home, cli: Tui, sessions: list[Session]) -> bytes | None:
    """The editor's choice, then tunacode's stale save. Returns the bytes tunacode wrote, or None
    when a server restored them before they could be read (`staleOverwrite: restore`)."""
    await sessions[0].request("tuna/setModel", {"model": EDITOR_MODEL, "scope": "global"})
    for s in sessions:
        await s.wait_change(lambda c: c["persistedModel"] == EDITOR_MODEL, 10)
    assert "claude-sonnet-4-5" in cli.resource_bar, cli.resource_bar  # it did not follow
    await cli.pick_theme()
    stale = home.config.read_bytes()
    written = json.loads(stale)
    if written["default_model"] == EDITOR_MODEL and "hooks" in written:
        return None
    # what tunacode 0.2.3 does (the recipe): its own model back, the user's key gone
    assert written["default_model"] == CLI_MODEL and "hooks" not in written, written
    assert written["settings"]["theme"] != "dracula", written["settings"]
    return stale


def assert_reported(change: dict[str, Any]) -> None:
    ow = overwrite(change)
    assert ow["model"] == CLI_MODEL and ow["replacedModel"] == EDITOR_MODEL, ow
    assert "hooks" in ow["droppedKeys"], ow
    assert change["persistedModel"] == CLI_MODEL and change["viaEditor"] is False
    warning = next(w for w in change["warnings"] if "stale copy" in w)
    assert EDITOR_MODEL in warning and CLI_MODEL in warning and "hooks" in warning
    assert "sk-" not in json.dumps(change)  # names only, never a value from env


async def history(session: Session) -> list[dict[str, Any]]:
    return list((await session.request("tuna/history", {"limit": 50}))["entries"])


def origins(entries: list[dict[str, Any]], origin: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["origin"] == origin]


async def saves(sessions: list[Session]) -> int:
    return sum([(await s.request("tuna/stats", {}))["saves"] for s in sessions])


def assert_restored(home: Home, stale: bytes | None) -> None:
    data = home.read_config()
    assert data["default_model"] == EDITOR_MODEL and data["recent_models"][0] == EDITOR_MODEL
    assert data["hooks"] == HOOKS  # the dropped key, back with its last value
    assert data["settings"]["theme"] != "dracula"  # the CLI's new theme, kept
    if stale is not None:
        cli = json.loads(stale)
        assert data["settings"] == cli["settings"] and data["env"] == cli["env"]


async def test_ask_every_server_reports_one_answer_restores_once(home: Home, tui: StartTui) -> None:
    home.write_config(BASE)
    cli = await tui(home)
    every_server_asked, restored_in_one = asyncio.Event(), asyncio.Event()

    async def restore(q: dict[str, Any]) -> str:
        await every_server_asked.wait()  # the user reads, then clicks, in one window
        return RESTORE

    async def late_restore(q: dict[str, Any]) -> str:
        await restored_in_one.wait()  # and later clicks Restore in the other windows too
        return RESTORE

    async with servers(home, None, {"staleOverwrite": "ask"}, {"staleOverwrite": "ask"}) as ss:
        ss[0].answer = restore
        ss[1].answer = ss[2].answer = late_restore
        try:
            stale = await editor_sets_then_cli_saves(home, cli, ss)
            for s in ss:
                assert_reported(await s.wait_change(resolution("pending"), 10))
                await wait_until(lambda s=s: s.questions, 10, "the question")
                (q,) = s.questions
                assert q["type"] == 2 and q["actions"] == [RESTORE, KEEP], q
                assert EDITOR_MODEL in q["message"] and CLI_MODEL in q["message"], q
                assert "hooks" in q["message"] and "sk-" not in q["message"], q
            every_server_asked.set()
            for s in ss:
                await s.wait_change(resolution("restored"), 10)
            assert_restored(home, stale)
            after_restore = home.config.read_bytes()
            restored_in_one.set()
            for s in ss[1:]:  # the late clicks were answered: nothing left to restore
                await wait_until(
                    lambda s=s: any("not restored" in m.message for m in s.client.log_messages),
                    10,
                    "the late Restore handled",
                )
            assert home.config.read_bytes() == after_restore
            entries = await history(ss[0])
            assert len(origins(entries, "restored")) == 1, entries
            assert len(origins(entries, "stale-overwrite")) == 1, entries
            assert await saves(ss) == 2  # the editor's set and one restore, from three servers
            for s in ss:
                assert s.last["persistedModel"] == EDITOR_MODEL and s.last["viaEditor"] is True
        finally:  # no question left waiting when the servers stop
            every_server_asked.set()
            restored_in_one.set()


async def test_restore_on_three_servers_writes_one_restore_and_asks_nothing(
    home: Home, tui: StartTui
) -> None:
    home.write_config(BASE)
    cli = await tui(home)
    opts = {"staleOverwrite": "restore"}
    async with servers(home, opts, opts, opts) as ss:
        stale = await editor_sets_then_cli_saves(home, cli, ss)
        await wait_until(
            lambda: "hooks" in home.read_config(), 10, "the restore written by one server"
        )
        assert_restored(home, stale)
        # Every server ends on the restored model, none with the overwrite pending. The one that
        # restored reported it; a server whose watcher first read the file after the restore (it
        # takes about 10 ms) saw no overwrite at all: for it, nothing changed.
        states = []
        for s in ss:
            await s.wait_change(lambda c: not resolution("pending")(c), 10, len(s.changes) - 1)
            states.append(await s.request("tuna/getModel", {}))
        assert all(st["persistedModel"] == EDITOR_MODEL for st in states), states
        found = [overwrite(st).get("resolution") for st in states]
        assert "restored" in found and set(found) <= {"restored", None}, found
        entries = await history(ss[0])
        assert len(origins(entries, "restored")) == 1, entries
        assert len(origins(entries, "stale-overwrite")) == 1, entries
        assert await saves(ss) == 2
        assert [s.questions for s in ss] == [[], [], []]


async def test_keep_writes_nothing_and_records_kept(home: Home, tui: StartTui) -> None:
    home.write_config(BASE)
    cli = await tui(home)
    async with servers(home, {"staleOverwrite": "ask"}) as ss:
        ss[0].answer = lambda q: KEEP
        stale = await editor_sets_then_cli_saves(home, cli, ss)
        assert_reported(await ss[0].wait_change(resolution("pending"), 10))
        kept = await ss[0].wait_change(resolution("kept"), 10)
        assert kept["persistedModel"] == CLI_MODEL and kept["viaEditor"] is False
        assert not [w for w in kept["warnings"] if "stale copy" in w]
        assert home.config.read_bytes() == stale
        entries = await history(ss[0])
        assert len(origins(entries, "stale-overwrite")) == 1, entries
        assert len(origins(entries, "kept")) == 1 and not origins(entries, "restored"), entries
        assert await saves(ss) == 1


async def test_accept_only_records_and_restore_on_request_still_works(
    home: Home, tui: StartTui
) -> None:
    home.write_config(BASE)
    cli = await tui(home)
    async with servers(home, {"staleOverwrite": "accept"}) as ss:
        stale = await editor_sets_then_cli_saves(home, cli, ss)
        assert_reported(await ss[0].wait_change(resolution("pending"), 10))
        # a round trip after the guard ran (it is scheduled with the notification)
        assert overwrite(await ss[0].request("tuna/getModel", {}))["resolution"] == "pending"
        assert home.config.read_bytes() == stale and ss[0].questions == []
        entries = await history(ss[0])
        assert len(origins(entries, "stale-overwrite")) == 1, entries
        assert not origins(entries, "restored") and not origins(entries, "kept"), entries

        result = await ss[0].request("tuna/restoreOverwrite", {})
        assert EDITOR_MODEL in result["message"] and "hooks" in result["message"], result
        assert overwrite(result)["resolution"] == "restored"
        assert_restored(home, stale)
        assert len(origins(await history(ss[0]), "restored")) == 1

        # tunacode still holds its copy: its next save is a new overwrite, recorded as such
        n = len(ss[0].changes)
        await cli.pick_theme()
        second = await ss[0].wait_change(resolution("pending"), 10, n)
        assert overwrite(second)["at"] != overwrite(result)["at"]
        entries = await history(ss[0])
        assert len(origins(entries, "stale-overwrite")) == 2, entries


async def test_the_clis_own_model_command_is_never_an_overwrite(home: Home, tui: StartTui) -> None:
    home.write_config(BASE)
    cli = await tui(home)
    async with servers(home, {"staleOverwrite": "restore"}, None) as ss:
        await ss[0].request("tuna/setModel", {"model": EDITOR_MODEL, "scope": "global"})
        for s in ss:
            await s.wait_change(lambda c: c["persistedModel"] == EDITOR_MODEL, 10)
        n = [len(s.changes) for s in ss]
        await cli.command("/model openai:gpt-4.1")
        await cli.wait_screen(lambda s: "gpt-4.1" in s.splitlines()[0], 15, "the CLI switched")
        for s, after in zip(ss, n, strict=True):
            change = await s.wait_change(
                lambda c: c["persistedModel"] == "openai:gpt-4.1", 10, after
            )
            # viaEditor false: a following editor never types this back into a CLI
            assert change["viaEditor"] is False and change["overwrite"] is None, change
        # its next save writes the copy it re-read: the same model, still no overwrite
        await cli.pick_theme()
        assert json.loads(home.config.read_bytes())["default_model"] == "openai:gpt-4.1"
        for s in ss:
            state = await s.request("tuna/getModel", {})
            assert state["overwrite"] is None and state["viaEditor"] is False, state
            assert s.questions == []
        entries = await history(ss[0])
        assert not origins(entries, "stale-overwrite") and not origins(entries, "restored")
        assert await saves(ss) == 1


# ---- bad input ---------------------------------------------------------------------------------


async def test_restore_with_nothing_pending_is_an_error_and_writes_nothing(home: Home) -> None:
    home.write_config(BASE)
    before = home.config.read_bytes()
    async with servers(home, None) as (s,):
        with pytest.raises(JsonRpcException) as err:
            await s.request("tuna/restoreOverwrite", {})
        assert err.value.code == -32803
        assert "no stale overwrite to restore" in str(err.value.message), err.value.message
    assert home.config.read_bytes() == before
    assert not home.history.exists() or "restored" not in home.history.read_text()


async def test_unknown_option_uses_ask_and_an_invalid_file_refuses_restore(
    home: Home, tui: StartTui
) -> None:
    home.write_config(BASE)
    cli = await tui(home)
    async with servers(home, {"staleOverwrite": "sometimes"}) as (s,):
        await wait_until(lambda: s.shown, 5, "the option warning")
        kind, text = s.shown[0]
        assert kind == 2 and "staleOverwrite" in text and "sometimes" in text, s.shown
        await editor_sets_then_cli_saves(home, cli, [s])
        await wait_until(lambda: s.questions, 10, "the question (ask is the fallback)")
        assert s.questions[0]["actions"] == [RESTORE, KEEP]  # dismissed: still pending

        broken = b'{"default_model": "openai:gpt-4o", '  # a hand edit, half done
        home.config.write_bytes(broken)
        await s.wait_change(lambda c: c["configValid"] is False, 10)
        with pytest.raises(JsonRpcException) as err:
            await s.request("tuna/restoreOverwrite", {})
        assert err.value.code == -32803 and "Nothing was changed" in str(err.value.message)
        assert home.config.read_bytes() == broken
        assert not origins(await history(s), "restored")
