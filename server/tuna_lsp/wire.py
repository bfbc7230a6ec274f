"""Domain values to wire values, in one place: camelCase dicts for the tuna/* methods, and
lsprotocol types for the config documents' diagnostics, completions, hovers and actions.

Document results are built from offsets (code points) through `DocPositions`, in the position
encoding the client negotiated, and in the optional forms it declared (`ClientFeatures`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.workspace import TextDocument, Workspace

from .protocol import CostWire, ListModelsResult, ModelInfoWire, ModelStateWire, OverwriteWire
from .text.lines import split_lines
from .text.positions import LineIndex

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

    from .core.catalog import Catalog, Listing, ModelInfo
    from .core.model_state import ModelState
    from .core.overwrite import Overwrite
    from .text.config_schema import Finding


def snake(key: str) -> str:
    """The domain's attribute behind a wire key: `apiKeyEnvVar` is `api_key_env_var`."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def _fields(wire_type: type) -> tuple[tuple[str, str], ...]:
    """A TypedDict's keys, in order, each with the attribute it is read from."""
    return tuple((key, snake(key)) for key in wire_type.__annotations__)


# PROTOCOL.md 3's fields, as protocol.ModelStateWire defines them (the one list in Python)
STATE_FIELDS = _fields(ModelStateWire)
OVERWRITE_FIELDS = _fields(OverwriteWire)


def state_to_wire(state: ModelState) -> ModelStateWire:
    wire: dict[str, Any] = {key: getattr(state, attr) for key, attr in STATE_FIELDS}
    wire["recentModels"] = list(state.recent_models)
    wire["warnings"] = list(state.warnings)
    wire["overwrite"] = overwrite_to_wire(state.overwrite) if state.overwrite else None
    return cast(ModelStateWire, wire)


def overwrite_to_wire(found: Overwrite) -> OverwriteWire:
    wire: dict[str, Any] = {key: getattr(found, attr) for key, attr in OVERWRITE_FIELDS}
    wire["droppedKeys"] = list(found.dropped_keys)
    return cast(OverwriteWire, wire)


def model_info_to_wire(
    info: ModelInfo,
    catalog: Catalog | None,
    *,
    current: str | None,
    recents: list[str],
    key_status: Callable[[str], bool],
) -> ModelInfoWire:
    cost: CostWire | None = None
    if info.cost_input is not None or info.cost_output is not None:
        cost = {"input": info.cost_input, "output": info.cost_output}
    model = info.model
    return {
        "model": model,
        "provider": info.provider,
        "providerName": (catalog.provider_name(info.provider) if catalog else None)
        or info.provider,
        "modelId": info.model_id,
        "name": info.name,
        "contextWindow": info.context_window,
        "outputLimit": info.output_limit,
        "cost": cost,
        "reasoning": info.reasoning,
        "toolCall": info.tool_call,
        "recent": model in recents,
        "current": model == current,
        "apiKey": "present" if key_status(info.provider) else "missing",
        "inCatalog": catalog is not None and info.in_catalog,
    }


def listing_to_wire(listing: Listing) -> ListModelsResult:
    catalog = listing.catalog
    return {
        "items": [
            model_info_to_wire(
                info,
                catalog,
                current=listing.current,
                recents=listing.recents,
                key_status=listing.keys.__getitem__,
            )
            for info in listing.items
        ],
        "total": listing.total,
        "catalog": catalog.describe if catalog else None,
    }


# ---- config documents: findings, completions, hovers and actions as LSP types ---------------

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}
# A client that lists no completion kinds knows the first protocol's, Text (1) to Reference (18).
_FIRST_KINDS = frozenset(range(1, 19))


