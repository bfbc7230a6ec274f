"""Text of the config documents: JSON and TOML offsets and the config checks. Works in offsets, never in LSP positions."""
