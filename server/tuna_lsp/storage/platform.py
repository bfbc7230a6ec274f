"""Every difference between the operating systems the server runs on, in one place.

The rest of the server never tests `sys.platform` nor reaches for a POSIX-only name of `os`: it
asks here. Each probe is a module attribute read when used (`platform.O_NOFOLLOW`, not a copy
taken at import), so a test can force another system's path by setting it.

- open flags: those a system lacks are 0 (Windows has no O_NOFOLLOW, O_CLOEXEC, O_NONBLOCK,
  O_DIRECTORY; only Windows has O_BINARY, without which os.open reads in text mode);
- the durable write: F_FULLFSYNC where the system has it (macOS: fsync does not reach the disk),
  the directory's fsync where a directory can be opened (not Windows);
- `replace`: os.replace, retried for about a second where another process holding the file
  open makes it fail (Windows' sharing violation; pip's `replace` does the same);
- owners and modes: only where they mean something (POSIX); Windows' st_mode says 0o666 of
  every file, which is no statement about other users;
- `pread` where os.pread is missing; the home directory as tunacode computes it (Path.home());
  the C library, when ctypes can name it; the Unix socket's path limit.

Must not import lsprotocol.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

LINUX = sys.platform.startswith("linux")
WINDOWS = os.name == "nt"

# ---- open flags ------------------------------------------------------------------------------

O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
O_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)
O_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)
O_BINARY: int = getattr(os, "O_BINARY", 0)
O_NOATIME: int = getattr(os, "O_NOATIME", 0)  # Linux only


def read_flags(*, nonblock: bool = False) -> int:
    """os.open's flags to read a file: binary, close-on-exec, and (`nonblock`) without waiting
    on a FIFO where the system can say so."""
    return os.O_RDONLY | O_BINARY | O_CLOEXEC | (O_NONBLOCK if nonblock else 0)


def write_flags(extra: int, *, nonblock: bool = False) -> int:
    """os.open's flags to write (`extra`: O_CREAT, O_APPEND, O_TRUNC...): binary,
    close-on-exec, never through a link at the path where the system can refuse one."""
    return os.O_WRONLY | extra | O_BINARY | O_CLOEXEC | O_NOFOLLOW | (O_NONBLOCK if nonblock else 0)


# ---- the durable write -----------------------------------------------------------------------

try:
    import fcntl as _fcntl
except ImportError:  # Windows
    _fcntl = None  # type: ignore[assignment]
F_FULLFSYNC: int | None = getattr(_fcntl, "F_FULLFSYNC", None)  # macOS
# A directory can be opened and fsynced (POSIX); Windows cannot open one with os.open.
DIR_FSYNC = os.name == "posix"


def fsync(fd: int) -> None:
    """Make what was written to `fd` durable: F_FULLFSYNC where the system has it (macOS's
    fsync leaves the data in the drive's cache), else fsync. Raises OSError."""
    if F_FULLFSYNC is not None and _fcntl is not None:
        try:
            _fcntl.fcntl(fd, F_FULLFSYNC)
            return
        except OSError:  # a file system without it (some network ones): fsync is what there is
            pass
    os.fsync(fd)


def fsync_dir(directory: Path | str) -> None:
    """Make a rename in `directory` durable, where a directory can be fsynced. Raises OSError."""
    if not DIR_FSYNC:
        return
    fd = os.open(directory, os.O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    try:
        fsync(fd)
    finally:
        os.close(fd)


# Windows: another process reading the file (every server reads the config after each write)
# makes os.replace fail with a sharing violation (PermissionError, winerror 5 or 32) for the
# moment it holds it. Retried for about a second in all, as pip's `replace` is.
REPLACE_RETRIES = WINDOWS
REPLACE_WAITS_S = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.2, 0.25)  # 0.98 s


def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """os.replace; where a sharing violation is a passing state (Windows), retried for about a
    second before its PermissionError is raised."""
    if not REPLACE_RETRIES:
        os.replace(src, dst)
        return
    for wait in REPLACE_WAITS_S:
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            time.sleep(wait)
    os.replace(src, dst)


# ---- owners and modes ------------------------------------------------------------------------

# Whether st_uid and the group/other mode bits say who else can read or change a file (POSIX).
OWNERS = hasattr(os, "geteuid")


def euid() -> int | None:
    """This process's effective user id; None where files have no POSIX owner (Windows)."""
    return os.geteuid() if OWNERS else None


def is_root() -> bool:
    return OWNERS and os.geteuid() == 0


def set_owner(fd: int, uid: int, gid: int) -> None:
    """fchown, where files have owners. Raises OSError."""
    if OWNERS and hasattr(os, "fchown"):
        os.fchown(fd, uid, gid)


def set_mode(fd: int, path: str | os.PathLike[str], mode: int) -> None:
    """The file's permission bits: fchmod where there is one (Windows has it from 3.13 only),
    else chmod of the path (on Windows only the read-only flag means anything). Raises OSError."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:
        os.chmod(path, mode)


def chown_path(path: str | os.PathLike[str], uid: int, gid: int) -> None:
    """chown of the path itself (never its link's target), where files have owners."""
    if OWNERS and hasattr(os, "chown"):
        os.chown(path, uid, gid, follow_symlinks=False)


# ---- reading ---------------------------------------------------------------------------------


def pread(fd: int, n: int, offset: int) -> bytes:
    """os.pread, or (Windows) a seek and a read of the same descriptor. Raises OSError."""
    if hasattr(os, "pread"):
        return os.pread(fd, n, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, n)


def home() -> Path:
    """The home directory exactly as tunacode finds it (Path.home(): USERPROFILE on Windows,
    where Git Bash and MSYS2 set a HOME of their own), so both use the same files."""
    try:
        return Path.home()
    except RuntimeError:  # 3.12+: no HOME and no password entry (3.11 gave "~" back)
        return Path(os.path.expanduser("~"))


# ---- the C library and sockets ---------------------------------------------------------------


def _ctypes() -> ModuleType | None:
    """ctypes, the one place the server imports it: on first use (the C library's callers, Linux
    mostly), or None where this Python has none."""
    try:
        import ctypes  # here, not at the top: a Python may lack it (ImportError, caught)
    except ImportError:
        return None
    return ctypes


def libc() -> Any | None:
    """The process's C library through ctypes (errno kept), or None where ctypes cannot name it
    (Windows: CDLL(None) raises TypeError) or has no ctypes."""
    ctypes = _ctypes()
    if ctypes is None:
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except (OSError, TypeError):
        return None


def libc_errno() -> int:
    """errno as the last call through `libc()` on this thread left it (ctypes keeps a copy)."""
    ctypes = _ctypes()
    return int(ctypes.get_errno()) if ctypes is not None else 0


def libc_function(name: str) -> Any | None:
    """A function of the C library (malloc_trim, inotify_init1...), or None where it has none."""
    lib = libc()
    return getattr(lib, name, None) if lib is not None else None


# Whether the event loop can read and write the stdio pipes itself. Windows' Proactor loop takes
# stdin as a pipe, then fails its first read ([WinError 6] The handle is invalid): stdin is read
# by a thread there, as pygls's own start_io does.
PIPES_ON_LOOP = not WINDOWS


def loop_takes_pipes(loop: Any) -> bool:
    proactor = getattr(asyncio, "ProactorEventLoop", ())
    return PIPES_ON_LOOP and not isinstance(loop, proactor)


# inotify: Linux's file events. Elsewhere the watch uses watchfiles (or a stat poll).
INOTIFY = LINUX


def unix_sockets() -> bool:
    return hasattr(socket, "AF_UNIX") and not WINDOWS


# The longest path a Unix socket can be bound to, in bytes: sockaddr_un's sun_path is 108 bytes
# on Linux (the path may fill it) and 104 on macOS and the BSDs (with its NUL).
SOCKET_PATH_MAX = 108 if LINUX else 103


def socket_path_problem(path: str) -> str | None:
    """Why a Unix socket cannot be made at `path` on this system, or None."""
    if not unix_sockets():
        return (
            "Unix sockets are not supported on this system; use stdio (the default) or "
            "--tcp with --token-file"
        )
    size = len(os.fsencode(path))  # bound as given: a relative path is not made absolute
    if size > SOCKET_PATH_MAX:
        return (
            f"the path is {size} bytes long, more than the {SOCKET_PATH_MAX} a Unix socket's "
            "path can have here; choose a shorter one (say under /tmp or $XDG_RUNTIME_DIR)"
        )
    return None


# ---- folder keys -----------------------------------------------------------------------------


def folds_case(folder: str) -> bool:
    """True where the file system holding `folder` takes names that differ only in case for one
    (APFS and HFS+ as formatted by default, NTFS): then `/Users/me/Proj` and `/users/me/proj` are
    one workspace and must be one `[workspaces]` key. Probed on the folder's deepest name that has
    letters, not guessed from the system: a Mac may have a case-sensitive volume, Linux a
    case-folding directory."""
    path = Path(folder)
    for probe in (path, *path.parents):
        name = probe.name
        if name.swapcase() != name:
            break
    else:
        return False  # no letters: no other spelling to confuse it with
    try:
        ours, other = os.stat(probe), os.stat(probe.with_name(name.swapcase()))
    except (OSError, ValueError):
        return False
    return (ours.st_dev, ours.st_ino) == (other.st_dev, other.st_ino)
