"""The listing features: `tuna/listModels` (and the `tuna.listModels` command) and
`tuna/setProviderPreference` (PROTOCOL.md sections 4 and 5).

Take the params typed (structured by `protocol` before a handler is called), ask the catalog
(through `CatalogFeature`) and the model service (through `ModelFeature`), convert the result
with `wire`. Completion in the config documents uses
`search` below, with the domain's `ModelInfo`, not the wire dicts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pygls.exceptions import JsonRpcInvalidParams

from ..base.model_string import ModelStringError
from ..core.model_state import UnknownProvider
from ..protocol import (
    ListModelsParams,
    ListModelsResult,
    RequestFailed,
    SetProviderPreferenceParams,
    SetProviderPreferenceResult,
)
from ..storage.preferences import PreferencesError
from ..wire import listing_to_wire

if TYPE_CHECKING:
    from ..core.catalog import Listing
    from ..server import TunaLanguageServer
    from .catalog import CatalogFeature
    from .model import ModelFeature


class ListingFeature:
    def __init__(
        self, server: TunaLanguageServer, model: ModelFeature, catalog: CatalogFeature
    ) -> None:
        self.server = server
        self.model = model
        self.catalog = catalog

    def register(self) -> None:
        self.server.handle("tuna/listModels", self.list_models)
        self.server.handle_command("tuna.listModels", self.list_models_command)
        self.server.handle("tuna/setProviderPreference", self.set_provider_preference)

    async def search(self, params: ListModelsParams) -> Listing:
        from ..core.catalog import Listing  # loaded with the catalog, after the first status

        service = self.model.require()
        catalog = await self.catalog.wait()
        current, _ = service.choice()  # (not the whole state: a listing needs only these two)
        recents = service.snapshot.recent_models
        keys: dict[str, bool] = {}
        if catalog is None:
            return Listing([], 0, None, current, recents, keys)

        known = service.catalog_keys()

        def key_status(p: str) -> bool:
            status = known.get(p)
            if status is None:  # a custom provider, not in the catalog
                status = service.has_key(p)
            keys[p] = status
            return status

        items, total = catalog.search(
            params.query,
            keyed=key_status,
            keyed_providers=service.keyed_providers(),
            provider=params.provider,
            limit=params.limit,
            offset=params.offset,
            current=current,
            recents=recents,
        )
        for info in items:
            key_status(info.provider)
        self.catalog.searched()
        return Listing(items, total, catalog, current, recents, keys)

    async def list_models(self, params: ListModelsParams) -> ListModelsResult:
        return listing_to_wire(await self.search(params))

    async def list_models_command(self, params: ListModelsParams) -> ListModelsResult:
        return listing_to_wire(await self.search(params))

    async def set_provider_preference(
        self, params: SetProviderPreferenceParams
    ) -> SetProviderPreferenceResult:
        method = "tuna/setProviderPreference"
        service = self.model.require()
        try:
            canonical = await service.prefer_providers(params.model, params.providers)
        except (ModelStringError, UnknownProvider) as exc:
            raise JsonRpcInvalidParams(f"{method}: {exc}") from exc
        except PreferencesError as exc:
            raise RequestFailed(
                f"Could not save the provider preference: {exc}. Nothing was changed.",
                data={"reason": "invalid-config", "path": str(exc.path)},
            ) from exc
        prefs = service.preferences
        return {"model": canonical, "providers": params.providers, "path": str(prefs.path)}
