"""End-to-end: every request, command, result, error and notification of the core, against the
real `tuna-lsp` process started as an editor starts it (stdio), with real files in an isolated home."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest
from harness.home import Home
from harness.paths import SERVER_CMD
from harness.session import lsp_session
from harness.waiting import wait_until
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

# every test here runs as VS Code, Neovim and Emacs (the capabilities pytest-lsp ships)
pytestmark = pytest.mark.usefixtures("real_client")

CONFIG = {
    "default_model": "openai:gpt-4.1",
    "recent_models": ["openai:gpt-4.1", "anthropic:claude-sonnet-4-20250514"],
    "env": {"OPENAI_API_KEY": "sk-test-openai-VALUE", "ANTHROPIC_API_KEY": ""},
    "settings": {"theme": "dracula", "max_retries": 3, "ripgrep": {"timeout": 10}},
    "hooks": {"pre": ["echo ☃ keep me"]},
}


async def test_initial_state_from_config(home: Home) -> None:
    home.write_config(CONFIG)
    async with lsp_session(home) as s:
        first = s.changes[0]
        assert first["model"] == "openai:gpt-4.1"
        assert (first["provider"], first["modelId"]) == ("openai", "gpt-4.1")
        assert first["scope"] == "global" and first["origin"] == "initial"
        assert first["persistedModel"] == "openai:gpt-4.1"
        assert first["configPath"] == str(home.config)
        assert first["apiKey"] == "present" and first["apiKeyEnvVar"] == "OPENAI_API_KEY"
        assert first["recentModels"] == CONFIG["recent_models"]
        caps = s.init_result.capabilities.execute_command_provider.commands
        assert {"tuna.setModel", "tuna.getModel", "tuna.listModels"} <= set(caps)
        for params in ({}, [], None):
            state = await s.request("tuna/getModel", params)
            assert state["model"] == "openai:gpt-4.1"
        # the catalog fills in the name and context window once it has loaded: a
        # tuna/catalogChanged, not a second tuna/modelChanged (nothing the protocol counts changed)
        full = (await s.wait_catalog())["state"]
        assert full["name"] == "GPT-4.1" and full["contextWindow"] > 100_000
        assert full["catalog"]["providers"] > 100
        assert len(s.changes) == 1 and s.changes[0]["origin"] == "initial"
        assert (await s.request("tuna/getModel"))["name"] == "GPT-4.1"
        assert "sk-test-openai-VALUE" not in json.dumps(s.changes)


async def test_no_config_is_tunacode_default(home: Home) -> None:
    async with lsp_session(home) as s:
        first = s.changes[0]
        assert first["scope"] == "default"
        assert first["model"] == "openrouter:openai/gpt-4.1"
        assert first["persistedModel"] is None and first["recentModels"] == []
        assert first["apiKey"] == "missing" and first["apiKeyEnvVar"] == "OPENROUTER_API_KEY"
    assert not home.config.exists(), "reading must never create the file"


async def test_set_global_writes_only_our_keys(home: Home) -> None:
    home.write_config(CONFIG)
    async with lsp_session(home) as s:
        n = len(s.changes)
        result = await s.request(
            "tuna/setModel", {"model": " anthropic : claude-sonnet-4-20250514 "}
        )
        assert result["model"] == "anthropic:claude-sonnet-4-20250514"
        assert result["scope"] == "global"
        assert result["message"] == (
            f"Model set to anthropic:claude-sonnet-4-20250514 and saved to {home.config}"
        )
        saved = home.read_config()
        assert saved["default_model"] == "anthropic:claude-sonnet-4-20250514"
        assert saved["recent_models"] == ["anthropic:claude-sonnet-4-20250514", "openai:gpt-4.1"]
        assert list(saved) == list(CONFIG)  # key order kept
        for key in ("env", "settings", "hooks"):
            assert saved[key] == CONFIG[key]
        assert home.config.read_text() == json.dumps(saved, indent=4)  # as tunacode writes it
        change = await s.wait_change(lambda c: c["origin"] == "client", after=n)
        assert change["model"] == "anthropic:claude-sonnet-4-20250514"
        assert change["apiKey"] == "missing"  # env holds an empty ANTHROPIC_API_KEY
        entries = (await s.request("tuna/history", {}))["entries"]
        assert entries[0]["previous"] == "openai:gpt-4.1"
        assert entries[0]["model"] == "anthropic:claude-sonnet-4-20250514"
        assert (entries[0]["scope"], entries[0]["origin"], entries[0]["client"]) == (
            "global",
            "client",
            "pytest 1",
        )
        assert "sk-test-openai-VALUE" not in home.history.read_text()


async def test_setting_what_is_set_writes_nothing(home: Home) -> None:
    home.write_config(CONFIG)
    async with lsp_session(home) as s:
        await s.request("tuna/setModel", {"model": "openai:gpt-4o"})
        before = home.config.stat()
        entries = len((await s.request("tuna/history", {}))["entries"])
        changes = len(s.changes)
        again = await s.request("tuna/setModel", {"model": "openai:gpt-4o"})
        assert again["model"] == "openai:gpt-4o"
        assert "already saved" in again["message"]
        after = home.config.stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
        assert len((await s.request("tuna/history", {}))["entries"]) == entries
        await s.request("tuna/getModel")
        assert len(s.changes) == changes


async def test_session_scope_leaves_the_file_alone(home: Home) -> None:
    home.write_config(CONFIG)
    raw = home.config.read_bytes()
    async with lsp_session(home) as s:
        r = await s.request("tuna/setModel", {"model": "openai:gpt-4o-mini", "scope": "session"})
        assert r["scope"] == "session" and r["model"] == "openai:gpt-4o-mini"
        assert r["persistedModel"] == "openai:gpt-4.1"
        assert r["message"] == "Model set to openai:gpt-4o-mini for this session only (not saved)"
        assert home.config.read_bytes() == raw
        await s.wait_change(lambda c: c["scope"] == "session")
        # an external change of the file shows as persistedModel; the session model stays
        n = len(s.changes)
        home.write_config({**CONFIG, "default_model": "openai:o3"})
        ext = await s.wait_change(lambda c: c["origin"] == "external", after=n)
        assert (ext["model"], ext["scope"], ext["persistedModel"]) == (
            "openai:gpt-4o-mini",
            "session",
            "openai:o3",
        )
        # a global set clears the session override
        g = await s.request("tuna/setModel", {"model": "openai:gpt-4.1"})
        assert g["scope"] == "global" and g["model"] == "openai:gpt-4.1"


async def test_execute_command_forms(home: Home) -> None:
    home.write_config(CONFIG)
    async with lsp_session(home) as s:
        r = await s.command("tuna.setModel", "openai:o3")
        assert r["scope"] == "global" and home.read_config()["default_model"] == "openai:o3"
        r = await s.command("tuna.setModel", "openai:o4-mini", "default")
        assert r["scope"] == "global" and home.read_config()["default_model"] == "openai:o4-mini"
        r = await s.command("tuna.setModel", "openai:gpt-4o", "global")
        assert home.read_config()["default_model"] == "openai:gpt-4o"
        r = await s.command("tuna.setModel", "openai:gpt-4.1-mini", "session")
        assert r["scope"] == "session" and home.read_config()["default_model"] == "openai:gpt-4o"
        r = await s.command("tuna.setModel", {"model": "openai:gpt-4.1", "scope": "global"})
        assert r["scope"] == "global" and home.read_config()["default_model"] == "openai:gpt-4.1"
        await wait_until(lambda: len(s.shown) >= 5, what="one showMessage per command")
        assert s.shown[-1] == (3, f"Model set to openai:gpt-4.1 and saved to {home.config}")
        got = await s.command("tuna.getModel")
        assert got["model"] == "openai:gpt-4.1"
        # the old keyword writes once
        before = home.config.stat().st_mtime_ns
        await s.command("tuna.setModel", "openai:gpt-4.1", "default")
        assert home.config.stat().st_mtime_ns == before


BAD_SET_PARAMS = [
    ({"model": ""}, "empty"),
    ({"model": "   "}, "empty"),
    ({"model": "openai:"}, "empty model id"),
    ({"model": ":gpt-4.1"}, "empty provider"),
    ({"model": "openai:gpt 4.1"}, "whitespace"),
    ({"model": "openai:gpt\x00x"}, "control"),
    ({"model": "OpenAI:gpt-4.1"}, "not a valid provider id"),
    ({"model": "openai:" + "x" * 257}, "too long"),
    ({"model": "y" * 100_000}, "too long"),
    ({"model": 42}, "must be a string"),
    ({"model": None}, "must be a string"),
    ({"model": ["openai:gpt-4.1"]}, "must be a string"),
    ({}, "missing 'model'"),
    ({"model": "openai:gpt-4.1", "scope": "forever"}, "scope must be"),
    ({"model": "openai:gpt-4.1", "scope": 3}, "scope must be"),
    ("openai:gpt-4.1", "params must be an object"),
    ({"model": "opnai:gpt-4.1"}, "did you mean 'openai'"),
    ({"model": "antropic:claude-sonnet-4"}, "did you mean 'anthropic'"),
    ({"model": "nosuchprov:x"}, "unknown provider 'nosuchprov'. Expected 'provider:model_id'"),
]


async def test_bad_input_is_invalid_params_and_changes_nothing(home: Home) -> None:
    home.write_config(CONFIG)
    raw = home.config.read_bytes()
    async with lsp_session(home) as s:
        for params, expected in BAD_SET_PARAMS:
            with pytest.raises(JsonRpcInvalidParams) as err:
                await s.request("tuna/setModel", params)
            assert expected in err.value.message, (params, err.value.message)
            assert "expected" in err.value.message.lower() or "did you mean" in err.value.message
        for args in ([], ["a", "b", "c"], [1], [None], [{"scope": "global"}], ["openai:o3", "x"]):
            with pytest.raises(JsonRpcException) as err:
                await s.command("tuna.setModel", *args)
            assert err.value.code == -32602, (args, err.value)
        with pytest.raises(JsonRpcInvalidParams):
            await s.request("tuna/getModel", "nope")
        with pytest.raises(JsonRpcInvalidParams):
            await s.request("tuna/history", {"limit": "ten"})
        assert home.config.read_bytes() == raw
        assert (await s.request("tuna/getModel"))["model"] == "openai:gpt-4.1"


async def test_unknown_model_of_known_provider_is_accepted_with_warning(home: Home) -> None:
    async with lsp_session(home) as s:
        r = await s.request("tuna/setModel", {"model": "openai:gpt-4.1-nanoo"})
        assert r["model"] == "openai:gpt-4.1-nanoo"
        assert any("not in the model catalog" in w and "gpt-4.1-nano" in w for w in r["warnings"])
        assert home.read_config()["default_model"] == "openai:gpt-4.1-nanoo"


@pytest.mark.parametrize(
    "content",
    ["{not json", "", "[1, 2]", '{"default_model": 7}', '{"recent_models": "openai:o3"}'],
)
async def test_malformed_config_is_request_failed_and_untouched(home: Home, content: str) -> None:
    home.write_config(content)
    raw = home.config.read_bytes()
    async with lsp_session(home) as s:
        assert s.changes[0]["configValid"] is False
        assert any("invalid" in w for w in s.changes[0]["warnings"])
        with pytest.raises(JsonRpcException) as err:
            await s.request("tuna/setModel", {"model": "openai:gpt-4.1"})
        assert err.value.code == -32803
        assert str(home.config) in err.value.message and "Nothing was changed" in err.value.message
        assert err.value.data == {"reason": "invalid-config", "path": str(home.config)}
        assert home.config.read_bytes() == raw
        # a session choice still works: it does not touch the file
        r = await s.request("tuna/setModel", {"model": "openai:gpt-4.1", "scope": "session"})
        assert r["scope"] == "session"
    assert home.config.read_bytes() == raw


async def test_lock_timeout(home: Home) -> None:
    from filelock import FileLock

    home.write_config(CONFIG)
    raw = home.config.read_bytes()
    async with lsp_session(home) as s:
        with FileLock(str(home.config) + ".lock"):
            t0 = time.monotonic()
            with pytest.raises(JsonRpcException) as err:
                await s.request("tuna/setModel", {"model": "openai:o3"})
            assert 1.9 < time.monotonic() - t0 < 6
        assert err.value.code == -32803 and err.value.data["reason"] == "lock-timeout"
        assert home.config.read_bytes() == raw
        state = await s.request("tuna/getModel")
        assert state["model"] == "openai:gpt-4.1"
        # released: the next set goes through
        await s.request("tuna/setModel", {"model": "openai:o3"})
        assert home.read_config()["default_model"] == "openai:o3"


async def test_new_config_modes_and_existing_mode_kept(home: Home) -> None:
    async with lsp_session(home) as s:
        await s.request("tuna/setModel", {"model": "openai:o3"})
    assert stat.S_IMODE(home.config.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.config.parent.stat().st_mode) == 0o700
    assert home.read_config() == {"default_model": "openai:o3", "recent_models": ["openai:o3"]}
    os.chmod(home.config, 0o640)
    async with lsp_session(home) as s:
        await s.request("tuna/setModel", {"model": "openai:gpt-4.1"})
    assert stat.S_IMODE(home.config.stat().st_mode) == 0o640


async def test_symlinked_config_is_written_through(home: Home) -> None:
    target = home.root / "dotfiles" / "tunacode.json"
    home.write_config(CONFIG, target)
    home.config.parent.mkdir(parents=True, exist_ok=True)
    home.config.symlink_to(target)
    async with lsp_session(home) as s:
        await s.request("tuna/setModel", {"model": "openai:o3"})
        assert home.config.is_symlink()
        assert json.loads(target.read_text())["default_model"] == "openai:o3"
        n = len(s.changes)
        home.write_config({**CONFIG, "default_model": "openai:gpt-4o"}, target)
        await s.wait_change(lambda c: c["model"] == "openai:gpt-4o", after=n)


async def test_recents_deduplicated_and_capped(home: Home) -> None:
    async with lsp_session(home) as s:
        models = [f"openai:custom-{i}" for i in range(10)]
        for m in models:
            await s.request("tuna/setModel", {"model": m})
        await s.request("tuna/setModel", {"model": "openai:custom-5"})
    recents = home.read_config()["recent_models"]
    assert recents[0] == "openai:custom-5"
    assert len(recents) == 8 and len(set(recents)) == 8
    assert recents[1:] == [
        "openai:custom-9",
        "openai:custom-8",
        "openai:custom-7",
        "openai:custom-6",
        "openai:custom-4",
        "openai:custom-3",
        "openai:custom-2",
    ]


async def test_external_writes_followed_including_torn_in_place_writes(home: Home) -> None:
    home.write_config(CONFIG)
    async with lsp_session(home) as s:
        n = len(s.changes)
        # what tunacode does: open(path, "w") then write, here slowly, in pieces
        text = json.dumps({**CONFIG, "default_model": "openai:o3"}, indent=4)
        with open(home.config, "w") as f:
            for i in range(0, len(text), 40):
                f.write(text[i : i + 40])
                f.flush()
                time.sleep(0.002)
        change = await s.wait_change(lambda c: c["model"] == "openai:o3", after=n)
        assert change["origin"] == "external" and change["configValid"] is True
        assert not any(c["configValid"] is False for c in s.changes[n:])
        assert s.shown == []
        entries = (await s.request("tuna/history", {}))["entries"]
        assert entries[0]["origin"] == "external" and entries[0]["model"] == "openai:o3"


async def test_external_invalid_keeps_last_good_state_and_warns_once(home: Home) -> None:
    home.write_config(CONFIG)
    async with lsp_session(home) as s:
        n = len(s.changes)
        home.config.write_text('{"default_model": "openai:o3", oops')
        bad = await s.wait_change(lambda c: not c["configValid"], after=n)
        assert bad["model"] == "openai:gpt-4.1"
        assert any("invalid" in w for w in bad["warnings"])
        await wait_until(lambda: s.shown, what="a showMessage warning")
        home.config.write_text('{"default_model": "openai:o3", still oops')
        await wait_until(lambda: (home.config.stat(), True), what="second bad write")
        home.write_config({**CONFIG, "default_model": "openai:o3"})
        good = await s.wait_change(lambda c: c["model"] == "openai:o3", after=n)
        assert good["configValid"] is True and not any(
            "config file is invalid" in w for w in good["warnings"]
        )
        assert [m for m in s.shown if m[0] == 2] == [s.shown[0]], "warned once"
        assert s.shown[0][0] == 2 and str(home.config) in s.shown[0][1]
        assert home.read_config()["default_model"] == "openai:o3"


async def test_config_path_overrides(home: Home, tmp_path: Path) -> None:
    by_env = tmp_path / "env" / "t.json"
    by_init = tmp_path / "init" / "t.json"
    async with lsp_session(home, env=home.env(TUNACODE_CONFIG=str(by_env))) as s:
        assert s.changes[0]["configPath"] == str(by_env)
        await s.request("tuna/setModel", {"model": "openai:o3"})
    async with lsp_session(
        home, env=home.env(TUNACODE_CONFIG=str(by_env)), init_options={"configPath": str(by_init)}
    ) as s:
        assert s.changes[0]["configPath"] == str(by_init)
        await s.request("tuna/setModel", {"model": "openai:gpt-4o"})
    assert json.loads(by_env.read_text())["default_model"] == "openai:o3"
    assert json.loads(by_init.read_text())["default_model"] == "openai:gpt-4o"
    assert not home.config.exists()


async def test_history_newest_first_with_limit(home: Home) -> None:
    async with lsp_session(home) as s:
        for m in ("openai:o3", "openai:gpt-4o", "openai:gpt-4.1"):
            await s.request("tuna/setModel", {"model": m})
        await s.request("tuna/setModel", {"model": "openai:o3", "scope": "session"})
        entries = (await s.request("tuna/history", {"limit": 3}))["entries"]
        assert [e["model"] for e in entries] == ["openai:o3", "openai:gpt-4.1", "openai:gpt-4o"]
        assert entries[0]["scope"] == "session"
        assert set(entries[0]) == {"ts", "previous", "model", "scope", "origin", "client"}
        with pytest.raises(JsonRpcInvalidParams):
            await s.request("tuna/history", {"limit": 0})


async def test_stats(home: Home) -> None:
    async with lsp_session(home) as s:
        await s.request("tuna/setModel", {"model": "openai:o3"})
        await s.request("tuna/setModel", {"model": "openai:o3"})
        stats = await s.request("tuna/stats", {})
        assert stats["saves"] == 1 and stats["unchangedSets"] == 1
        assert stats["saveLatencyMs"]["count"] == 1 and stats["saveLatencyMs"]["p50"] > 0


def test_command_line(home: Home, tmp_path: Path) -> None:
    out = subprocess.run([*SERVER_CMD, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("tuna-lsp ")
    bad = subprocess.run([*SERVER_CMD, "--log-level", "LOUD"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    # exit without shutdown: exit code 1, nothing but protocol on stdout
    msg = b'{"jsonrpc":"2.0","method":"exit"}'
    proc = subprocess.run(
        [*SERVER_CMD, "--log-file", str(tmp_path / "s.log")],
        input=b"Content-Length: %d\r\n\r\n%s" % (len(msg), msg),
        capture_output=True,
        env=home.env(),
        timeout=20,
    )
    assert proc.returncode == 1 and proc.stdout == b""
    assert (tmp_path / "s.log").exists()


def test_debug_log_names_each_message_received(home: Home, tmp_path: Path) -> None:
    """At DEBUG the log says which message came in, as pygls writes it (the VS Code extension's
    tests count a server's starts by its `initialized`)."""

    def frame(msg: dict[str, object]) -> bytes:
        body = json.dumps(msg).encode()
        return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)

    init = {"processId": None, "rootUri": None, "capabilities": {}}
    log = tmp_path / "debug.log"
    proc = subprocess.run(
        [*SERVER_CMD, "--log-level", "DEBUG", "--log-file", str(log)],
        input=frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
        + frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        + frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        + frame({"jsonrpc": "2.0", "method": "exit"}),
        capture_output=True,
        env=home.env(),
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    text = log.read_text()
    assert "Request 'initialize' received" in text
    assert "Notification 'initialized' received" in text
    assert "Request 'shutdown' received" in text


def test_tcp_transport_on_loopback(home: Home, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token_file = tmp_path / "tuna-lsp.token"
    proc = subprocess.Popen(
        [*SERVER_CMD, "--tcp", "--port", str(port), "--token-file", str(token_file)],
        env=home.env(),
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not token_file.exists():  # written once the port listens
            assert time.monotonic() < deadline, "the TCP server never listened"
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.02)
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        conn = socket.create_connection(("127.0.0.1", port), timeout=5)
        with conn:

            def send(msg: dict[str, object]) -> None:
                body = json.dumps(msg).encode()
                conn.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

            def read_until(pred: object) -> dict[str, object]:
                buf = b""
                while True:
                    while b"\r\n\r\n" in buf:
                        head, rest = buf.split(b"\r\n\r\n", 1)
                        length = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
                        if len(rest) < length:
                            break
                        msg, buf = json.loads(rest[:length]), rest[length:]
                        if pred(msg):  # type: ignore[operator]
                            return msg  # type: ignore[no-any-return]
                    chunk = conn.recv(65536)
                    assert chunk, "connection closed"
                    buf += chunk

            options = {"authToken": token}
            send(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {"capabilities": {}, "initializationOptions": options},
                }
            )
            read_until(lambda m: m.get("id") == 1)
            send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
            send(
                {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tuna/setModel",
                    "params": {"model": "openai:o3"},
                }
            )
            reply = read_until(lambda m: m.get("id") == 2)
            assert reply["result"]["model"] == "openai:o3"  # type: ignore[index]
            send({"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
            read_until(lambda m: m.get("id") == 3)
            send({"jsonrpc": "2.0", "method": "exit"})
        assert proc.wait(timeout=10) == 0
        assert not token_file.exists()  # removed at exit
        assert home.read_config()["default_model"] == "openai:o3"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_malformed_messages_get_errors_and_the_server_lives(home: Home) -> None:
    async with lsp_session(home) as s:
        looks_like_rpc = {"model": {"jsonrpc": "2.0", "id": 9, "error": {"code": "x"}}}
        with pytest.raises(JsonRpcInvalidParams):
            await s.request("tuna/setModel", looks_like_rpc)
        with pytest.raises(JsonRpcException) as err:
            await s.request("tuna/noSuchMethod", {})
        assert err.value.code == -32601
        assert (await s.request("tuna/getModel"))["scope"] == "default"


def test_unparsable_request_is_answered_with_its_id(home: Home) -> None:
    """A body that is not JSON gets -32700; when its id is still readable, with that id, so the
    client's request does not hang."""
    broken = b'{"jsonrpc": "2.0", "id": 5, "method": "tuna/getModel", "params": {'
    shutdown = b'{"jsonrpc": "2.0", "id": 6, "method": "shutdown"}'
    exit_ = b'{"jsonrpc": "2.0", "method": "exit"}'
    stdin = b"".join(
        b"Content-Length: %d\r\n\r\n%s" % (len(m), m) for m in (broken, shutdown, exit_)
    )
    proc = subprocess.run(SERVER_CMD, input=stdin, capture_output=True, env=home.env(), timeout=30)
    replies = [
        json.loads(part.split(b"\r\n\r\n", 1)[1])
        for part in proc.stdout.split(b"Content-Length")[1:]
    ]
    error = next(r for r in replies if r.get("id") == 5)
    assert error["error"]["code"] == -32700 and "Parse error" in error["error"]["message"]
    assert any(r.get("id") == 6 and "result" in r for r in replies)
    assert proc.returncode == 0


async def test_invalid_initialization_options_are_reported_and_defaults_used(home: Home) -> None:
    async with lsp_session(home, init_options={"configPath": 42, "catalogAutoRefresh": "yes"}) as s:
        assert s.changes[0]["configPath"] == str(home.config)
        await wait_until(lambda: s.shown, what="a warning about the options")
        level, message = s.shown[0]
        assert level == 2 and "configPath" in message and "catalogAutoRefresh" in message


def test_socket_option_is_private_and_exclusive(home: Home, tmp_path: Path) -> None:
    help_text = subprocess.run(
        [*SERVER_CMD, "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--socket PATH" in help_text and "0600" in help_text
    both = subprocess.run(
        [*SERVER_CMD, "--tcp", "--socket", str(tmp_path / "s.sock")], capture_output=True, text=True
    )
    assert both.returncode == 2 and "not allowed with" in both.stderr
    # something that is not a socket at the path is never replaced
    keep = tmp_path / "notes.json"
    keep.write_text("{}")
    taken = subprocess.run(
        [*SERVER_CMD, "--socket", str(keep)],
        capture_output=True,
        text=True,
        env=home.env(),
        timeout=30,
    )
    assert taken.returncode != 0 and "not a socket" in taken.stderr
    assert keep.read_text() == "{}"
