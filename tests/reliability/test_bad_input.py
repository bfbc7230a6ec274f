"""Bad input: hypothesis-generated params for every request and command, and hypothesis-generated
bytes in the shared config and in preferences.toml, each through ONE long-lived real server.

Every request is answered, with a result or a documented error (-32602 InvalidParams, -32803
RequestFailed with a documented reason and the path); never -32603 (an internal error with a
traceback) and never silence; the server is alive at the end and logged no internal error. A
malformed config or preferences file is never overwritten, and a valid one keeps its content.

Hypothesis runs in a worker thread and sends each case to the server on the test's event loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.home import Home
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from .harness import (
    SUMMARIES,
    RawServer,
    ServerGone,
    SuiteFigures,
    cli_config,
    figures,
    n,
    rich_config,
    scale,
)

SUITE = "bad-input"
EXAMPLES = scale(100, 2000)
# a malformed config costs a set its settle time (0.25 s of re-reads, PROTOCOL.md 7): fewer cases
CONFIG_EXAMPLES = scale(30, 800)
PREFERENCES_EXAMPLES = scale(50, 1000)
INIT_EXAMPLES = scale(5, 60)  # a new server each: start-up costs about half a second
DOCUMENTED = {-32602, -32803}
REASONS = {"invalid-config", "permission-denied", "lock-timeout", "io-error"}
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def summary(f: SuiteFigures) -> str:
    kinds = (
        ("requestCases", "request/command params"),
        ("initializeCases", "initialize params"),
        ("envelopeCases", "whole messages"),
        ("configCases", "config files"),
        ("preferencesCases", "preferences files"),
    )
    parts = ", ".join(f"{n(f.get(k))} {what}" for k, what in kinds)
    return (
        f"bad-input: {n(f.get('fuzzCases'))} fuzz cases ({parts}), "
        f"{n(f.get('internalErrors'))} internal errors, {n(f.get('unanswered'))} unanswered, "
        f"{n(f.get('malformedOverwritten'))} malformed files overwritten, server alive after each"
    )


SUMMARIES[SUITE] = summary

# ---- strategies ------------------------------------------------------------------------------

SPECIAL = "\x00\x1f\x7f\u0085\u00a0\u200b\u2028\ufeff\U0001f41f:/ \t\n\"'\\{}[]"
chars = st.characters(codec=None) | st.characters(categories=["Cs"]) | st.sampled_from(SPECIAL)
texts = st.text(chars, max_size=40)
big_texts = st.builds(
    lambda c, k: c * k,
    st.sampled_from(["a", "é", "🐟", ":", " ", "\ud800"]),
    st.integers(300, 200_000),
)
numbers = (
    st.integers()
    | st.sampled_from([0, -1, 1, 1000, 1001, 2**31, 2**63, -(2**63) - 1, 10**40])
    | st.floats(allow_nan=True, allow_infinity=True)
)
scalars = st.none() | st.booleans() | numbers | texts
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(texts, inner, max_size=5),
    max_leaves=25,
)
# NaN is not equal to itself: values whose round trip the file tests compare have none
finite_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(texts, inner, max_size=5),
    max_leaves=25,
)


def nested(depth: int) -> Any:
    value: Any = "deep"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


# deep enough to matter, shallow enough for the test's own encoder; the parser's limit is
# tried with raw bodies in test_unparsable_messages_are_answered
deep = st.integers(10, 400).map(nested)
anything = json_values | deep | big_texts
providers = st.sampled_from(
    ["openai", "anthropic", "openrouter", "google", "opnai", "OpenAI", "", "a" * 65]
)
model_ids = (
    st.sampled_from(
        ["gpt-4.1", "gpt-4o", "o3", "openai/gpt-4.1", "claude-sonnet-4-20250514", "x" * 257]
    )
    | texts
)
model_like = (
    st.builds(
        lambda p, sep, m: f"{p}{sep}{m}",
        providers,
        st.sampled_from([":", " : ", "::", ""]),
        model_ids,
    )
    | model_ids
    | big_texts
)
model_or_any = model_like | anything
scopes = st.sampled_from(["global", "session", "default", "Global", "", "forever"]) | anything
ints = numbers | anything


def params_dict(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """The documented keys, each maybe missing, maybe of any type, and maybe extra keys."""
    return st.fixed_dictionaries({}, optional=fields).flatmap(
        lambda d: st.dictionaries(texts, json_values, max_size=3).map(lambda extra: {**extra, **d})
    )


REQUESTS: dict[str, st.SearchStrategy[Any]] = {
    "tuna/getModel": params_dict({}),
    "tuna/setModel": params_dict({"model": model_or_any, "scope": scopes}),
    "tuna/listModels": params_dict(
        {
            "query": texts | big_texts | anything,
            "provider": providers | anything,
            "limit": ints,
            "offset": ints,
        }
    ),
    "tuna/history": params_dict({"limit": ints}),
    "tuna/setProviderPreference": params_dict(
        {"model": model_or_any, "providers": st.lists(providers | texts, max_size=70) | anything}
    ),
    "tuna/stats": params_dict({}),
}
COMMANDS = ["tuna.setModel", "tuna.getModel", "tuna.listModels"]
command_args = st.lists(model_or_any | scopes, max_size=4) | st.lists(
    params_dict({"model": model_or_any, "scope": scopes}), max_size=2
)
calls = st.one_of(
    st.sampled_from(sorted(REQUESTS)).flatmap(
        lambda m: st.tuples(st.just(m), REQUESTS[m] | anything | st.just([]) | st.none())
    ),
    st.tuples(
        st.just("workspace/executeCommand"),
        st.builds(
            lambda c, a: {"command": c, "arguments": a},
            st.sampled_from(COMMANDS) | texts | anything,
            command_args | anything,
        )
        | params_dict(
            {"command": st.sampled_from(COMMANDS) | anything, "arguments": command_args | anything}
        )
        | anything,
    ),
)

# ---- checking one answer ---------------------------------------------------------------------


def check_answer(method: str, params: Any, response: dict[str, Any]) -> str | None:
    if "error" not in response:
        if "result" not in response:
            return f"{method}: neither result nor error: {response!r:.200}"
        return None
    err = response["error"]
    code = err.get("code")
    if code not in DOCUMENTED:
        return f"{method} {json.dumps(params)[:200]}: error {code}: {str(err.get('message'))[:300]}"
    if "Traceback" in str(err.get("message")) or "traceback" in json.dumps(err.get("data")):
        return f"{method}: a traceback in an error: {err!r:.300}"
    if code == -32803:
        data = err.get("data") or {}
        if data.get("reason") not in REASONS or not isinstance(data.get("path"), str):
            return f"{method}: RequestFailed without a documented reason and path: {err!r:.300}"
    return None


class Fuzzer:
    """Sends each hypothesis case (from the worker thread) to the server on the test's loop."""

    def __init__(self, srv: RawServer, loop: asyncio.AbstractEventLoop) -> None:
        self.srv = srv
        self.loop = loop
        self.requests = 0
        self.examples = 0

    def call(self, method: str, params: Any, timeout: float = 30) -> dict[str, Any]:
        self.requests += 1
        future = asyncio.run_coroutine_threadsafe(
            self.srv.call(method, params, timeout=timeout), self.loop
        )
        try:
            return future.result(timeout + 5)
        except TimeoutError:
            figures(SUITE).add(unanswered=1)
            raise AssertionError(
                f"{method} {json.dumps(params)[:300]}: no answer in {timeout} s"
            ) from None
        except ServerGone as exc:
            raise AssertionError(f"the server died on {method} {json.dumps(params)[:300]}") from exc

    def checked(self, method: str, params: Any) -> dict[str, Any]:
        response = self.call(method, params)
        problem = check_answer(method, params, response)
        if problem:
            figures(SUITE).add(internalErrors=1)
            raise AssertionError(problem)
        return response