class ClientFeatures(NamedTuple):
    """The optional forms the client declared at `initialize` (PROTOCOL.md section 8). Every
    document result is built in these forms, and nothing the client did not declare is sent."""

    label_details: bool = False
    is_preferred: bool = False
    hover_markdown: bool = False
    code_action_literals: bool = False
    apply_edit: bool = False
    diagnostic_version: bool = False
    completion_kinds: frozenset[int] = _FIRST_KINDS

    @classmethod
    def of(cls, caps: types.ClientCapabilities | None) -> ClientFeatures:
        if caps is None:
            return cls()
        td = "text_document."
        kinds = get_capability(caps, f"{td}completion.completion_item_kind.value_set")
        return cls(
            label_details=bool(
                get_capability(caps, f"{td}completion.completion_item.label_details_support")
            ),
            is_preferred=bool(get_capability(caps, f"{td}code_action.is_preferred_support")),
            hover_markdown=types.MarkupKind.Markdown
            in (get_capability(caps, f"{td}hover.content_format") or ()),
            code_action_literals=get_capability(
                caps, f"{td}code_action.code_action_literal_support"
            )
            is not None,
            apply_edit=bool(get_capability(caps, "workspace.apply_edit")),
            diagnostic_version=bool(
                get_capability(caps, f"{td}publish_diagnostics.version_support")
            ),
            completion_kinds=frozenset(int(k) for k in kinds) if kinds else _FIRST_KINDS,
        )

    def kind(
        self, wanted: types.CompletionItemKind, fallback: types.CompletionItemKind
    ) -> types.CompletionItemKind:
        return wanted if wanted in self.completion_kinds else fallback


def fit_capabilities(caps: types.ServerCapabilities, client: types.ClientCapabilities) -> None:
    """What the server announces, in the forms the client declared: `CodeActionOptions` only to
    a client that takes code action literals (LSP 3.17), plain `true` to the others."""
    if caps.code_action_provider is not None and not ClientFeatures.of(client).code_action_literals:
        caps.code_action_provider = True


class LspTextDocument(TextDocument):
    """pygls's document, with its lines broken where the client breaks them (text.lines): pygls
    splits with str.splitlines, so a U+2028 in a JSON string put every later position, and every
    incremental edit, a line off. The lines, and the positions of a text (`DocPositions.of`),
    are computed once per text, not once per use."""

    _lines_of: tuple[str, tuple[str, ...]] | None = None
    _positions_of: tuple[str, str, DocPositions] | None = None

    @property
    def lines(self) -> tuple[str, ...]:
        source = self.source
        cached = self._lines_of
        if cached is None or cached[0] is not source:
            cached = self._lines_of = (source, tuple(split_lines(source)))
        return cached[1]

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        """pygls's, on the text's `DocPositions`: pygls counts the units of the line up to each
        end of the range, character by character (1.6 s for a keystroke at the end of a 4 MiB
        line). A range inside the text's lines gives the text pygls gives; any other (past a
        line's end, past the last line, reversed) goes to pygls, whose clamping it keeps."""
        start, end = change.range.start, change.range.end
        pos = DocPositions.of(self)
        lines = pos.index
        if start.line <= end.line < len(lines) and all(
            p.character <= lines.units(p.line, lines.content(p.line)) for p in (start, end)
        ):
            text = self.source
            self._source = text[: pos.offset(start)] + change.text + text[pos.offset(end) :]
            return
        super()._apply_incremental_change(change)


class LspWorkspace(Workspace):
    """pygls's workspace, whose documents are LspTextDocuments."""

    def _create_text_document(
        self,
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        return LspTextDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self.position_codec,
        )


def _encoding(doc: TextDocument) -> str:
    """The document's position encoding, "utf-16" if pygls's codec has none it knows."""
    encoding = doc.position_codec.encoding
    return str(getattr(encoding, "value", encoding) or "utf-16")


class DocPositions:
    """Offsets into a document's text (code points of the Python str, what the text analysis
    works in) to LSP positions and back, in the position encoding negotiated at `initialize`,
    on the lines pygls applies incremental changes with. In time linear in the text, once
    (text.positions): pygls's codec counted the whole line for each position, and a one-line
    config with many findings held the server for minutes."""

    def __init__(self, doc: TextDocument) -> None:
        self.text = doc.source
        self.lines = doc.lines
        self.index = LineIndex(self.text, _encoding(doc), self.lines)

    @classmethod
    def of(cls, doc: TextDocument) -> DocPositions:
        """The positions of the document's current text, computed once per text (version)."""
        if not isinstance(doc, LspTextDocument):
            return cls(doc)
        source, encoding = doc.source, _encoding(doc)
        cached = doc._positions_of
        if cached is None or cached[0] is not source or cached[1] != encoding:
            cached = doc._positions_of = (source, encoding, cls(doc))
        return cached[2]

    def position(self, offset: int) -> types.Position:
        line, character = self.index.position(offset)
        return types.Position(line=line, character=character)

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(end))

    def offset(self, position: types.Position) -> int:
        # Past the line's end means its end (pygls would clamp to one unit before it, in place).
        return self.index.offset(position.line, position.character)


