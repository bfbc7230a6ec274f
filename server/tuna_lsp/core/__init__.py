"""The domain: the model choice and its state, the catalog, routing (over storage). No lsprotocol, no pygls."""
