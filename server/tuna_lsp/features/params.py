"""Shared by the feature modules: reading JSON params, and the JSON-RPC errors of PROTOCOL.md."""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from ..core.model_service import ModelService
from ..server import TunaLanguageServer
from ..storage.config_store import ConfigError

REQUEST_FAILED = -32803
SERVER_NOT_INITIALIZED = -32002


class RequestFailed(JsonRpcException):
    CODE = REQUEST_FAILED


def config_failure(exc: ConfigError) -> RequestFailed:
    return RequestFailed(
        f"Could not change the model: {exc.path}: {exc.cause}. Nothing was changed.",
        data={"reason": exc.reason, "path": str(exc.path)},
    )


def params_object(params: Any, method: str) -> dict[str, Any]:
    """Params as a dict; null and [] (Neovim's empty table) mean no params."""
    if params is None or params == []:
        return {}
    if isinstance(params, dict):
        return params
    raise JsonRpcInvalidParams(
        f"{method}: params must be an object, got {_kind(params)}; expected {{...}} (see PROTOCOL.md)"
    )


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def int_param(p: dict[str, Any], key: str, default: int, lo: int, hi: int, method: str) -> int:
    value = p.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise JsonRpcInvalidParams(
            f"{method}: {key} must be an integer; expected {lo} to {hi}, got {value!r:.40}"
        )
    return value


def str_param(p: dict[str, Any], key: str, method: str) -> str | None:
    value = p.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 512:
        raise JsonRpcInvalidParams(
            f"{method}: {key} must be a string; expected at most 512 characters"
        )
    return value


def service_of(ls: TunaLanguageServer) -> ModelService:
    if ls.service is None:
        raise JsonRpcException("the server is not initialized yet", code=SERVER_NOT_INITIALIZED)
    return ls.service
