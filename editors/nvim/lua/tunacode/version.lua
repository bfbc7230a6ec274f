--- The plugin's version, in one place: the tuna-lsp release :TunaInstall installs (`tuna-lsp==<version>`, from the
--- package index pip is configured with) when the plugin is not in a clone of the tunacode-lsp repository, as when
--- a plugin manager installs the published copy of editors/nvim. Always equal to `__version__` in
--- server/tuna_lsp/__init__.py (tests/e2e/test_nvim_pack.py checks it): a release changes both.
return '0.1.0'
