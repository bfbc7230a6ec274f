"""Which environment variable holds a provider's API key: tunacode's own rule, written once.
Light on purpose: the first status needs it, the catalog is loaded later."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .catalog import Catalog


def env_var_for(provider: str, catalog: Catalog | None) -> str:
    """As tunacode does: the catalog's first env var, else PROVIDER_API_KEY."""
    if catalog is not None:
        names = catalog.env_vars(provider)
        if names:
            return names[0]
    return f"{provider.upper().replace('-', '_')}_API_KEY"
