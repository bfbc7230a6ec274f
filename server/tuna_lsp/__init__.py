"""tuna-lsp: a language server that picks and shows the model the tunacode CLI uses."""

__version__ = "0.1.0"