def diagnostic(pos: DocPositions, finding: Finding) -> types.Diagnostic:
    # No `data`: quick fixes are found again from the text (clients without `dataSupport` drop it).
    return types.Diagnostic(
        range=pos.range(finding.start, finding.end),
        message=finding.message,
        severity=_SEVERITY[finding.severity],
        code=finding.code,
        source="tunacode",
    )


def quick_fixes(
    uri: str,
    version: int | None,
    pos: DocPositions,
    finding: Finding,
    diag: types.Diagnostic,
    client: ClientFeatures,
) -> list[types.CodeAction | types.Command]:
    """Replace with each "did you mean" suggestion; remove a duplicate recent. As `CodeAction`
    literals, or to a client without them as `tuna.applyEdit` commands (when it can apply edits)."""
    fixes: list[tuple[str, list[types.TextEdit], bool]] = []  # title, edits, preferred
    for suggestion in finding.data.get("suggestions") or []:
        if isinstance(suggestion, str):
            edit = types.TextEdit(range=diag.range, new_text=suggestion)
            fixes.append((f"Change to {suggestion!r}", [edit], not fixes))
    remove = finding.data.get("remove")
    if isinstance(remove, list) and len(remove) == 2 and all(isinstance(x, int) for x in remove):
        start, end = remove
        text = pos.text
        # take the separating comma and whitespace before the item with it
        cut = text.rfind(",", 0, start)
        cut = cut if cut >= 0 and not text[cut + 1 : start].strip() else start
        edit = types.TextEdit(range=pos.range(cut, end), new_text="")
        fixes.append(("Remove the duplicate recent model", [edit], False))
    out: list[types.CodeAction | types.Command] = []
    for title, edits, preferred in fixes:
        if client.code_action_literals:
            out.append(
                types.CodeAction(
                    title=title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diag],
                    is_preferred=True if preferred and client.is_preferred else None,
                    edit=types.WorkspaceEdit(changes={uri: edits}),
                )
            )
        elif client.apply_edit:
            out.append(apply_edit_command(title, uri, version, edits))
    return out


def apply_edit_command(
    title: str, uri: str, version: int | None, edits: list[types.TextEdit]
) -> types.Command:
    """A quick fix for a client that takes only `Command`s: the server applies the edit with
    `workspace/applyEdit` when the command runs, if the document is still at `version`."""
    wire_edits = [
        {
            "range": {
                "start": {"line": e.range.start.line, "character": e.range.start.character},
                "end": {"line": e.range.end.line, "character": e.range.end.character},
            },
            "newText": e.new_text,
        }
        for e in edits
    ]
    return types.Command(
        title=title,
        command="tuna.applyEdit",
        arguments=[{"uri": uri, "version": version, "edits": wire_edits}],
    )


def set_model_action(model: str) -> types.Command:
    # A bare Command, not a CodeAction carrying one: lsprotocol-based clients read any action
    # with a "command" key as a Command, and every client runs a Command the same way.
    return types.Command(
        title=f"Set {model} as the current tunacode model",
        command="tuna.setModel",
        arguments=[model],
    )


def _money(value: float | None) -> str:
    return "?" if value is None else f"${value:,.2f}"


