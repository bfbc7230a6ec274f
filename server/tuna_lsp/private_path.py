"""Paths other users must not be able to take: a directory that is this user's own and writable
by no one else, and a file written there for this user only (a socket's folder, the TCP token,
the server's cache, state and config directories)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from .storage import platform

_checked: dict[Path, tuple[Path, str | None]] = {}


def private_dir_problem(directory: str | os.PathLike[str]) -> str | None:
    """Why `directory` is not private to this user, or None when it is: it must exist, be a
    directory owned by this user and be writable by no one else (group or others)."""
    try:
        st = os.stat(directory)
    except OSError as exc:
        return f"{os.fspath(directory)} cannot be read ({exc.strerror or exc})"
    if not stat.S_ISDIR(st.st_mode):
        return f"{os.fspath(directory)} is not a directory"
    euid = platform.euid()
    if euid is not None and st.st_uid != euid:
        return f"{os.fspath(directory)} belongs to another user (uid {st.st_uid})"
    if euid is not None and st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        mode = oct(stat.S_IMODE(st.st_mode))
        return f"{os.fspath(directory)} is writable by other users (mode {mode})"
    return None


def write_private(path: str, text: str) -> None:
    """Write `text` to `path`, a file only this user can read (0600), in a private directory;
    refused with a message (SystemExit) otherwise. A link at the path is never followed."""
    problem = private_dir_problem(os.path.dirname(os.path.abspath(path)))
    if problem is not None:
        raise SystemExit(
            f"tuna-lsp: {path}: {problem}; another user could read or replace it. "
            "Choose a directory only you can write."
        )
    try:
        fd = os.open(path, platform.write_flags(os.O_CREAT | os.O_TRUNC), 0o600)
    except OSError as exc:
        raise SystemExit(f"tuna-lsp: cannot write {path}: {exc.strerror or exc}") from None
    try:
        platform.set_mode(fd, path, 0o600)  # a file that was there keeps its mode otherwise
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def trusted_dir(path: Path, what: str) -> tuple[Path, str | None]:
    """`path` (made 0700 if missing) when it is private to this user; else a fresh private
    folder for this server and a message saying why. Checked once per path per process.

    In a shared XDG directory another user could make `tunacode/` first and plant what the
    server reads there (a catalog index, a snapshot, preferences)."""
    if (known := _checked.get(path)) is not None:
        return known
    with contextlib.suppress(OSError):  # the check below says what is wrong
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    problem = private_dir_problem(path)
    result: tuple[Path, str | None] = (path, None)
    if problem is not None:
        fallback = Path(tempfile.mkdtemp(prefix="tuna-lsp-"))
        result = (
            fallback,
            f"not using the {what} directory: {problem}; using {fallback} for this session "
            "(nothing kept there survives it). Make the directory yours and writable only by you.",
        )
    _checked[path] = result
    return result