def assert_healthy(srv: RawServer, fuzzer: Fuzzer) -> None:
    state = fuzzer.checked("tuna/getModel", {})
    assert "result" in state and srv.alive, "the server is not answering"
    # At DEBUG, pygls logs a traceback for every expected error it answers; what must never
    # appear is the server's own record of an internal error, or a handler that blew up.
    log = srv.log_text()
    for bad in ("internal error", "Unable to handle message", "handling a change of"):
        assert bad not in log, f"the server logged {bad!r}:\n{log[log.find(bad) - 200 :][:3000]}"
    assert b'"code": -32603' not in srv.received, "an internal error went out"
    stderr = srv.files["stderr"].read_text(errors="replace")
    assert "Traceback" not in stderr, stderr[-3000:]


async def run_in_thread(body: Callable[[], None]) -> None:
    await asyncio.to_thread(body)


# ---- the suites ------------------------------------------------------------------------------


async def test_fuzzed_params_of_every_request_and_command(rel, home: Home) -> None:
    config = rich_config("openai:gpt-4.1")
    home.write_config(config)
    os.chmod(home.config, 0o600)
    srv = await rel.start(home, "fuzz-requests")
    fuzzer = Fuzzer(srv, asyncio.get_running_loop())

    @HYPOTHESIS
    @given(call=calls)
    @example(call=("tuna/setModel", {"model": "openai:\ud800x"}))  # was written to the config
    @example(call=("tuna/setModel", {"model": "\udfff"}))
    @example(call=("tuna/setProviderPreference", {"model": "\ud800", "providers": ["openai"]}))
    @example(call=("tuna/setProviderPreference", {"model": "a b\n", "providers": ["openai"]}))
    @example(call=("workspace/executeCommand", []))  # went unanswered
    @example(call=("workspace/executeCommand", {"command": "tuna.setModel", "arguments": "x"}))
    @example(call=("tuna/setModel", {"model": {"jsonrpc": "2.0", "id": 1, "result": None}}))
    @example(call=("tuna/listModels", {"limit": float("nan"), "query": "\ud800"}))
    def one(call: tuple[str, Any]) -> None:
        response = fuzzer.checked(*call)
        result = response.get("result")
        try:  # accepted input comes back as text any UTF-8 client can take: no lone surrogates
            json.dumps(result, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise AssertionError(f"{call[0]} accepted text that is not Unicode: {exc}") from None
        if isinstance(result, dict) and result.get("scope") == "global" and "message" in result:
            saved = json.loads(home.config.read_bytes())
            assert saved["default_model"] == result["model"], (saved["default_model"], result)
        fuzzer.examples += 1

    try:
        await run_in_thread(one)
    finally:
        figures(SUITE).add(fuzzCases=fuzzer.examples, requestCases=fuzzer.examples)
    await asyncio.to_thread(assert_healthy, srv, fuzzer)
    # whatever was accepted, the file is whole and nothing else in it changed
    final = home.read_config()
    for key in config:
        if key not in ("default_model", "recent_models"):
            assert final[key] == config[key], key
    if home.preferences.exists():
        tomllib.loads(home.preferences.read_text())
    for line in home.history.read_bytes().splitlines() if home.history.exists() else []:
        json.loads(line)


async def test_unparsable_messages_are_answered(rel, home: Home) -> None:
    """Bodies the JSON parser refuses (nesting too deep, bad UTF-8, cut short): a request with an
    id the server can see gets an error; nothing kills the server."""
    srv = await rel.start(home, "fuzz-bodies")
    bodies = {
        "nested too deep": b'{"jsonrpc":"2.0","id":%d,"method":"tuna/getModel","params":{"a":'
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}}",
        "not UTF-8": b'{"jsonrpc":"2.0","id":%d,"method":"tuna/setModel","params":{"model":"\xff\xfe"}}',
        "cut short": b'{"jsonrpc":"2.0","id":%d,"method":"tuna/getModel",',
        "not JSON": b"id=%d; method=tuna/getModel",
    }
    for what, body in bodies.items():
        msg_id, fut = srv.new_id()
        errors = len(srv.errors)
        await srv.send_body(body.replace(b"%d", str(msg_id).encode(), 1))
        # JSON-RPC answers a body it cannot parse with an error whose id is null
        await srv.wait_for(
            lambda fut=fut, errors=errors: fut.done() or len(srv.errors) > errors,
            15,
            f"an answer to {what}",
        )
        error = fut.result()["error"] if fut.done() else srv.errors[-1]
        srv.pending.pop(msg_id, None)
        assert error["code"] in (-32700, -32600, -32602), (what, error)
        figures(SUITE).add(fuzzCases=1, requestCases=1)
    assert (await srv.request("tuna/getModel"))["model"]


