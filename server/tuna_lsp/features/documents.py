"""The config files as documents: `textDocument/publishDiagnostics`, `textDocument/completion`,
`textDocument/hover` and `textDocument/codeAction` (and the `tuna.applyEdit` command its quick
fixes use with clients that take no code action literals) for tunacode.json and
preferences.toml, whatever path they are opened from (the shared config, a symlink to it, any
`tunacode.json`).

The text analysis works in offsets; every position read or sent goes through `DocPositions`, in
the encoding negotiated at `initialize`, and every result takes the forms the client declared.

A document's analysis never holds up requests, and costs time linear in its text: a document of
more than `INLINE` characters is analysed in a worker thread, one analysis per document at a
time; edits made meanwhile are analysed once it ends, newest text only, and the diagnostics of a
text that has changed since are dropped. A document shows its first `CAP` findings, and one
diagnostic saying how many more there are. (A one-line tunacode.json of 200 KB held the server
for minutes: its positions were counted along the whole line for each finding.)

Other documents are ignored. Unsaved edits are the editor's: while the shared config is open
with unsaved changes, the server refuses to write it (see `unsaved_config`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import to_fs_path

from .. import wire as conv
from ..base.model_string import PROVIDER_RE, ModelStringError, canonical_id, parse_model
from ..core.keys import env_var_for
from ..events import CATALOG_LOADED, Events
from ..memory import collector_paused
from ..protocol import ApplyEditArgs, ListModelsParams, RequestFailed
from ..wire import ClientFeatures, DocPositions

if TYPE_CHECKING:  # the config-document code loads when a config document opens (`config_text`)
    from pygls.workspace import TextDocument

    from ..core.catalog import Catalog
    from ..server import TunaLanguageServer
    from ..text.config_schema import Finding
    from ..text.config_text import ConfigText
    from .catalog import CatalogFeature
    from .listing import ListingFeature
    from .model import ModelFeature

log = logging.getLogger(__name__)
T = TypeVar("T")

CAP = 200  # findings shown per document; then one diagnostic counts the rest
INLINE = 16_384  # characters: a shorter document is analysed at once, on the server's thread
_RANK = {"error": 0, "warning": 1, "information": 2, "hint": 3}


@dataclass(frozen=True)
class Analysis:
    """One text's findings (the first `CAP`) and the diagnostics they make, with the summary
    of the rest."""

    text: str
    catalog: object
    findings: list[Finding]
    diagnostics: list[types.Diagnostic]


def _real(path: Path | str) -> str:
    return os.path.realpath(path)


class DocumentsFeature:
    def __init__(
        self,
        server: TunaLanguageServer,
        events: Events,
        model: ModelFeature,
        catalog: CatalogFeature,
        listing: ListingFeature,
    ) -> None:
        self.server = server
        self.model = model
        self.catalog = catalog
        self.listing = listing
        self.dirty: set[str] = set()  # open documents edited since their last open or save
        self.analyses: dict[str, Analysis] = {}  # the last one published, by URI
        # by URI: the ticket of the last text (or catalog) to analyse; the worker analysing it
        self._wanted: dict[str, int] = {}
        self._tickets = 0
        self._running: dict[str, asyncio.Task[None]] = {}
        events.subscribe(CATALOG_LOADED, self.on_catalog_loaded)
        model.write_guards.append(self.unsaved_refusal)

    def register(self) -> None:
        s = self.server
        s.handle(types.TEXT_DOCUMENT_DID_OPEN, self.did_open)
        s.handle(types.TEXT_DOCUMENT_DID_CHANGE, self.did_change)
        s.handle(types.TEXT_DOCUMENT_DID_SAVE, self.did_save)
        s.handle(types.TEXT_DOCUMENT_DID_CLOSE, self.did_close)
        s.handle(
            types.TEXT_DOCUMENT_COMPLETION,
            self.completion,
            types.CompletionOptions(trigger_characters=['"', ":", "/"]),
        )
        s.handle(types.TEXT_DOCUMENT_HOVER, self.hover)
        # The options go only to a client that takes code action literals: `wire.fit_capabilities`.
        s.handle(
            types.TEXT_DOCUMENT_CODE_ACTION,
            self.code_action,
            types.CodeActionOptions(
                code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Refactor]
            ),
        )
        s.handle_command("tuna.applyEdit", self.apply_edit)

    @property
    def client(self) -> ClientFeatures:
        return ClientFeatures.of(self.server.client_capabilities)

    @functools.cached_property
    def config_text(self) -> ConfigText:
        """The analysis of the documents' text (text/, and the catalog package it checks against):
        loaded with the first config document, never at start."""
        from ..text.config_text import ConfigText  # with the first document, not at start

        return ConfigText(limit=CAP)

    def doc_kind(self, uri: str) -> str | None:
        """ "config", "preferences" or None."""
        service = self.model.service
        path = to_fs_path(uri)
        if not path or service is None:
            return None
        p = Path(path)
        if _real(p) == _real(service.store.path) or p.name == "tunacode.json":
            return "config"
        if _real(p) == _real(service.preferences.path) or (
            p.name == "preferences.toml" and p.parent.name == "tunacode"
        ):
            return "preferences"
        return None

    def findings(self, kind: str, text: str, catalog: Catalog | None = None) -> list[Finding]:
        """Every finding, the catalog's suggestions for the first `CAP` only (the ones shown)."""
        return self.config_text.findings(kind, text, catalog or self.catalog.current)

    def analyse(self, kind: str, pos: DocPositions, catalog: Catalog | None) -> Analysis:
        """The findings of a text and their diagnostics (at most `CAP`, and one more counting
        the rest): in time linear in the text, on any thread (it reads the text, the catalog,
        and the text's positions, and changes nothing)."""
        found = self.findings(kind, pos.text, catalog)
        shown = found[:CAP]
        diags = [conv.diagnostic(pos, f) for f in shown]
        if rest := found[CAP:]:
            worst = min((f.severity for f in rest), key=_RANK.__getitem__)
            more = dataclasses.replace(
                rest[0], severity=worst, code="more-findings", data={},
                message=f"and {len(rest)} more findings in this file, not shown: the first "
                f"{CAP} are (fix them to see the next)")  # fmt: skip
            diags.append(conv.diagnostic(pos, more))
        return Analysis(pos.text, catalog, shown, diags)

    def publish(self, uri: str) -> None:
        """Analyse the document's text now and send its diagnostics: at once for a short text,
        else in a worker thread (the newest text when it is done)."""
        kind = self.doc_kind(uri)
        if kind is None:
            return
        self._tickets += 1
        self._wanted[uri] = self._tickets
        if uri in self._running:
            return  # the analysis under way starts over with this text when it ends
        doc = self.server.workspace.get_text_document(uri)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if len(doc.source) <= INLINE or loop is None:
            catalog = self.catalog.current
            self._send(uri, doc, self.analyse(kind, DocPositions.of(doc), catalog))
            return
        self._running[uri] = loop.create_task(self._analyse_in_thread(uri, kind))

    async def _analyse_in_thread(self, uri: str, kind: str) -> None:
        try:
            while (wanted := self._wanted.get(uri)) is not None:
                doc = self.server.workspace.text_documents.get(uri)
                if doc is None:
                    return
                catalog = self.catalog.current
                analysis = await _in_thread(self._analyse_doc, kind, doc, catalog)
                if (
                    self._wanted.get(uri) == wanted
                    and self.server.workspace.text_documents.get(uri) is doc
                    and doc.source is analysis.text
                ):
                    self._send(uri, doc, analysis)
                    return
                # the text (or the catalog) changed meanwhile: these diagnostics are stale
        except Exception:
            log.exception("analysing %s failed", uri)
        finally:
            self._running.pop(uri, None)

    def _analyse_doc(self, kind: str, doc: TextDocument, catalog: Catalog | None) -> Analysis:
        with collector_paused():
            return self.analyse(kind, DocPositions.of(doc), catalog)

    def _findings_paused(self, kind: str, text: str, catalog: Catalog | None) -> list[Finding]:
        with collector_paused():
            return self.findings(kind, text, catalog)

    def _send(self, uri: str, doc: TextDocument, analysis: Analysis) -> None:
        self.analyses[uri] = analysis
        declared = self.client.diagnostic_version
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                diagnostics=analysis.diagnostics,
                version=doc.version if declared else None,
            )
        )

    async def current_findings(self, uri: str, kind: str, pos: DocPositions) -> list[Finding]:
        """The findings of the document's text as it is: the published ones when they are of
        this text, else found again (in a worker thread for a long text)."""
        catalog = self.catalog.current
        done = self.analyses.get(uri)
        if done is not None and done.text is pos.text and done.catalog is catalog:
            return done.findings
        if len(pos.text) <= INLINE:
            return self.findings(kind, pos.text, catalog)[:CAP]
        return (await _in_thread(self._findings_paused, kind, pos.text, catalog))[:CAP]

    def on_catalog_loaded(self, catalog: Catalog | None) -> None:
        """The findings that depend on the catalog may differ now."""
        for uri in list(self.server.workspace.text_documents):
            self.publish(uri)

    # ---- unsaved edits ---------------------------------------------------------------------

    def unsaved_config(self) -> str | None:
        """The URI of an open, edited-but-unsaved buffer of the shared config, if any: a buffer
        changed since it was opened or saved whose text differs from the file on disk."""
        service = self.model.service
        if service is None or not self.dirty:
            return None
        target = _real(service.store.path)
        for uri in self.dirty:
            path = to_fs_path(uri)
            if not path or _real(path) != target:
                continue
            # bounded, as every read of the config: a FIFO or a device there never blocks
            raw = service.store.read_once().raw
            try:
                disk = raw.decode("utf-8") if raw is not None else None
            except UnicodeDecodeError:
                disk = None
            if self.server.workspace.get_text_document(uri).source != disk:
                return uri
        return None

    def unsaved_refusal(self) -> RequestFailed | None:
        """A global set is refused while the shared config has unsaved edits in the editor."""
        if (uri := self.unsaved_config()) is None:
            return None
        return RequestFailed(
            dirty_message(uri),
            data={"reason": "unsaved-changes", "path": str(self.model.require().store.path)},
        )

    # ---- synchronization -------------------------------------------------------------------

    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self.dirty.discard(params.text_document.uri)
        self.publish(params.text_document.uri)

    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self.dirty.add(params.text_document.uri)
        self.publish(params.text_document.uri)

    def did_save(self, params: types.DidSaveTextDocumentParams) -> None:
        self.dirty.discard(params.text_document.uri)

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self.dirty.discard(params.text_document.uri)
        self._wanted.pop(params.text_document.uri, None)  # an analysis under way is dropped
        self.analyses.pop(params.text_document.uri, None)
        if self.doc_kind(params.text_document.uri):
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
            )

    # ---- features --------------------------------------------------------------------------

    async def completion(self, params: types.CompletionParams) -> types.CompletionList | None:
        kind = self.doc_kind(params.text_document.uri)
        if kind is None:
            return None
        pos = DocPositions.of(self.server.workspace.get_text_document(params.text_document.uri))
        offset = pos.offset(params.position)
        catalog = await self.catalog.wait()
        if catalog is None:
            return None
        if kind == "config":
            return await self._config_completion(pos, offset, catalog)
        return _preferences_completion(catalog, pos, offset, self.config_text, self.client)

    async def _config_completion(
        self, pos: DocPositions, offset: int, catalog: Catalog
    ) -> types.CompletionList | None:
        ctx = self.config_text.context_at(pos.text, offset)
        if ctx.string_start is None:
            return None
        replace = pos.range(ctx.string_start + 1, offset)
        top = ctx.path[0] if ctx.path else None
        if not ctx.at_key and top in ("default_model", "recent_models") and len(ctx.path) <= 2:
            query = ListModelsParams(ctx.prefix.replace(":", " ") or None, limit=200)
            listing = await self.listing.search(query)
            client = self.client
            items = [
                conv.model_completion(info, listing, replace, i, client)
                for i, info in enumerate(listing.items)
            ]
            return types.CompletionList(is_incomplete=listing.total > len(items), items=items)
        if top == "env" and ctx.at_key and len(ctx.path) == 1:
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

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        kind = self.doc_kind(params.text_document.uri)
        service = self.model.service
        if kind is None or service is None:
            return None
        pos = DocPositions.of(self.server.workspace.get_text_document(params.text_document.uri))
        tok = self.config_text.model_token(pos.text, pos.offset(params.position), kind)
        if tok is None:
            return None
        start, end, value = tok
        catalog = await self.catalog.wait()
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
            service.has_key(ref.provider),
            ref.provider in catalog.providers,
            markdown=self.client.hover_markdown,
        )
        return types.Hover(contents=contents, range=pos.range(start, end))

    async def code_action(
        self, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command] | None:
        uri = params.text_document.uri
        kind = self.doc_kind(uri)
        if kind is None:
            return None
        doc = self.server.workspace.get_text_document(uri)
        pos = DocPositions.of(doc)
        client = self.client
        start, end = pos.offset(params.range.start), pos.offset(params.range.end)
        actions: list[types.CodeAction | types.Command] = []
        # The fixes come from the text as it is now, not from `Diagnostic.data` (clients without
        # `dataSupport` drop it, and a diagnostic may be older than the text).
        for finding in await self.current_findings(uri, kind, pos):
            if finding.data and finding.start <= end and start <= finding.end:
                diag = _sent_diagnostic(params.context.diagnostics, conv.diagnostic(pos, finding))
                actions += conv.quick_fixes(uri, doc.version, pos, finding, diag, client)
        if kind == "config":
            tok = self.config_text.model_token(pos.text, start, kind)
            if tok is not None:
                try:
                    ref = parse_model(tok[2])
                except ModelStringError:
                    ref = None
                if ref is not None and ref.provider is not None:
                    actions.append(conv.set_model_action(ref.model))
        return actions

    async def apply_edit(self, params: ApplyEditArgs) -> None:
        """A quick fix run as a command: `[{uri, version, edits}]`, from `wire.apply_edit_command`
        (structured by protocol.py: a malformed one never gets here)."""
        uri = params.uri
        doc = self.server.workspace.text_documents.get(uri)
        if doc is None or doc.version != params.version:
            raise JsonRpcInvalidParams(
                f"tuna.applyEdit: {uri} changed since the fix was offered; ask for the fix again"
            )
        text_edits = [
            types.TextEdit(
                range=types.Range(
                    start=types.Position(
                        line=e.range.start.line, character=e.range.start.character
                    ),
                    end=types.Position(line=e.range.end.line, character=e.range.end.character),
                ),
                new_text=e.new_text,
            )
            for e in params.edits
        ]
        result = await self.server.workspace_apply_edit_async(
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


def _preferences_completion(
    catalog: Catalog, pos: DocPositions, offset: int, analysis: ConfigText, client: ClientFeatures
) -> types.CompletionList | None:
    text = pos.text
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset]
    if before.count('"') % 2 == 0 or "[" not in text[:offset].rsplit("=", 1)[-1]:
        return None  # not inside a string of an array value
    prefix = before.rsplit('"', 1)[-1]
    key = analysis.preferences_key(text, offset)
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


def dirty_message(uri: str) -> str:
    path = to_fs_path(uri) or uri
    return (
        f"{path} has unsaved changes in the editor; save or revert them first, then set the "
        "model again. Nothing was changed."
    )


def _in_thread(fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """`fn(*args)` in a thread of its own, a daemon (unlike `asyncio.to_thread`'s, which the
    interpreter waits for at exit: an exit would wait for the analysis of a long text)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=run, name="tuna-analysis", daemon=True).start()
    return future
