"""Replace a file's content atomically: temp file in the same directory, fsync, rename, and
(optionally) fsync of the directory. Readers see the old file or the new one, never a mix.
Raises OSError; the temp file never outlives a failure.

Also owns the two rules every write through a path follows: a symbolic link is followed only
when nobody else could have planted or redirected it (`untrusted_link`), and a server run as root
leaves a rewritten file with the owner and group it had (root would otherwise take it away).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from . import platform

_MAX_LINKS = 40  # as the kernel's ELOOP limit


def replace_file(target: Path, data: bytes, mode: int, *, fsync_dir: bool = True) -> None:
    owner = _owner_to_keep(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        try:
            if owner is not None:
                platform.set_owner(fd, *owner)
            platform.set_mode(fd, tmp, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            platform.fsync(fd)
        finally:
            os.close(fd)
        platform.replace(tmp, target)
        tmp = ""
        if fsync_dir:
            platform.fsync_dir(target.parent)
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _owner_to_keep(target: Path) -> tuple[int, int] | None:
    """As root: the file's owner and group (a new file: its directory's), so a rewrite never
    hands the user's file to root. Other users cannot give files away, nor need to."""
    if not platform.is_root():
        return None
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = os.stat(target.parent)
    return st.st_uid, st.st_gid


def untrusted_link(path: Path) -> str | None:
    """Why writing through `path` would follow a link someone else controls, or None.

    As OpenSSH's StrictModes: a link is followed only when it, and every directory on the way to
    it and to what it points at, belongs to this user or root and is not writable by group or
    others (a root-owned sticky directory such as /tmp is fine: nobody can replace another's
    entry there). A path without links is not this function's business."""
    path = Path(os.path.abspath(path))
    if os.path.realpath(path) == str(path):
        return None
    euid = platform.euid()
    if euid is None:  # no POSIX owners (Windows): who controls a folder is not in its st_mode
        return None
    trusted = {euid, 0}
    checked: set[Path] = set()
    why = _untrusted_link_on_the_way(path, trusted, checked)
    if why is not None:
        return why
    why = _untrusted_directory(Path(os.path.realpath(path)).parent, trusted, checked)
    return f"{path} leads through a directory others control: {why}" if why else None


def _untrusted_link_on_the_way(path: Path, trusted: set[int], checked: set[Path]) -> str | None:
    """Follows `path`'s links one by one, as the kernel would: why one of them is not to be
    followed (too many, another user's, in a directory others control), or None."""
    todo = [path]
    hops = 0
    while todo:
        cur = todo.pop()
        found = _first_link(cur)
        if found is None:
            continue
        step, st, rest = found
        hops += 1
        if hops > _MAX_LINKS:
            return f"{path} goes through more than {_MAX_LINKS} links"
        if st.st_uid not in trusted:
            return f"the link {step} belongs to another user (uid {st.st_uid})"
        why = _untrusted_directory(Path(os.path.realpath(step.parent)), trusted, checked)
        if why:
            return f"the link {step} is in a directory others control: {why}"
        todo.append(Path(os.path.normpath(step.parent / os.readlink(step) / rest)))
    return None


def _first_link(path: Path) -> tuple[Path, os.stat_result, Path] | None:
    """The first link on `path` from the root (its own lstat, and the rest of the path after
    it), or None: no link up to the end, or up to the first part that does not exist."""
    parts = path.parts
    for i in range(1, len(parts) + 1):
        step = Path(*parts[:i])
        try:
            st = os.lstat(step)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(st.st_mode):
            rest = Path(*parts[i:]) if i < len(parts) else Path()
            return step, st, rest
    return None


def _untrusted_directory(d: Path, trusted: set[int], checked: set[Path]) -> str | None:
    """Why `d` or a directory above it is controlled by others, or None. Each directory is
    looked at once per `untrusted_link` call (`checked`)."""
    for p in (d, *d.parents):
        if p in checked:
            continue
        checked.add(p)
        st = os.stat(p)
        if st.st_uid not in trusted:
            return f"{p} belongs to another user (uid {st.st_uid})"
        sticky_root = st.st_mode & stat.S_ISVTX and st.st_uid == 0
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky_root:
            return f"{p} is writable by other users"
    return None