# Whole messages of odd shape: ids of every JSON type, methods that are not strings, responses
# to requests never sent. Not `exit` or `shutdown` (they end the server, as they should), nor
# `tuna/refreshCatalog` (its url param could reach the network).
SAFE_METHODS = [
    *sorted(REQUESTS),
    "workspace/executeCommand",
    "initialize",
    "initialized",
    "$/cancelRequest",
    "textDocument/didOpen",
    "workspace/didChangeConfiguration",
    "tuna/unknownMethod",
]
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "1.0", ""]) | scalars,
        "id": scalars | st.lists(scalars, max_size=2) | st.dictionaries(texts, scalars, max_size=2),
        "method": st.sampled_from(SAFE_METHODS) | scalars,
        "params": anything,
        "result": anything,
        "error": anything | params_dict({"code": numbers, "message": texts}),
    },
)


NEXT_ID = object()  # stands for the id the harness would give its next request


async def test_fuzzed_envelopes(rel, home: Home) -> None:
    """Whatever the shape of a message, the server stays up and keeps answering."""
    home.write_config(rich_config("openai:gpt-4.1"))
    srv = await rel.start(home, "fuzz-envelopes")
    fuzzer = Fuzzer(srv, asyncio.get_running_loop())
    loop = asyncio.get_running_loop()

    @HYPOTHESIS
    @given(msg=envelopes)
    @example(msg={"jsonrpc": "2.0", "id": {"x": 1}, "result": 1})  # ended the server
    @example(msg={"jsonrpc": "2.0", "id": 55, "method": 5})  # was -32603
    # the id the probe would take next: the answer to this was once taken for the probe's
    @example(msg={"jsonrpc": "2.0", "id": NEXT_ID, "method": 5})
    def one(msg: dict[str, Any]) -> None:
        if msg.get("id") is NEXT_ID:
            msg = {**msg, "id": srv._next_id + 1}
        asyncio.run_coroutine_threadsafe(srv.send_foreign(msg), loop).result(30)
        response = fuzzer.call("tuna/getModel", {})
        assert "result" in response, f"not answering after {json.dumps(msg)[:300]}: {response}"
        fuzzer.examples += 1

    try:
        await run_in_thread(one)
    finally:
        figures(SUITE).add(fuzzCases=fuzzer.examples, envelopeCases=fuzzer.examples)
    assert not [e for e in srv.errors if e.get("code") == -32603], srv.errors[-3:]
    await asyncio.to_thread(assert_healthy, srv, fuzzer)


