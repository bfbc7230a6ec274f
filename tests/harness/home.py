"""An isolated home: every folder the server and tunacode read or write, under a test's tmp_path
(the `home` fixture of tests/conftest.py makes one per test)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECRET_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "GEMINI_API_KEY")


@dataclass
class Home:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / ".config" / "tunacode.json"

    @property
    def history(self) -> Path:
        return self.root / "state" / "tunacode" / "model-history.jsonl"

    @property
    def preferences(self) -> Path:
        return self.root / "xdgconfig" / "tunacode" / "preferences.toml"

    @property
    def cache(self) -> Path:
        return self.root / "cache" / "tunacode"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if k not in SECRET_VARS and k != "TUNACODE_CONFIG"
        }
        env.update(
            HOME=str(self.root),
            # Windows: Path.home() (the server's and tunacode's home) is USERPROFILE, and
            # platformdirs' folders are under APPDATA and LOCALAPPDATA: never a developer's own
            USERPROFILE=str(self.root),
            APPDATA=str(self.root / "appdata"),
            LOCALAPPDATA=str(self.root / "localappdata"),
            XDG_CONFIG_HOME=str(self.root / "xdgconfig"),
            XDG_STATE_HOME=str(self.root / "state"),
            XDG_CACHE_HOME=str(self.root / "cache"),
        )
        env.update(extra)
        return env

    def write_config(self, data: Any, path: Path | None = None) -> Path:
        path = path or self.config
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data if isinstance(data, str) else json.dumps(data, indent=4))
        return path

    def read_config(self, path: Path | None = None) -> Any:
        return json.loads((path or self.config).read_text())
