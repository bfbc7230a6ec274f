"""The real tunacode CLI's Python (tunacode-cli 0.2.3 from PyPI, in its own venv: `make
tunacode-venv`): run code there with HOME pointing at a test's home, or set a model as the CLI
does."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from .home import Home
from .paths import TUNACODE_PY

# A config with keys and settings of its own: what the server writes must keep them all, and
# tunacode must load them back (tests/e2e/test_tunacode_interop.py, test_watch_fallback.py)
FULL_CONFIG: dict[str, Any] = {
    "default_model": "openrouter:openai/gpt-4.1",
    "recent_models": ["openrouter:openai/gpt-4.1"],
    "env": {"OPENAI_API_KEY": "sk-interop-SECRET", "OPENROUTER_API_KEY": ""},
    "settings": {
        "max_retries": 5,
        "max_iterations": 40,
        "request_delay": 0.0,
        "global_request_timeout": 600.0,
        "tool_strict_validation": False,
        "theme": "nord",
        "stream_agent_text": False,
        "max_command_output": 5000,
        "max_tokens": None,
        "ripgrep": {"timeout": 10, "max_results": 100, "enable_metrics": False},
    },
}

# tunacode's own functions making a model the default (tunacode_set puts the model for argv[1])
SET = """
import sys
from types import SimpleNamespace
from tunacode.configuration.user_config import load_config, record_recent_model, set_default_model
cfg = load_config()
record_recent_model(cfg, sys.argv[1])
set_default_model(sys.argv[1], SimpleNamespace(session=SimpleNamespace(user_config=cfg)))
"""


def run_tunacode(home: Home, code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run Python inside the real tunacode CLI's virtualenv, with HOME pointing at `home`."""
    if not TUNACODE_PY.exists():
        pytest.fail(f"the tunacode CLI venv is missing at {TUNACODE_PY}: run `make tunacode-venv`")
    return subprocess.run(
        [str(TUNACODE_PY), "-c", code],
        env=home.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def tunacode_set(home: Home, model: str) -> None:
    """`model` made the default as the CLI makes it: its config saved, its recents updated."""
    run_tunacode(home, SET.replace("sys.argv[1]", repr(model)))