NO_NETWORK = "file:///nonexistent/tuna-catalog.json"  # a refresh must never leave the machine


def safe_options(options: Any) -> Any:
    if isinstance(options, dict) and options.get("catalogAutoRefresh") is True:
        return {**options, "catalogUrl": NO_NETWORK}
    return options


init_options = (
    st.none()
    | st.just([])
    | anything
    | params_dict(
        {
            "configPath": st.sampled_from(["", "  ", "sub/tunacode.json", None, 5, ["x"], {}]),
            "catalogUrl": st.sampled_from([NO_NETWORK, "", "ftp://example.invalid/x", 7, None]),
            "catalogAutoRefresh": st.booleans() | anything,
            "includeTunacodeRegistry": st.booleans() | anything,
        }
    )
).map(safe_options)
init_params = st.fixed_dictionaries(
    {"capabilities": st.just({})},
    optional={
        "processId": st.none() | st.just(os.getpid()) | anything,
        "clientInfo": params_dict(
            {"name": texts | big_texts | anything, "version": texts | anything}
        )
        | anything,
        "initializationOptions": init_options,
    },
)


async def test_fuzzed_initialize(rel, home: Home) -> None:
    """Editors send all sorts of initialize params: a server per case, never an internal error."""
    home.write_config(rich_config("openai:gpt-4.1"))
    loop = asyncio.get_running_loop()
    count = [0]

    def run(coro: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    @settings(HYPOTHESIS, max_examples=INIT_EXAMPLES)
    @given(params=init_params)
    @example(params={"capabilities": {}, "clientInfo": {"name": "\ud800 editor"}})
    def one(params: dict[str, Any]) -> None:
        count[0] += 1
        srv = rel.server(home, f"init{count[0]}")
        try:
            run(srv.spawn())
            init = run(srv.call("initialize", params))
            if "error" in init:
                assert init["error"]["code"] == -32602, init
                return
            run(srv.notify("initialized", {}))
            for method, p in (
                ("tuna/getModel", None),
                ("tuna/setModel", {"model": "openai:o3", "scope": "session"}),
                ("tuna/setModel", {"model": "openai:gpt-4o"}),
                ("tuna/history", {}),
            ):
                response = run(srv.call(method, p))
                problem = check_answer(method, p, response)
                assert problem is None, problem
            assert b'"code": -32603' not in srv.received
            assert "internal error" not in srv.log_text()
        finally:
            run(srv.stop())

    await asyncio.to_thread(one)
    figures(SUITE).add(fuzzCases=count[0], initializeCases=count[0])


# ---- malformed files ---------------------------------------------------------------------------

GOOD = json.dumps(rich_config("openai:gpt-4o"), indent=4).encode()


def _mutate(raw: bytes, data: st.DataObject) -> bytes:
    kind = data.draw(st.sampled_from(["cut", "insert", "replace", "bom"]))
    i = data.draw(st.integers(0, len(raw)))
    if kind == "cut":
        return raw[:i]
    if kind == "insert":
        return raw[:i] + data.draw(st.binary(min_size=1, max_size=8)) + raw[i:]
    if kind == "replace":
        return raw[:i] + data.draw(st.binary(min_size=1, max_size=8)) + raw[i + 8 :]
    return b"\xef\xbb\xbf" + raw


def _retyped(data: st.DataObject) -> bytes:
    doc: Any = rich_config("openai:gpt-4o")
    key = data.draw(st.sampled_from(["default_model", "recent_models", "env", "settings", "<top>"]))
    value = data.draw(finite_values | st.sampled_from([50, 300]).map(nested))
    if key == "<top>":
        doc = value
    else:
        doc[key] = value
    return json.dumps(doc, indent=data.draw(st.sampled_from([None, 4]))).encode()


@st.composite
def config_bytes(draw: Any) -> bytes:
    data = draw(st.data())
    kind = draw(st.sampled_from(["mutated", "retyped", "random", "text", "deep"]))
    if kind == "mutated":
        return _mutate(GOOD, data)
    if kind == "retyped":
        return _retyped(data)
    if kind == "text":
        return draw(texts).encode("utf-8", "surrogatepass")
    if kind == "deep":
        return (
            b'{"default_model": "openai:o3", "settings": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        )
    return draw(st.binary(max_size=2000))


def config_is_valid(raw: bytes) -> bool:
    """The config rules of PROTOCOL.md 1 for what the server relies on, checked independently.
    NaN and Infinity are no JSON (Python's json reads them; the server refuses them)."""

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    try:
        doc = json.loads(raw, parse_constant=no_constant)
    except (ValueError, RecursionError):
        return False
    if not isinstance(doc, dict):
        return False
    dm, rm = doc.get("default_model"), doc.get("recent_models")
    if "default_model" in doc and not (isinstance(dm, str) and dm.strip()):
        return False
    if "recent_models" in doc and not (
        isinstance(rm, list) and all(isinstance(m, str) and m.strip() for m in rm)
    ):
        return False
    return "env" not in doc or isinstance(doc["env"], dict)


def write_atomically(path: Path, raw: bytes) -> None:
    tmp = path.with_name(".fuzz-" + path.name)
    tmp.write_bytes(raw)
    os.replace(tmp, path)


async def test_fuzzed_config_files(rel, home: Home) -> None:
    home.write_config(GOOD.decode())
    os.chmod(home.config, 0o600)
    srv = await rel.start(home, "fuzz-config")
    fuzzer = Fuzzer(srv, asyncio.get_running_loop())
    fig = figures(SUITE)

    @settings(HYPOTHESIS, max_examples=CONFIG_EXAMPLES)
    @given(raw=config_bytes(), session=st.booleans())
    # Infinity: Python's json reads it; the server must refuse the file, not rewrite it
    @example(raw=b'{"default_model": "openai:o3", "env": {"K": Infinity}}', session=False)
    def one(raw: bytes, session: bool) -> None:
        write_atomically(home.config, raw)
        valid = config_is_valid(raw)
        fuzzer.checked("tuna/getModel", None)
        if session:
            r = fuzzer.checked("tuna/setModel", {"model": "openai:o3", "scope": "session"})
            assert "result" in r, r
        r = fuzzer.checked("tuna/setModel", {"model": "openai:gpt-4.1-mini"})
        fuzzer.checked("tuna/listModels", {"query": "gpt", "limit": 3})
        fuzzer.checked("tuna/history", {"limit": 5})
        fuzzer.checked("workspace/executeCommand", {"command": "tuna.getModel", "arguments": []})
        if valid:
            assert "result" in r, f"a valid config was refused: {r}"
            doc, new = json.loads(raw), json.loads(home.config.read_bytes())
            assert new["default_model"] == "openai:gpt-4.1-mini"
            assert {
                k: v for k, v in new.items() if k not in ("default_model", "recent_models")
            } == {k: v for k, v in doc.items() if k not in ("default_model", "recent_models")}
        else:
            after = home.config.read_bytes()
            if after != raw:
                fig.add(malformedOverwritten=1)
            assert after == raw, "a malformed config was overwritten"
            assert r.get("error", {}).get("code") == -32803, r
            assert r["error"]["data"] == {"reason": "invalid-config", "path": str(home.config)}
        fuzzer.examples += 1

    try:
        await run_in_thread(one)
    finally:
        fig.add(fuzzCases=fuzzer.examples, configCases=fuzzer.examples)
    await asyncio.to_thread(assert_healthy, srv, fuzzer)


@st.composite
def preferences_text(draw: Any) -> bytes:
    good = (
        '# my routing\n[providers]\n"gpt-4.1" = ["openrouter", "openai"]  # keep\n'
        '"o3" = ["openai"]\n\n[other]\nx = 1\n'
    )
    data = draw(st.data())
    kind = draw(st.sampled_from(["mutated", "shape", "random", "valid"]))
    if kind == "mutated":
        return _mutate(good.encode(), data)
    if kind == "shape":
        value = draw(st.sampled_from(["5", '"openai"', "[1, 2]", "{a = 1}", "[]", '["openai", 3]']))
        where = draw(st.sampled_from(["providers = %s\n", '[providers]\n"gpt-4.1" = %s\n']))
        return (where % value).encode()
    if kind == "valid":
        keys = draw(st.lists(texts, max_size=4))
        body = "".join(f"{json.dumps(k)} = {json.dumps(['openai'])}\n" for k in keys)
        return ("[providers]\n" + body).encode("utf-8", "surrogatepass")
    return draw(st.binary(max_size=600))


def preferences_valid(raw: bytes) -> bool:
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    table = doc.get("providers", {})
    return isinstance(table, dict) and all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in table.values()
    )


async def test_fuzzed_preferences_files(rel, home: Home) -> None:
    home.write_config(GOOD.decode())
    os.chmod(home.config, 0o600)
    srv = await rel.start(home, "fuzz-preferences")
    fuzzer = Fuzzer(srv, asyncio.get_running_loop())
    fig = figures(SUITE)
    home.preferences.parent.mkdir(parents=True, exist_ok=True)

    @settings(HYPOTHESIS, max_examples=PREFERENCES_EXAMPLES)
    @given(raw=preferences_text(), model=st.sampled_from(["gpt-4.1", "o3", "claude-sonnet-4"]))
    def one(raw: bytes, model: str) -> None:
        write_atomically(home.preferences, raw)
        valid = preferences_valid(raw)
        fuzzer.checked("tuna/setModel", {"model": model, "scope": "session"})
        fuzzer.checked("tuna/setModel", {"model": "openrouter:openai/gpt-4.1"})
        fuzzer.checked("tuna/setModel", {"model": "openai:gpt-4.1"})
        r = fuzzer.checked(
            "tuna/setProviderPreference",
            {"model": "gpt-4.1", "providers": ["openai", "openrouter"]},
        )
        fuzzer.checked("tuna/listModels", {"query": model, "limit": 2})
        fuzzer.checked("tuna/getModel", {})
        after = home.preferences.read_bytes()
        if valid:
            assert "result" in r, f"valid preferences were refused: {r}"
            before = tomllib.loads(raw.decode())
            now = tomllib.loads(after.decode())
            assert now["providers"]["gpt-4.1"] == ["openai", "openrouter"]
            for key, value in before.get("providers", {}).items():
                if key.lower() != "gpt-4.1":
                    assert now["providers"].get(key) == value, f"lost providers.{key!r}"
            assert {k: v for k, v in now.items() if k != "providers"} == {
                k: v for k, v in before.items() if k != "providers"
            }
        else:
            if after != raw:
                fig.add(malformedOverwritten=1)
            assert after == raw, "a malformed preferences.toml was overwritten"
            assert r.get("error", {}).get("code") in (-32803,), r
        fuzzer.examples += 1

    try:
        await run_in_thread(one)
    finally:
        fig.add(fuzzCases=fuzzer.examples, preferencesCases=fuzzer.examples)
    await asyncio.to_thread(assert_healthy, srv, fuzzer)
    # the config is untouched by all of it but our two keys
    final = home.read_config()
    assert final["env"] == rich_config()["env"] and final["settings"] == rich_config()["settings"]


# ---- every message answered: plain cases the long fuzz run found (issue 29) ------------------

IN_FLIGHT_BOUND = 32  # transport.MAX_IN_FLIGHT: the reading pauses at this many requests unanswered


async def test_commands_run_one_after_another_are_all_answered(rel, home: Home) -> None:
    """`workspace/executeCommand` runs an async command handler through pygls's generator; each
    call left one finished future behind, the transport counted them as requests in flight, and
    after 32 commands it stopped reading: every later request went unanswered (the fuzzer's
    `tuna/getModel []: no answer in 30 s`)."""
    home.write_config(rich_config("openai:gpt-4.1"))
    srv = await rel.start(home, "commands-in-a-row")
    for i in range(IN_FLIGHT_BOUND + 8):
        model = ("openai:gpt-4o", "openai:o3")[i % 2]
        reply = await srv.call(
            "workspace/executeCommand",
            {"command": "tuna.setModel", "arguments": [model, "session"]},
            timeout=15,
        )
        assert reply.get("result", {}).get("model") == model, (i, reply)
    for params in ([], None, {}):
        reply = await srv.call("tuna/getModel", params, timeout=15)
        assert reply["result"]["model"] == "openai:o3", reply
    figures(SUITE).add(fuzzCases=IN_FLIGHT_BOUND + 11, requestCases=IN_FLIGHT_BOUND + 11)


async def test_unanswered_requests_of_the_server_do_not_stop_it_reading(rel, home: Home) -> None:
    """A client that never answers the server's own requests (a stale-overwrite question asked
    with window/showMessageRequest) must not hold the server: only the client's requests count
    against the bound of requests in flight."""
    home.write_config(cli_config("openai:gpt-4.1"))
    srv = await rel.start(home, "questions-unanswered")
    srv.answers_requests = False
    await srv.request("tuna/setModel", {"model": "openai:gpt-4o"})
    asked = 0
    for i in range(IN_FLIGHT_BOUND + 4):
        # a running CLI's stale save: puts back a model no longer among the recents
        stale = cli_config("anthropic:claude-sonnet-4-5")
        stale["settings"]["n"] = i  # every save is another write
        write_atomically(home.config, json.dumps(stale, indent=4).encode())
        await srv.wait_for(
            lambda n=asked: len(srv.requests_received("window/showMessageRequest")) > n,
            15,
            "the stale overwrite's question",
        )
        asked += 1
        # the question stays unanswered; the overwrite is undone on request instead
        assert (await srv.request("tuna/restoreOverwrite", {}))["model"] == "openai:gpt-4o"
    reply = await srv.call("tuna/getModel", [], timeout=15)
    assert "result" in reply, reply
    figures(SUITE).add(fuzzCases=asked + 1, requestCases=asked + 1)


async def test_bad_notifications_are_dropped_with_one_warning(rel, home: Home) -> None:
    """Notifications cannot be answered: one to a request method, one with bad params, one to a
    method nobody handles are each dropped with one warning naming the method; the server logs
    no internal error and sends nothing back."""
    home.write_config(rich_config("openai:gpt-4.1"))
    srv = await rel.start(home, "bad-notifications")
    cases = [
        ("tuna/listModels", [1]),
        ("tuna/setModel", {"model": 5}),
        ("tuna/getModel", {"x": 1}),
        ("workspace/executeCommand", {"command": "tuna.setModel", "arguments": [7]}),
        ("workspace/didChangeConfiguration", 5),
        ("textDocument/didOpen", {"textDocument": 5}),
        ("tuna/noSuchNotification", {}),
    ]
    errors_before = len(srv.errors)
    for method, params in cases:
        await srv.notify(method, params)
    assert "result" in await srv.call("tuna/getModel", {}, timeout=15)
    log = srv.log_text()
    assert "internal error" not in log, log[log.find("internal error") - 300 :][:2000]
    assert " ERROR " not in log, log[log.find(" ERROR ") - 300 :][:2000]
    assert len(srv.errors) == errors_before, srv.errors[errors_before:]
    for method, _ in cases:
        warned = [line for line in log.splitlines() if "WARNING" in line and repr(method) in line]
        assert len(warned) == 1, (method, warned)
    figures(SUITE).add(fuzzCases=len(cases), envelopeCases=len(cases))
