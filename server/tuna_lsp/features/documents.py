"""The config files as documents: `textDocument/publishDiagnostics`, `textDocument/completion`,
`textDocument/hover` and `textDocument/codeAction` (and the `tuna.applyEdit` command its quick
fixes use with clients that take no code action literals) for tunacode.json and
preferences.toml, whatever path they are opened from (the shared config, a symlink to it, any
`tunacode.json`).

The text analysis works in offsets; every position read or sent goes through `DocPositions`, in
the encoding negotiated at `initialize`, and every result takes the forms the client declared.

Other documents are ignored. Unsaved edits are the editor's: while the shared config is open
with unsaved changes, the server refuses to write it (see `unsaved_config`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import to_fs_path

from .. import wire as conv
from ..core.catalog import env_var_for
from ..core.model_string import PROVIDER_RE, ModelStringError, canonical_id, parse_model
from ..protocol import ListModelsParams, RequestFailed
from ..server import TunaLanguageServer
from ..wire import ClientFeatures, DocPositions

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
    return ConfigChecker(catalog)


def findings_for(ls: TunaLanguageServer, kind: str, text: str) -> list[Finding]:
    c = checker(ls)
    return c.check_config(text) if kind == "config" else c.check_preferences(text)


def publish(ls: TunaLanguageServer, uri: str) -> None:
    kind = doc_kind(ls, uri)
    if kind is None:
        return
    doc = ls.workspace.get_text_document(uri)
    pos = DocPositions(doc)
    diags = [conv.diagnostic(pos, f) for f in findings_for(ls, kind, pos.text)]
    declared = ClientFeatures.of(ls.client_capabilities).diagnostic_version
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(
            uri=uri, diagnostics=diags, version=doc.version if declared else None
        )
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
        kind = doc_kind(ls, params.text_document.uri)
        if kind is None or ls.service is None:
            return None
        pos = DocPositions(ls.workspace.get_text_document(params.text_document.uri))
        offset = pos.offset(params.position)
        catalog = await ls.model_feature.catalog.wait()
        if catalog is None:
            return None
        client = ClientFeatures.of(ls.client_capabilities)
        if kind == "config":
            return await _config_completion(ls, pos, offset, client)
        return _preferences_completion(ls, pos, offset, client)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: TunaLanguageServer, params: types.HoverParams) -> types.Hover | None:
        kind = doc_kind(ls, params.text_document.uri)
        if kind is None or ls.service is None:
            return None
        pos = DocPositions(ls.workspace.get_text_document(params.text_document.uri))
        tok = _string_token(pos.text, pos.offset(params.position), kind)
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
        contents = conv.model_hover(
            ref.model,
            info,
            catalog.provider_name(ref.provider),
            env_var_for(ref.provider, catalog),
            ls.service.has_key(ref.provider),
            ref.provider in catalog.providers,
            markdown=ClientFeatures.of(ls.client_capabilities).hover_markdown,
        )
        return types.Hover(contents=contents, range=pos.range(start, end))

    # The options go only to a client that takes code action literals: `wire.fit_capabilities`.
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Refactor]
        ),
    )
    def code_action(
        ls: TunaLanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command] | None:
        kind = doc_kind(ls, params.text_document.uri)
        if kind is None:
            return None
        uri = params.text_document.uri
        doc = ls.workspace.get_text_document(uri)
        pos = DocPositions(doc)
        client = ClientFeatures.of(ls.client_capabilities)
        start, end = pos.offset(params.range.start), pos.offset(params.range.end)
        actions: list[types.CodeAction | types.Command] = []
        # The fixes come from the text as it is now, not from `Diagnostic.data` (clients without
        # `dataSupport` drop it, and a diagnostic may be older than the text).
        for finding in findings_for(ls, kind, pos.text):
            if finding.data and finding.start <= end and start <= finding.end:
                diag = _sent_diagnostic(params.context.diagnostics, conv.diagnostic(pos, finding))
                actions += conv.quick_fixes(uri, doc.version, pos, finding, diag, client)
        if kind == "config":
            tok = _string_token(pos.text, start, kind)
            if tok is not None:
                try:
                    ref = parse_model(tok[2])
                except ModelStringError:
                    ref = None
                if ref is not None and ref.provider is not None:
                    actions.append(conv.set_model_action(ref.model))
        return actions

    @server.command("tuna.applyEdit")
    async def apply_edit(ls: TunaLanguageServer, *args: Any) -> None:
        """A quick fix run as a command: `[{uri, version, edits}]`, from `wire.apply_edit_command`."""
        arg = args[0] if len(args) == 1 and isinstance(args[0], dict) else {}
        uri, version, edits = arg.get("uri"), arg.get("version"), arg.get("edits")
        if not isinstance(uri, str) or not isinstance(edits, list):
            raise JsonRpcInvalidParams(
                "tuna.applyEdit: expected one argument {uri, version, edits}, as a quick fix sends it"
            )
        doc = ls.workspace.text_documents.get(uri)
        if doc is None or doc.version != version:
            raise JsonRpcInvalidParams(
                f"tuna.applyEdit: {uri} changed since the fix was offered; ask for the fix again"
            )
        try:
            text_edits = [
                types.TextEdit(
                    range=types.Range(
                        start=types.Position(**e["range"]["start"]),
                        end=types.Position(**e["range"]["end"]),
                    ),
                    new_text=e["newText"],
                )
                for e in edits
            ]
        except (KeyError, TypeError) as exc:
            raise JsonRpcInvalidParams(
                f"tuna.applyEdit: an edit is not {{range, newText}}: {exc}"
            ) from exc
        result = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=types.WorkspaceEdit(changes={uri: text_edits}))
        )
        if not result.applied:
            raise RequestFailed(
                f"tuna.applyEdit: the editor did not apply the fix to {uri}"
                + (f": {result.failure_reason}" if result.failure_reason else "")
            )


def _sent_diagnostic(sent: Sequence[types.Diagnostic], ours: types.Diagnostic) -> types.Diagnostic:
    """The client's own copy of a diagnostic when it sent one, as the spec would have it."""
    return next((d for d in sent if d.code == ours.code and d.range == ours.range), ours)


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
    ls: TunaLanguageServer, pos: DocPositions, offset: int, client: ClientFeatures
) -> types.CompletionList | None:
    from ..text.json_doc import context_at

    ctx = context_at(pos.text, offset)
    if ctx.string_start is None:
        return None
    replace = pos.range(ctx.string_start + 1, offset)
    top = ctx.path[0] if ctx.path else None
    if not ctx.at_key and top in ("default_model", "recent_models") and len(ctx.path) <= 2:
        query = ListModelsParams(ctx.prefix.replace(":", " ") or None, limit=200)
        listing = ls.listing_feature.__class__._to_wire(await ls.listing_feature.search(query))
        items = [
            conv.model_completion(item, replace, i, client)
            for i, item in enumerate(listing["items"])
        ]
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
    ls: TunaLanguageServer, pos: DocPositions, offset: int, client: ClientFeatures
) -> types.CompletionList | None:
    catalog = ls.service.catalog if ls.service else None
    if catalog is None:
        return None
    text = pos.text
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset]
    if before.count('"') % 2 == 0 or "[" not in text[:offset].rsplit("=", 1)[-1]:
        return None  # not inside a string of an array value
    prefix = before.rsplit('"', 1)[-1]
    key = _preferences_key(text, offset)
    serving = [i.provider for i in catalog.serving(canonical_id(key))] if key else []
    replace = pos.range(offset - len(prefix), offset)
    ids = serving + sorted(p for p in catalog.providers if p not in serving)
    items = [
        conv.provider_completion(
            pid, catalog.provider_name(pid), pid in serving, replace, i, client
        )
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
