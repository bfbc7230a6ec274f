"""End-to-end: the config files as documents (diagnostics, completion, hover, code actions),
against the real server, and the schema rules checked against the real tunacode CLI's loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Home, Session, lsp_session, run_tunacode, wait_until
from lsprotocol import types
from pygls.exceptions import JsonRpcException

GOOD = {
    "default_model": "openai:gpt-4.1",
    "recent_models": ["openai:gpt-4.1", "anthropic:claude-sonnet-4-20250514"],
    "env": {"OPENAI_API_KEY": "sk-doc-SECRET"},
    "settings": {"theme": "dracula", "max_retries": 3, "ripgrep": {"timeout": 10}},
}


def uri_of(path: Path) -> str:
    return path.resolve().as_uri() if not path.is_symlink() else path.absolute().as_uri()


async def open_doc(s: Session, path: Path, text: str, language: str = "json") -> str:
    uri = path.absolute().as_uri()
    s.client.diagnostics.pop(uri, None)
    s.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )
    return uri


async def change_doc(s: Session, uri: str, text: str, version: int) -> None:
    s.client.diagnostics.pop(uri, None)
    s.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def diagnostics(s: Session, uri: str, pred: Any = None) -> list[types.Diagnostic]:
    def ready() -> Any:
        d = s.client.diagnostics.get(uri)
        return d is not None and (pred is None or pred(d))

    await wait_until(ready, 10, f"diagnostics for {uri}")
    return list(s.client.diagnostics[uri])


def codes(diags: list[types.Diagnostic]) -> list[str]:
    return [str(d.code) for d in diags]


def text_at(text: str, rng: types.Range) -> str:
    lines = text.splitlines(keepends=True)
    start = sum(len(x) for x in lines[: rng.start.line]) + rng.start.character
    end = sum(len(x) for x in lines[: rng.end.line]) + rng.end.character
    return text[start:end]


async def wait_catalog(s: Session) -> None:
    await s.wait_catalog()


async def test_diagnostics_for_each_rule(home: Home) -> None:
    text = json.dumps(
        {
            "default_model": "opnai:gpt-4.1",
            "recent_models": ["openai:gpt-4.1", "openai:gpt-4.1", "openai:gpt-4.1-nanoo", 7],
            "env": {"OPENAI_API_KEY": 12},
            "settings": {"max_retries": "3", "ripgrep": {"enable_metrics": 1}, "max_tokens": None},
            "hooks": {"pre": []},
        },
        indent=4,
    )
    async with lsp_session(home) as s:
        await wait_catalog(s)
        uri = await open_doc(s, home.config, text)
        diags = await diagnostics(s, uri)
        by_code: dict[str, list[types.Diagnostic]] = {}
        for d in diags:
            by_code.setdefault(str(d.code), []).append(d)
        unknown = by_code["unknown-provider"][0]
        assert unknown.severity == types.DiagnosticSeverity.Error
        assert text_at(text, unknown.range) == "opnai"
        assert "did you mean 'openai'" in unknown.message
        dup = by_code["duplicate-recent"][0]
        assert (
            dup.severity == types.DiagnosticSeverity.Warning
            and "already recent_models[0]" in dup.message
        )
        model = by_code["unknown-model"][0]
        assert (
            text_at(text, model.range) == "openai:gpt-4.1-nanoo" and "gpt-4.1-nano" in model.message
        )
        schema = sorted(d.message.split(" must ")[0] for d in by_code["schema"])
        assert schema == [
            "env.OPENAI_API_KEY",
            "recent_models[3]",
            "settings.max_retries",
            "settings.ripgrep.enable_metrics",
        ]
        assert all("tunacode 0.2.3 refuses to start" in d.message for d in by_code["schema"])
        assert text_at(text, by_code["schema"][0].range) in ('"3"', "12", "1", "7")
        assert by_code["dropped-by-cli"][0].severity == types.DiagnosticSeverity.Information
        assert text_at(text, by_code["dropped-by-cli"][0].range) == "hooks"

        # syntax errors at the right place, and fixed again
        broken = '{\n    "default_model": "openai:gpt-4.1",\n    "env": {,}\n}'
        await change_doc(s, uri, broken, 2)
        diags = await diagnostics(s, uri)
        assert codes(diags) == ["syntax"] and diags[0].range.start.line == 2
        await change_doc(s, uri, json.dumps(GOOD, indent=4), 3)
        assert await diagnostics(s, uri) == []


async def test_missing_key_warning_names_the_variable_never_a_value(home: Home) -> None:
    text = json.dumps(
        {
            "default_model": "anthropic:claude-sonnet-4-20250514",
            "env": {"OPENAI_API_KEY": "sk-x-SECRET"},
        }
    )
    async with lsp_session(home) as s:
        await wait_catalog(s)
        uri = await open_doc(s, home.config, text)
        diags = await diagnostics(s, uri)
        missing = [d for d in diags if d.code == "missing-key"]
        assert missing and "ANTHROPIC_API_KEY" in missing[0].message
        assert all("sk-x-SECRET" not in d.message for d in diags)


# Texts the real CLI loads or refuses; the server must flag exactly the refused ones.
CLI_CASES = [
    json.dumps(GOOD),
    "{}",
    '{"default_model": "x"}',
    '{"default_model": ""}',
    '{"default_model": 5}',
    "[]",
    "null",
    "{oops",
    "",
    '{"recent_models": "openai:gpt-4.1"}',
    '{"recent_models": ["a:b", " "]}',
    '{"env": []}',
    '{"env": {"A": null}}',
    '{"env": {"A": "x"}, "custom": {"k": [1, 2]}}',
    '{"settings": null}',
    '{"settings": {"request_delay": 1, "max_tokens": null}}',
    '{"settings": {"request_delay": true}}',
    '{"settings": {"theme": ""}}',
    '{"settings": {"ripgrep": {"timeout": 1.5}}}',
    '{"settings": {"ripgrep": {"max_results": 10, "extra": 1}, "unknown": "x"}}',
    '{"settings": {"tool_strict_validation": "yes"}}',
]

LOADS = """
import sys, json
from tunacode.configuration.user_config import load_config
try:
    load_config()
    print("ok")
