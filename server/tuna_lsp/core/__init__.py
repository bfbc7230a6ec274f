"""The domain: model strings, the model choice and its state, the catalog, routing. No lsprotocol, no pygls."""
