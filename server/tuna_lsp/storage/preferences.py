"""The server's own preferences: `preferences.toml` in the user config dir, hand-editable,
server-written.

    [providers]
    # canonical model id = providers in order of preference (routing, PROTOCOL.md section 5)
    "gpt-4.1" = ["openrouter", "openai"]

    [workspaces]
    # workspace folder = its model (the workspace scope, PROTOCOL.md section 3a)
    "/home/u/src/app" = "anthropic:claude-sonnet-4-5"

The user's comments, order and layout survive every write (tomlkit). A file that does not parse,
or whose `[providers]` has the wrong shape, is reported and never overwritten. The file is re-read
when its size or mtime changes, so hand edits apply at once. Must not import lsprotocol.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from ..base.model_string import PROVIDER_RE
from . import platform
from .atomic_file import replace_file, untrusted_link
from .file_lock import LockTimeout, lock_beside, locked
from .quiet_read import read_regular

log = logging.getLogger(__name__)
# A hand-edited file of a few lines; anything this large is not one (and is never held whole).
MAX_PREFERENCES_BYTES = 1024 * 1024
HEADER = (
    "# tuna-lsp preferences. Edit freely; comments and order are kept.\n"
    "# [providers]: canonical model id (the last '/' segment, lowercased) = provider ids, most\n"
    "# preferred first, for a model given without a provider.\n"
    "# [workspaces]: workspace folder (absolute path) = the model for that folder.\n"
)


class PreferencesError(Exception):
    def __init__(self, path: Path, cause: str) -> None:
        self.path = path
        self.cause = cause
        super().__init__(f"{path}: {cause}")


def _check(doc: Any, path: Path) -> None:
    spaces = doc.get("workspaces")
    if spaces is not None and not isinstance(spaces, dict):
        raise PreferencesError(
            path, '[workspaces] must be a table of "folder path" = "provider:model"'
        )
    table = doc.get("providers")
    if table is None:
        return
    if not isinstance(table, dict):
        raise PreferencesError(path, "[providers] must be a table of model id = [provider ids]")
    for key, value in table.items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PreferencesError(
                path, f'providers.{key!r} must be a list of provider id strings, like ["openai"]'
            )


def load_tomlkit() -> ModuleType:
    """tomlkit, on first use, the one place the server imports it (the preferences here, their
    document's diagnostics in text/config_schema.py): tens of ms to import, and a window without
    a preferences.toml never needs it (tests/e2e/test_startup.py)."""
    import tomlkit  # the reason is the docstring's

    return tomlkit


def folder_key(table: Any, folder: str) -> str:
    """The `[workspaces]` key that names `folder`: itself, or, where the file system folds case,
    a key already there that differs from it only in case (one folder, one key)."""
    if folder in table or not platform.folds_case(folder):
        return folder
    folded = folder.casefold()
    return next((str(k) for k in table if str(k).casefold() == folded), folder)


class Preferences:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._table: dict[str, list[str]] = {}
        self._workspaces: dict[str, Any] = {}
        self.error: PreferencesError | None = None

    def _load(self) -> Any:
        try:
            text = read_regular(self.path, MAX_PREFERENCES_BYTES).decode("utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise PreferencesError(self.path, f"cannot read the file ({exc.strerror})") from exc
        except UnicodeDecodeError as exc:
            raise PreferencesError(self.path, f"cannot read the file ({exc})") from exc
        tomlkit = load_tomlkit()

        try:
            doc = tomlkit.parse(text)
        except Exception as exc:  # tomlkit raises several ParseError subclasses
            raise PreferencesError(self.path, f"invalid TOML ({exc})") from exc
        _check(doc, self.path)
        return doc

    def refresh(self) -> None:
        try:
            st = os.stat(self.path)
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if stamp == self._stamp and self._stamp is not None:
            return
        self._stamp = stamp
        try:
            doc = self._load()
        except PreferencesError as exc:
            if self.error is None or self.error.cause != exc.cause:
                log.warning("routing preferences ignored: %s", exc)
            self.error = exc
            self._table = {}
            self._workspaces = {}
            return
        self.error = None
        table = (doc or {}).get("providers") or {}
        self._table = {str(k).lower(): [str(v) for v in vals] for k, vals in table.items()}
        self._workspaces = {str(k): v for k, v in ((doc or {}).get("workspaces") or {}).items()}

    def workspace_model(self, folder: str) -> Any:
        """The raw value remembered for a folder (the caller checks it is a model string)."""
        self.refresh()
        value = self._workspaces.get(folder_key(self._workspaces, folder))
        return str(value) if isinstance(value, str) else value

    def providers_for(self, canonical: str) -> list[str]:
        self.refresh()
        return list(self._table.get(canonical, []))

    def all(self) -> dict[str, list[str]]:
        self.refresh()
        return {k: list(v) for k, v in self._table.items()}

    def set_providers(self, canonical: str, providers: list[str]) -> bool:
        """Write the list for one model; True if the file changed. Raises PreferencesError."""
        tomlkit = load_tomlkit()
        bad = [p for p in providers if not PROVIDER_RE.fullmatch(p)]
        if bad:
            raise PreferencesError(self.path, f"not a provider id: {bad[0]!r}")
        arr = tomlkit.array()
        arr.extend(providers)
        return self._edit("providers", canonical, arr, lambda cur: list(cur) == providers)

    def set_workspace(self, folder: str, model: str | None) -> bool:
        """Remember (or with None, forget) a folder's model; True if the file changed."""
        return self._edit("workspaces", folder, model, lambda cur: cur == model, folder=True)

    def _edit(
        self, table_name: str, key: str, value: Any, same: Any, *, folder: bool = False
    ) -> bool:
        """Set or remove one key of one table under the lock, keeping everything else."""
        tomlkit = load_tomlkit()
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with locked(lock_beside(self.path), timeout=2):
                doc = self._load()
                if doc is None:
                    if value is None:
                        return False
                    doc = tomlkit.parse(HEADER)
                table = doc.get(table_name)
                if table is None:
                    if value is None:
                        return False
                    table = tomlkit.table()
                    doc[table_name] = table
                if folder:
                    key = folder_key(table, key)
                current = table.get(key)
                if value is None:
                    if current is None:
                        return False
                    del table[key]
                else:
                    if current is not None and same(current):
                        return False
                    table[key] = value
                self._write(tomlkit.dumps(doc))
        except LockTimeout as exc:
            raise PreferencesError(self.path, "another writer held the lock for over 2 s") from exc
        except OSError as exc:
            raise PreferencesError(self.path, f"cannot write ({exc.strerror or exc})") from exc
        self._stamp = None
        return True

    def prefer(self, canonical: str, provider: str) -> bool:
        """Put `provider` first for `canonical`, keeping the rest of the order."""
        self.refresh()
        if self.error is not None:
            raise self.error
        current = self._table.get(canonical, [])
        wanted = [provider] + [p for p in current if p != provider]
        if wanted == current:
            return False
        return self.set_providers(canonical, wanted)

    def _write(self, text: str) -> None:
        why = untrusted_link(self.path) if os.path.lexists(self.path) else None
        if why:
            raise PermissionError(errno.EACCES, f"not following the link: {why}")
        target = Path(os.path.realpath(self.path))
        try:
            mode = os.stat(target).st_mode & 0o777
        except FileNotFoundError:
            mode = 0o600
        replace_file(target, text.encode("utf-8"), mode)