except Exception as exc:
    print("refused")
"""


async def test_server_flags_exactly_what_the_cli_refuses(home: Home) -> None:
    verdicts = []
    async with lsp_session(home) as s:
        await wait_catalog(s)
        for i, text in enumerate(CLI_CASES):
            home.write_config(text)
            cli = run_tunacode(home, LOADS).stdout.strip()
            path = home.root / "cases" / f"{i}" / "tunacode.json"
            path.parent.mkdir(parents=True)
            uri = await open_doc(s, path, text)
            diags = await diagnostics(s, uri)
            server = "refused" if {"syntax", "schema"} & set(codes(diags)) else "ok"
            verdicts.append((text, cli, server))
    assert [v for v in verdicts if v[1] != v[2]] == []
    assert sum(v[1] == "refused" for v in verdicts) >= 10


async def test_completion_models_env_and_providers(home: Home) -> None:
    home.write_config(GOOD)
    async with lsp_session(home) as s:
        await wait_catalog(s)
        text = '{\n    "default_model": "claude son'
        uri = await open_doc(s, home.config, text)
        result = await s.client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=1, character=len('    "default_model": "claude son')),
            )
        )
        assert result is not None and result.items
        assert all("claude" in i.label and "son" in i.label for i in result.items[:20])
        assert result.items[0].detail and result.items[0].text_edit is not None

        text2 = '{\n    "recent_models": ["openai:gpt-4.1", "'
        await change_doc(s, uri, text2, 2)
        result = await s.client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=1, character=len(text2.splitlines()[1])),
            )
        )
        labels = [i.label for i in result.items]
        assert labels[:2] == ["openai:gpt-4.1", "anthropic:claude-sonnet-4-20250514"], (
            "current, recents"
        )

        text3 = '{\n    "env": {\n        "ANTH'
        await change_doc(s, uri, text3, 3)
        result = await s.client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=2, character=len('        "ANTH')),
            )
        )
        assert "ANTHROPIC_API_KEY" in [i.label for i in result.items]

        home.preferences.parent.mkdir(parents=True)
        ptext = '[providers]\n"gpt-4.1" = ["op'
        puri = await open_doc(s, home.preferences, ptext, "toml")
        result = await s.client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=puri),
                position=types.Position(line=1, character=len('"gpt-4.1" = ["op')),
            )
        )
        labels = [i.label for i in result.items]
        assert (
            "openai" in labels
            and "openrouter" in labels
            and all(x.startswith("op") for x in labels)
        )


async def test_hover_on_a_model_string(home: Home) -> None:
    home.write_config(GOOD)
    text = json.dumps(GOOD, indent=4)
    async with lsp_session(home) as s:
        uri = await open_doc(s, home.config, text)
        line = next(i for i, x in enumerate(text.splitlines()) if "default_model" in x)
        hover = await s.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(
                    line=line, character=text.splitlines()[line].index("gpt") + 1
                ),
            )
        )
        assert hover is not None
        md = hover.contents.value
        assert "GPT-4.1" in md and "OpenAI" in md and "Context window: 1,047,576" in md
        assert "Price: $2.00 input / $8.00 output" in md and "OPENAI_API_KEY): present" in md
        assert "sk-doc-SECRET" not in md
        assert text_at(text, hover.range) == "openai:gpt-4.1"


async def test_code_actions_set_model_and_quick_fix(home: Home) -> None:
    home.write_config(GOOD)
    text = json.dumps(
        {**GOOD, "recent_models": ["antropic:claude-sonnet-4-20250514", "openai:o3"]}, indent=4
    )
    async with lsp_session(home) as s:
        await wait_catalog(s)
        path = home.root / "elsewhere" / "tunacode.json"
        path.parent.mkdir()
        path.write_text(text)
        uri = await open_doc(s, path, text)
        diags = await diagnostics(s, uri)
        bad = next(d for d in diags if d.code == "unknown-provider")
        actions = await s.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=bad.range,
                context=types.CodeActionContext(diagnostics=[bad]),
            )
        )
        fix = next(a for a in actions if a.kind == types.CodeActionKind.QuickFix)
        assert fix.title == "Change to 'anthropic'"
        edit = fix.edit.changes[uri][0]
        assert edit.new_text == "anthropic" and text_at(text, edit.range) == "antropic"
        line = next(i for i, x in enumerate(text.splitlines()) if "openai:o3" in x)
        col = text.splitlines()[line].index("o3")
        actions = await s.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(
                    start=types.Position(line=line, character=col),
                    end=types.Position(line=line, character=col),
                ),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        action = next(a for a in actions if isinstance(a, types.Command))
        assert action.command == "tuna.setModel" and list(action.arguments) == ["openai:o3"]
        await s.command("tuna.setModel", *action.arguments)
        assert home.read_config()["default_model"] == "openai:o3"


async def test_unsaved_edits_block_writes_until_saved(home: Home) -> None:
    home.write_config(GOOD)
    raw = home.config.read_bytes()
    async with lsp_session(home) as s:
        uri = await open_doc(s, home.config, raw.decode())
        # a clean buffer does not block
        await s.request("tuna/setModel", {"model": "openai:o3"})
        raw = home.config.read_bytes()
        await change_doc(s, uri, raw.decode().replace("dracula", "nord"), 2)
        with pytest.raises(JsonRpcException) as err:
            await s.request("tuna/setModel", {"model": "openai:gpt-4o"})
        assert err.value.code == -32803 and err.value.data["reason"] == "unsaved-changes"
        assert "unsaved changes" in err.value.message and "Nothing was changed" in err.value.message
        assert home.config.read_bytes() == raw
        r = await s.request("tuna/setModel", {"model": "openai:gpt-4o", "scope": "session"})
        assert r["scope"] == "session"
        home.config.write_text(raw.decode().replace("dracula", "nord"))  # the editor saves
        s.client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        r = await s.request("tuna/setModel", {"model": "openai:gpt-4o"})
        assert r["scope"] == "global" and home.read_config()["settings"]["theme"] == "nord"


async def test_preferences_diagnostics(home: Home) -> None:
    home.preferences.parent.mkdir(parents=True)
    text = '# mine\n[providers]\n"gpt-4.1" = ["openai", "opnrouter", "anthropic"]\n"no-such-model-x" = ["openai"]\n'
    async with lsp_session(home) as s:
        await wait_catalog(s)
        uri = await open_doc(s, home.preferences, text, "toml")
        diags = await diagnostics(s, uri)
        by = {str(d.code): d for d in diags}
        assert text_at(text, by["unknown-provider"].range) == "opnrouter"
        assert "did you mean 'openrouter'" in by["unknown-provider"].message
        assert text_at(text, by["not-served"].range) == "anthropic"
        assert text_at(text, by["unknown-model"].range) == "no-such-model-x"
        await change_doc(s, uri, "[providers\n", 2)
        diags = await diagnostics(s, uri)
        assert codes(diags) == ["syntax"] and diags[0].severity == types.DiagnosticSeverity.Error
