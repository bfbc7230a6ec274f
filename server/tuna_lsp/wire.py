"""Domain values to wire values, in one place: camelCase dicts for the tuna/* methods, and
lsprotocol types for the config documents' diagnostics, completions, hovers and actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .protocol import CostWire, ModelInfoWire, ModelStateWire, OverwriteWire

if TYPE_CHECKING:
    from .core.catalog import Catalog, ModelInfo
    from .core.model_service import ModelState
    from .core.overwrite import Overwrite
    from .text.config_schema import Finding


def state_to_wire(state: ModelState) -> ModelStateWire:
    return {
        "model": state.model,
        "provider": state.provider,
        "modelId": state.model_id,
        "scope": state.scope,
        "workspaceFolder": state.workspace_folder,
        "workspaceModel": state.workspace_model,
        "persistedModel": state.persisted_model,
        "configPath": state.config_path,
        "name": state.name,
        "contextWindow": state.context_window,
        "apiKey": state.api_key,
        "apiKeyEnvVar": state.api_key_env_var,
        "recentModels": list(state.recent_models),
        "warnings": list(state.warnings),
        "origin": state.origin,
        "viaEditor": state.via_editor,
        "overwrite": overwrite_to_wire(state.overwrite) if state.overwrite else None,
        "resolvedFrom": state.resolved_from,
        "configValid": state.config_valid,
        "catalog": state.catalog,
    }


def overwrite_to_wire(found: Overwrite) -> OverwriteWire:
    return {
        "model": found.model,
        "replacedModel": found.replaced_model,
        "droppedKeys": list(found.dropped_keys),
        "at": found.at,
        "resolution": found.resolution,
    }


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
    return {
        "model": info.model,
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
        "recent": info.model in recents,
        "current": info.model == current,
        "apiKey": "present" if key_status(info.provider) else "missing",
        "inCatalog": catalog is not None
        and catalog.model(info.provider, info.model_id) is not None,
    }


# ---- config documents: findings, completions, hovers and actions as LSP types ---------------

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def span(text: str, start: int, end: int) -> types.Range:
    from .text.json_doc import line_col

    sl, sc = line_col(text, start)
    el, ec = line_col(text, end)
    return types.Range(
        start=types.Position(line=sl, character=sc), end=types.Position(line=el, character=ec)
    )


def diagnostic(text: str, finding: Finding) -> types.Diagnostic:
    return types.Diagnostic(
        range=span(text, finding.start, finding.end),
        message=finding.message,
        severity=_SEVERITY[finding.severity],
        code=finding.code,
        source="tunacode",
        data=finding.data or None,
    )


def quick_fixes(uri: str, text: str, diag: types.Diagnostic) -> list[types.CodeAction]:
    """Replace with each "did you mean" suggestion; remove a duplicate recent."""
    data = diag.data if isinstance(diag.data, dict) else {}
    out: list[types.CodeAction] = []
    for suggestion in data.get("suggestions") or []:
        if not isinstance(suggestion, str):
            continue
        out.append(
            types.CodeAction(
                title=f"Change to {suggestion!r}",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diag],
                is_preferred=not out,
                edit=types.WorkspaceEdit(
                    changes={uri: [types.TextEdit(range=diag.range, new_text=suggestion)]}
                ),
            )
        )
    remove = data.get("remove")
    if isinstance(remove, list) and len(remove) == 2 and all(isinstance(x, int) for x in remove):
        start, end = remove
        # take the separating comma and whitespace before the item with it
        cut = text.rfind(",", 0, start)
        cut = cut if cut >= 0 and not text[cut + 1 : start].strip() else start
        out.append(
            types.CodeAction(
                title="Remove the duplicate recent model",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diag],
                edit=types.WorkspaceEdit(
                    changes={uri: [types.TextEdit(range=span(text, cut, end), new_text="")]}
                ),
            )
        )
    return out


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


def model_markdown(
    model: str,
    info: ModelInfo | None,
    provider_name: str | None,
    env_var: str,
    key_present: bool,
    provider_known: bool,
) -> str:
    if not provider_known:
        return f"**{model}**\n\nUnknown provider: not in the model catalog."
    lines = [f"**{info.name if info and info.name else model}** `{model}`", ""]
    lines.append(f"Provider: {provider_name or model.split(':')[0]}")
    if info is None:
        lines.append("\nNot in the model catalog (a custom or new model).")
    else:
        if info.context_window:
            lines.append(f"\nContext window: {info.context_window:,} tokens")
        if info.output_limit:
            lines.append(f"\nOutput limit: {info.output_limit:,} tokens")
        if info.cost_input is not None or info.cost_output is not None:
            lines.append(
                f"\nPrice: {_money(info.cost_input)} input / {_money(info.cost_output)} output per 1M tokens"
            )
    key = "present" if key_present else "missing"
    lines.append(f"\nAPI key ({env_var}): {key}")
    return "\n".join(lines)


def model_completion(item: dict[str, Any], replace: types.Range, rank: int) -> types.CompletionItem:
    detail = [item["providerName"]]
    if item["contextWindow"]:
        detail.append(f"{item['contextWindow'] // 1000}k context")
    if item["cost"] and item["cost"]["input"] is not None:
        detail.append(f"${item['cost']['input']:g}/${item['cost']['output'] or 0:g} per 1M")
    if item["apiKey"] == "missing":
        detail.append("no API key")
    tag = "current" if item["current"] else "recent" if item["recent"] else None
    return types.CompletionItem(
        label=item["model"],
        kind=types.CompletionItemKind.Value,
        detail=" · ".join(detail),
        label_details=types.CompletionItemLabelDetails(description=tag or item["name"] or ""),
        sort_text=f"{rank:05d}",
        filter_text=item["model"],
        text_edit=types.TextEdit(range=replace, new_text=item["model"]),
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
    pid: str, name: str | None, serves: bool, replace: types.Range, rank: int
) -> types.CompletionItem:
    return types.CompletionItem(
        label=pid,
        kind=types.CompletionItemKind.EnumMember,
        detail=(name or pid) + (" · serves this model" if serves else ""),
        sort_text=f"{0 if serves else 1}{rank:05d}",
        text_edit=types.TextEdit(range=replace, new_text=pid),
    )
