"""The message loop keeps reading however many notifications come: typing in a config document
sends a didChange per keystroke, and every later request must still be answered."""

from __future__ import annotations

import asyncio

from harness.home import Home
from harness.session import lsp_session
from lsprotocol import types


async def test_requests_are_answered_after_many_did_changes(home: Home) -> None:
    home.write_config({"default_model": "openai:gpt-4.1"})
    uri = home.config.as_uri()
    async with lsp_session(home) as s:
        text = home.config.read_text()
        s.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id="json", version=1, text=text)
            )
        )
        for version in range(2, 102):  # more than the 32 requests the loop lets be in flight
            s.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                )
            )
        state = await asyncio.wait_for(s.request("tuna/getModel", {}), 10)
        assert state["model"] == "openai:gpt-4.1"
