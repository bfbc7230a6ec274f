"""The bottom layer: pure helpers every other package may use (model strings, JSON kinds). No file,
no process, no import of another tuna_lsp package."""
