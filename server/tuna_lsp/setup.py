"""Builds the server: one place that creates it and registers every feature module."""

from __future__ import annotations

from .server import TunaLanguageServer


def create_server() -> TunaLanguageServer:
    from .features import catalog, documents, model

    server = TunaLanguageServer()
    model.register(server)
    catalog.register(server)
    documents.register(server)
    return server
