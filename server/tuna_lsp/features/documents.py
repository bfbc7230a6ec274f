"""The config files as documents: `textDocument/publishDiagnostics`, `textDocument/completion`,
`textDocument/hover` and `textDocument/codeAction` for tunacode.json and preferences.toml,
whatever path they are opened from (the shared config, a symlink to it, any `tunacode.json`).

Other documents are ignored. Unsaved edits are the editor's: while the shared config is open
with unsaved changes, the server refuses to write it (see `unsaved_config`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from .. import wire as conv
from ..core.model_service import env_var_for
from ..core.model_string import PROVIDER_RE, ModelStringError, canonical_id, parse_model
from ..protocol import RequestFailed
from ..server import TunaLanguageServer

if TYPE_CHECKING:  # the config-document code loads when a config document opens
    from ..text.config_schema import ConfigChecker, Finding

log = logging.getLogger(__name__)


def _real(path: Path | str) -> str:
    return os.path.realpath(path)


def doc_kind(ls: TunaLanguageServer, uri: str) -> str | None:
    """ "config", "preferences" or None."""
    path = to_fs_path(uri)
    if not path or ls.service is None:
        return None
    p = Path(path)
    if _real(p) == _real(ls.service.store.path) or p.name == "tunacode.json":
        return "config"
    prefs = ls.service.preferences
    if (prefs is not None and _real(p) == _real(prefs.path)) or (
        p.name == "preferences.toml" and p.parent.name == "tunacode"
    ):
        return "preferences"
    return None


def checker(ls: TunaLanguageServer) -> ConfigChecker:
    from ..text.config_schema import ConfigChecker

    catalog = ls.service.catalog if ls.service else None
    return ConfigChecker(catalog, env_var_for=lambda p: env_var_for(p, catalog))


def findings_for(ls: TunaLanguageServer, kind: str, text: str) -> list[Finding]:
    c = checker(ls)
    return c.check_config(text) if kind == "config" else c.check_preferences(text)


def publish(ls: TunaLanguageServer, uri: str) -> None:
    kind = doc_kind(ls, uri)
    if kind is None:
        return
    doc = ls.workspace.get_text_document(uri)
    text = doc.source
    diags = [conv.diagnostic(text, f) for f in findings_for(ls, kind, text)]
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=diags, version=doc.version)
    )


def republish_all(ls: TunaLanguageServer) -> None:
    """The catalog arrived or changed: the findings that depend on it may differ."""
    for uri in list(ls.workspace.text_documents):
        publish(ls, uri)


def unsaved_config(ls: TunaLanguageServer) -> str | None:
    """The URI of an open, edited-but-unsaved buffer of the shared config, if any: a buffer
    changed since it was opened or saved whose text differs from the file on disk."""
    if ls.service is None or not ls.dirty_uris:
        return None
    target = _real(ls.service.store.path)
    for uri in ls.dirty_uris:
        path = to_fs_path(uri)
        if not path or _real(path) != target:
            continue
        try:
            disk = Path(target).read_text(encoding="utf-8")
        except OSError:
            disk = None
        if ls.workspace.get_text_document(uri).source != disk:
            return uri
    return None


def unsaved_refusal(ls: TunaLanguageServer) -> RequestFailed | None:
    """A global set is refused while the shared config has unsaved edits in the editor."""
    if (uri := unsaved_config(ls)) is None:
        return None
    return RequestFailed(
        dirty_message(ls, uri),
        data={"reason": "unsaved-changes", "path": str(ls.service.store.path)},
    )


def register(server: TunaLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TunaLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.dirty_uris.discard(params.text_document.uri)
        publish(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TunaLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.dirty_uris.add(params.text_document.uri)
        publish(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: TunaLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.dirty_uris.discard(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TunaLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.dirty_uris.discard(params.text_document.uri)
        if doc_kind(ls, params.text_document.uri):
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
            )

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=['"', ":", "/"]),
    )
    async def completion(
        ls: TunaLanguageServer, params: types.CompletionParams
    ) -> types.CompletionList | None:
        from ..text.json_doc import offset_of

        kind = doc_kind(ls, params.text_document.uri)
        if kind is None or ls.service is None:
            return None
        doc = ls.workspace.get_text_document(params.text_document.uri)
        text = doc.source
        offset = offset_of(text, params.position.line, params.position.character)
        catalog = await ls.model_feature.catalog.wait()
        if catalog is None:
            return None
        if kind == "config":
            return await _config_completion(ls, text, offset)
        return _preferences_completion(ls, text, offset)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: TunaLanguageServer, params: types.HoverParams) -> types.Hover | None:
        from ..text.json_doc import offset_of

        kind = doc_kind(ls, params.text_document.uri)
        if kind is None or ls.service is None:
            return None
        text = ls.workspace.get_text_document(params.text_document.uri).source
        offset = offset_of(text, params.position.line, params.position.character)
        tok = _string_token(text, offset, kind)
        if tok is None:
            return None
        start, end, value = tok
        catalog = await ls.model_feature.catalog.wait()
        try:
            ref = parse_model(value)
        except ModelStringError:
            return None
        if ref.provider is None or catalog is None:
            return None
        info = catalog.model(ref.provider, ref.model_id)
        md = conv.model_markdown(
            ref.model,
            info,
            catalog.provider_name(ref.provider),
            env_var_for(ref.provider, catalog),
            ls.service.has_key(ref.provider),
            ref.provider in catalog.providers,
        )
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=md),
            range=conv.span(text, start, end),
        )

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Refactor]
        ),
    )
    def code_action(
        ls: TunaLanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command] | None:
        from ..text.json_doc import offset_of

        kind = doc_kind(ls, params.text_document.uri)
        if kind is None:
            return None
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source
        actions: list[types.CodeAction | types.Command] = []
        for diag in params.context.diagnostics:
            actions += conv.quick_fixes(uri, text, diag)
        if kind == "config":
            offset = offset_of(text, params.range.start.line, params.range.start.character)
            tok = _string_token(text, offset, kind)
            if tok is not None:
                try:
                    ref = parse_model(tok[2])
                except ModelStringError:
                    ref = None
                if ref is not None and ref.provider is not None:
                    actions.append(conv.set_model_action(ref.model))
        return actions


def _string_token(text: str, offset: int, kind: str) -> tuple[int, int, str] | None:
    from ..text.json_doc import context_at, string_at

    """The model string under the cursor: (start, end, value), inside the quotes."""
    if kind == "config":
        tok = string_at(text, offset)
        if tok is None or not tok.closed:
            return None
        ctx = context_at(text, tok.start + 1)
        if ctx.at_key or not ctx.path or ctx.path[0] not in ("default_model", "recent_models"):
            return None
        return tok.start + 1, tok.end - 1, tok.value
    return None


async def _config_completion(
    ls: TunaLanguageServer, text: str, offset: int
) -> types.CompletionList | None:
    from ..text.json_doc import context_at

    ctx = context_at(text, offset)
    if ctx.string_start is None:
        return None
    replace = conv.span(text, ctx.string_start + 1, offset)
    top = ctx.path[0] if ctx.path else None
    if not ctx.at_key and top in ("default_model", "recent_models") and len(ctx.path) <= 2:
        from ..protocol import ListModelsParams

        query = ListModelsParams(ctx.prefix.replace(":", " ") or None, limit=200)
        listing = ls.listing_feature.__class__._to_wire(await ls.listing_feature.search(query))
        items = [conv.model_completion(item, replace, i) for i, item in enumerate(listing["items"])]
        return types.CompletionList(is_incomplete=listing["total"] > len(items), items=items)
    if top == "env" and ctx.at_key and len(ctx.path) == 1 and ls.service and ls.service.catalog:
        catalog = ls.service.catalog
        names: dict[str, list[str]] = {}
        for pid, prov in catalog.providers.items():
            for var in prov.env:
                names.setdefault(var, []).append(pid)
        prefix = ctx.prefix.upper()
        items = [
            conv.env_completion(var, providers, replace)
            for var, providers in sorted(names.items())
            if var.startswith(prefix)
        ]
        return types.CompletionList(is_incomplete=False, items=items[:500])
    return None


def _preferences_completion(
    ls: TunaLanguageServer, text: str, offset: int
) -> types.CompletionList | None:
    catalog = ls.service.catalog if ls.service else None
    if catalog is None:
        return None
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset]
    if before.count('"') % 2 == 0 or "[" not in text[:offset].rsplit("=", 1)[-1]:
        return None  # not inside a string of an array value
    prefix = before.rsplit('"', 1)[-1]
    key = _preferences_key(text, offset)
    serving = [i.provider for i in catalog.serving(canonical_id(key))] if key else []
    replace = conv.span(text, offset - len(prefix), offset)
    ids = serving + sorted(p for p in catalog.providers if p not in serving)
    items = [
        conv.provider_completion(pid, catalog.provider_name(pid), pid in serving, replace, i)
        for i, pid in enumerate(ids)
        if pid.startswith(prefix) and PROVIDER_RE.fullmatch(pid)
    ]
    return types.CompletionList(is_incomplete=False, items=items)


def _preferences_key(text: str, offset: int) -> str | None:
    import re

    lines = text[:offset].splitlines()
    for line in reversed(lines):
        m = re.match(r'^\s*(?:"([^"]+)"|\'([^\']+)\'|([A-Za-z0-9_.-]+))\s*=', line)
        if m:
            return m.group(1) or m.group(2) or m.group(3)
        if re.match(r"^\s*\[", line) and "=" not in line:
            return None
    return None


def dirty_message(ls: TunaLanguageServer, uri: str) -> str:
    path = to_fs_path(uri) or uri
    return (
        f"{path} has unsaved changes in the editor; save or revert them first, then set the "
        "model again. Nothing was changed."
    )