def model_hover(
    model: str,
    info: ModelInfo | None,
    provider_name: str | None,
    env_var: str,
    key_present: bool,
    provider_known: bool,
    *,
    markdown: bool,
) -> types.MarkupContent:
    """What a model string stands for, in markdown or, to a client without it, plain text."""

    def bold(s: str) -> str:
        return f"**{s}**" if markdown else s

    def code(s: str) -> str:
        return f"`{s}`" if markdown else f"({s})"

    if not provider_known:
        paragraphs = [bold(model), "Unknown provider: not in the model catalog."]
    else:
        paragraphs = [
            f"{bold(info.name if info and info.name else model)} {code(model)}",
            f"Provider: {provider_name or model.split(':')[0]}",
        ]
        if info is None:
            paragraphs.append("Not in the model catalog (a custom or new model).")
        else:
            if info.context_window:
                paragraphs.append(f"Context window: {info.context_window:,} tokens")
            if info.output_limit:
                paragraphs.append(f"Output limit: {info.output_limit:,} tokens")
            if info.cost_input is not None or info.cost_output is not None:
                paragraphs.append(
                    f"Price: {_money(info.cost_input)} input / {_money(info.cost_output)} output per 1M tokens"
                )
        paragraphs.append(f"API key ({env_var}): {'present' if key_present else 'missing'}")
    kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
    return types.MarkupContent(kind=kind, value=("\n\n" if markdown else "\n").join(paragraphs))


def tokens(n: int) -> str:
    """A token count as people say it: 8.19k, 128k, 1M, 1.05M. The rule (tests/data/token_counts.json)
    is the same in VS Code's `formatTokenCount` and Neovim's `format.tokens`: three significant
    digits, rounded half up in integers, so every language gives the same text."""
    if n < 1000:
        return str(n)
    unit, suffix = (1_000_000, "M") if n >= 999_500 else (1000, "k")
    places = 2 if n < 10 * unit else 1 if n < 100 * unit else 0
    scaled = (n * 10**places * 2 + unit) // (2 * unit)  # round half up, in integers
    whole, fraction = divmod(scaled, 10**places)
    text = f"{whole}.{fraction:0{places}d}".rstrip("0").rstrip(".") if places else str(whole)
    return text + suffix


def model_completion(
    info: ModelInfo, listing: Listing, replace: types.Range, rank: int, client: ClientFeatures
) -> types.CompletionItem:
    detail = [
        (listing.catalog.provider_name(info.provider) if listing.catalog else None) or info.provider
    ]
    if info.context_window:
        detail.append(f"{tokens(info.context_window)} context")
    if info.cost_input is not None:
        detail.append(f"${info.cost_input:g}/${info.cost_output or 0:g} per 1M")
    if not listing.keys.get(info.provider, True):
        detail.append("no API key")
    current, recent = info.model == listing.current, info.model in listing.recents
    tag = "current" if current else "recent" if recent else None
    description = tag or info.name or ""
    label_details = None
    if client.label_details:
        label_details = types.CompletionItemLabelDetails(description=description)
    elif description:
        detail.insert(0, description)  # a client without labelDetails shows the detail
    return types.CompletionItem(
        label=info.model,
        kind=types.CompletionItemKind.Value,
        detail=" · ".join(detail),
        label_details=label_details,
        sort_text=f"{rank:05d}",
        filter_text=info.model,
        text_edit=types.TextEdit(range=replace, new_text=info.model),
    )


def env_completion(var: str, providers: list[str], replace: types.Range) -> types.CompletionItem:
    shown = ", ".join(providers[:4]) + (" ..." if len(providers) > 4 else "")
    return types.CompletionItem(
        label=var,
        kind=types.CompletionItemKind.Variable,
        detail=f"API key for {shown}",
        text_edit=types.TextEdit(range=replace, new_text=var),
    )


def provider_completion(
    pid: str,
    name: str | None,
    serves: bool,
    replace: types.Range,
    rank: int,
    client: ClientFeatures,
) -> types.CompletionItem:
    return types.CompletionItem(
        label=pid,
        kind=client.kind(types.CompletionItemKind.EnumMember, types.CompletionItemKind.Value),
        detail=(name or pid) + (" · serves this model" if serves else ""),
        sort_text=f"{0 if serves else 1}{rank:05d}",
        text_edit=types.TextEdit(range=replace, new_text=pid),
    )
