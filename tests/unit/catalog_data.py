"""A small models.dev-shaped catalog for the unit tests: real shapes, few enough entries to reason
about the order of every result."""

from __future__ import annotations

from typing import Any

from tuna_lsp.core.catalog import Catalog, Source, providers_from_models_dev_json


def _model(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, **extra}


MODELS_DEV: dict[str, Any] = {
    "openai": {
        "id": "openai",
        "name": "OpenAI",
        "env": ["OPENAI_API_KEY"],
        "models": {
            "gpt-4.1": _model(
                "GPT-4.1",
                limit={"context": 1047576, "output": 32768},
                cost={"input": 2, "output": 8.0},
                reasoning=False,
                tool_call=True,
            ),
            "gpt-4.1-mini": _model("GPT-4.1 mini"),
            "o3": _model("o3", reasoning=True),
        },
    },
    "openrouter": {
        "id": "openrouter",
        "name": "OpenRouter",
        "env": ["OPENROUTER_API_KEY"],
        "models": {
            "openai/gpt-4.1": _model("OpenAI: GPT-4.1"),
            "openai/gpt-4.1-mini": _model("OpenAI: GPT-4.1 Mini"),
            "anthropic/claude-sonnet-4": _model("Anthropic: Claude Sonnet 4"),
        },
    },
    "anthropic": {
        "id": "anthropic",
        "name": "Anthropic",
        "env": ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"],
        "models": {"claude-sonnet-4": _model("Claude Sonnet 4")},
    },
    "azure": {
        "id": "azure",
        "name": "Azure",
        "env": ["AZURE_API_KEY"],
        "models": {"gpt-4.1": _model("GPT-4.1")},
    },
    "requesty": {
        "id": "requesty",
        "name": "Requesty",
        "env": [],
        "models": {"openai/gpt-4.1": _model("GPT 4.1"), "bad id": _model("Spaces in the id")},
    },
    "Bad Provider": {"name": "Unlisted", "env": [], "models": {"gpt-4.1": _model("GPT-4.1")}},
}


def small_catalog() -> Catalog:
    return Catalog.from_layers([(providers_from_models_dev_json(MODELS_DEV), Source("test", "1"))])
