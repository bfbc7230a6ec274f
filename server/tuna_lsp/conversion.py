"""Domain values to wire values (camelCase dicts), in one place. Nothing else builds payloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .catalog import Catalog, ModelInfo
from .model_service import ModelState


def state_to_wire(state: ModelState) -> dict[str, Any]:
    return {
        "model": state.model,
        "provider": state.provider,
        "modelId": state.model_id,
        "scope": state.scope,
        "persistedModel": state.persisted_model,
        "configPath": state.config_path,
        "name": state.name,
        "contextWindow": state.context_window,
        "apiKey": state.api_key,
        "apiKeyEnvVar": state.api_key_env_var,
        "recentModels": list(state.recent_models),
        "warnings": list(state.warnings),
        "origin": state.origin,
        "resolvedFrom": state.resolved_from,
        "configValid": state.config_valid,
        "catalog": state.catalog,
    }


def model_info_to_wire(
    info: ModelInfo,
    catalog: Catalog | None,
    *,
    current: str | None,
    recents: list[str],
    key_status: Callable[[str], bool],
) -> dict[str, Any]:
    cost = None
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
