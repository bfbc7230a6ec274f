"""The composition root: builds the server and its features, hands each its dependencies, and
registers their handlers. The one place that knows every feature."""

from __future__ import annotations

from .features.catalog import CatalogFeature
from .features.documents import DocumentsFeature
from .features.listing import ListingFeature
from .features.model import ModelFeature
from .server import TunaLanguageServer


def create_server() -> TunaLanguageServer:
    server = TunaLanguageServer()
    events = server.events
    catalog = CatalogFeature(server, events)
    model = ModelFeature(server, events, catalog)
    listing = ListingFeature(server, model, catalog)
    documents = DocumentsFeature(server, events, model, catalog, listing)
    for feature in (catalog, model, listing, documents):
        feature.register()
    return server
