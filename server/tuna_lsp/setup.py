"""The composition root: builds the server and its features, hands each its dependencies, and
registers their handlers. The one place that knows every feature."""

from __future__ import annotations

from .events import CATALOG_LOADED
from .server import TunaLanguageServer


def create_server() -> TunaLanguageServer:
    from .features import documents
    from .features.catalog import CatalogFeature
    from .features.listing import ListingFeature
    from .features.model import ModelFeature

    server = TunaLanguageServer()
    catalog = CatalogFeature(server, server.events)
    model = ModelFeature(server, server.events, catalog)
    listing = ListingFeature(server, model, catalog)
    for feature in (catalog, model, listing):
        feature.register()
    server.model_feature, server.listing_feature = model, listing
    documents.register(server)
    model.write_guards.append(lambda: documents.unsaved_refusal(server))
    server.events.subscribe(CATALOG_LOADED, lambda _catalog: documents.republish_all(server))
    return server
