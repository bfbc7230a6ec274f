"""The harness of the suites that run real processes (tests/e2e, tests/reliability): what their
fixtures and tests share, importable as `harness.<module>` (tests/ is on sys.path: pytest puts it
there for tests/conftest.py). The conftest.py files hold only fixtures and hooks built on these.

    paths     where the checkout, the server under test and the tunacode CLI's venv are
    home      an isolated home (HOME, XDG_*, APPDATA...) and the config files in it
    waiting   waiting on a condition with a deadline, never on a sleep
    session   a real `tuna-lsp` driven by a pytest-lsp client, as a real editor's capabilities
    tunacode  the real tunacode CLI's Python: run code in its venv, set a model as it does
    tui       the real tunacode TUI running in tmux
    nvim      headless Neovim: the one runner of the Lua scenarios, and the servers it leaves
    wheels    the server's dependency wheels, fetched once, for offline installs from Neovim
"""
