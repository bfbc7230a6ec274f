"""The shared tunacode config file (`~/.config/tunacode.json`): locate, read, and change safely.

Owns PROTOCOL.md sections 1 and 7. It changes `default_model` and `recent_models` and nothing
else: every other key keeps its value and its place. Writes happen under an advisory lock, from a
fresh read, through a temp file that is fsynced and renamed over the target (through a symlink to
its target), then the directory is fsynced. A file that does not parse is never overwritten.

This module must not import lsprotocol or pygls, and never logs a value from the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import stat
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..base.config_rules import first_owned
from . import platform
from .atomic_file import replace_file, untrusted_link
from .file_lock import LockFileError, LockTimeout, lock_beside, locked
from .quiet_read import TooLarge, open_to_read, read_to_end

log = logging.getLogger(__name__)

DEFAULT_MODEL = "openrouter:openai/gpt-4.1"  # what tunacode 0.2.3 uses with no config
RECENT_LIMIT = 8  # tunacode's MODEL_PICKER_RECENT_LIMIT
LOCK_TIMEOUT_S = 2.0
# tunacode writes in place (truncate, then write): a reader can see an empty or half-written file.
# Re-read for this long before concluding that the file is really invalid.
SETTLE_S = 0.25
SETTLE_STEP_S = 0.01
# The watcher waits this long on an empty file before it calls it invalid (the set path, which
# holds the loop, waits SETTLE_S)
EMPTY_SETTLE_S = 2.0
STALE_TEMP_S = 60.0
MAX_CONFIG_BYTES = 4 * 1024 * 1024  # a temp file of ours this old was left by a writer that died

Reason = Literal["invalid-config", "permission-denied", "lock-timeout", "io-error"]


class ConfigError(Exception):
    """Reading or writing the shared config failed; nothing was changed."""

    def __init__(self, reason: Reason, path: Path, cause: str) -> None:
        self.reason: Reason = reason
        self.path = path
        self.cause = cause
        super().__init__(f"{path}: {cause}")


def resolve_config_path(
    init_path: str | None, environ: Mapping[str, str], home: str | None = None
) -> Path:
    """initializationOptions.configPath, then $TUNACODE_CONFIG, then tunacode's own location."""
    for candidate in (init_path, environ.get("TUNACODE_CONFIG")):
        if candidate:
            return Path(os.path.abspath(os.path.expanduser(candidate)))
    base = home or str(platform.home())  # as tunacode: Path.home() (USERPROFILE on Windows)
    return Path(os.path.abspath(base)) / ".config" / "tunacode.json"


@dataclass(frozen=True)
class ConfigSnapshot:
    """One read of the file. `data` is None when the file is missing or invalid."""

    path: Path
    exists: bool
    data: dict[str, Any] | None = field(
        default=None, repr=False
    )  # holds env: keys stay out of reprs
    error: ConfigError | None = None
    mode: int | None = None
    raw: bytes = field(default=b"", repr=False)

    @property
    def valid(self) -> bool:
        return self.error is None

    @property
    def default_model(self) -> str | None:
        value = (self.data or {}).get("default_model")
        return value.strip() if isinstance(value, str) and value.strip() else None

    @property
    def recent_models(self) -> list[str]:
        value = (self.data or {}).get("recent_models")
        if not isinstance(value, list):
            return []
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]

    def env_has(self, name: str) -> bool:
        """Whether the config's `env` holds a non-empty value for `name` (the value never leaves)."""
        env = (self.data or {}).get("env")
        return isinstance(env, dict) and isinstance(env.get(name), str) and bool(env[name].strip())

    @property
    def holds_keys(self) -> bool:
        env = (self.data or {}).get("env")
        return isinstance(env, dict) and any(isinstance(v, str) and v.strip() for v in env.values())

    @property
    def exposed_to_others(self) -> bool:
        # (Windows' mode bits say 0o666 of every file: no statement about other users)
        return (
            platform.OWNERS
            and self.mode is not None
            and bool(self.mode & (stat.S_IRWXG | stat.S_IRWXO))
        )


def validate(data: object) -> str | None:
    """What makes this parsed document unusable for us, or None: the CLI's own rules
    (base/config_rules.py) for the fields the server owns; the rest is the user's and the CLI's."""
    return first_owned(data)


def render(data: Mapping[str, Any]) -> bytes:
    """As tunacode writes it: json.dump(config, f, indent=4)."""
    return json.dumps(data, indent=4).encode("utf-8")


def with_model(data: Mapping[str, Any], model: str) -> dict[str, Any]:
    """A copy with `default_model` set and `model` first in `recent_models`; key order kept."""
    out = dict(data)
    out["default_model"] = model
    old = data.get("recent_models")
    recents = [r.strip() for r in old if isinstance(r, str)] if isinstance(old, list) else []
    seen: set[str] = {model}
    ordered = [model]
    for r in recents:
        if r and r not in seen:
            seen.add(r)
            ordered.append(r)
    out["recent_models"] = ordered[:RECENT_LIMIT]
    return out


def _no_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity; no JSON reader must, and the checker reports them
    raise ValueError(f"{name} is not a JSON number")


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _too_big(path: Path, size: int) -> ConfigError:
    return ConfigError(
        "invalid-config",
        path,
        f"the file is {size / 2**20:.1f} MiB; a tunacode config is at most "
        f"{MAX_CONFIG_BYTES // 2**20} MiB",
    )


def _os_error(path: Path, exc: OSError, doing: str) -> ConfigError:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ConfigError("permission-denied", path, f"permission denied {doing}")
    return ConfigError("io-error", path, f"{doing} failed: {exc.strerror or exc}")


def _remove_stale_temps(directory: Path, name: str) -> None:
    """A writer killed between its temp file and the rename leaves a whole copy of the config,
    API keys included. Writers make their temp file only under the lock, so one this old, seen
    under the lock, is nobody's work in progress: remove it."""
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(f".{name}.") and entry.name.endswith(".tmp")):
            continue
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime > STALE_TEMP_S:
                os.unlink(entry.path)
                log.info("removed %s, left by a writer that died before its rename", entry.name)


class ConfigStore:
    """Reads and writes one shared config path."""

    def __init__(self, path: Path, *, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
        self.path = path
        self.lock_path = lock_beside(path)
        self._last_sweep = -float("inf")
        self.lock_timeout = lock_timeout

    # ---- reading -------------------------------------------------------------------------

    def read_once(self) -> ConfigSnapshot:
        """One bounded read (PROTOCOL.md 1): a `.json` regular file of at most MAX_CONFIG_BYTES,
        checked before anything is read. A FIFO, a device, a directory or a huge file is
        `invalid-config` at once, never a hang nor a server the size of the file."""
        if not self.path.name.endswith(".json"):
            err = ConfigError(
                "invalid-config", self.path, "the config path must name a file ending in .json"
            )
            return ConfigSnapshot(self.path, exists=os.path.lexists(self.path), error=err)
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer
            fd = open_to_read(self.path, nonblock=True)
        except FileNotFoundError:
            return ConfigSnapshot(self.path, exists=False)
        except OSError as exc:
            return ConfigSnapshot(
                self.path, exists=True, error=_os_error(self.path, exc, "reading")
            )
        try:
            st = os.fstat(fd)
            mode = st.st_mode
            if not stat.S_ISREG(mode):
                err = ConfigError(
                    "invalid-config",
                    self.path,
                    f"the path is {_file_kind(mode)}, not a regular file",
                )
                return ConfigSnapshot(self.path, exists=True, error=err)
            raw = read_to_end(fd, self.path, st.st_size, MAX_CONFIG_BYTES)
        except TooLarge as exc:  # (or grew so while it was read)
            return ConfigSnapshot(self.path, exists=True, error=_too_big(self.path, exc.size))
        except OSError as exc:
            return ConfigSnapshot(
                self.path, exists=True, error=_os_error(self.path, exc, "reading")
            )
        finally:
            os.close(fd)
        try:
            data = json.loads(raw, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            cause = "the file is empty" if not raw.strip() else f"invalid JSON ({exc})"
            err = ConfigError("invalid-config", self.path, cause)
            return ConfigSnapshot(self.path, True, error=err, mode=mode, raw=raw)
        problem = validate(data)
        if problem:
            err = ConfigError("invalid-config", self.path, problem)
            return ConfigSnapshot(self.path, True, error=err, mode=mode, raw=raw)
        return ConfigSnapshot(self.path, True, data=data, mode=mode, raw=raw)

    def settling(
        self, settle: float = SETTLE_S, empty_settle: float | None = None
    ) -> Generator[float, None, ConfigSnapshot]:
        """The one settle rule, for the sync and the async reader: read; while the content is
        invalid (an in-place writer such as tunacode may be half-way through), yield a pause and
        read again, until it is valid or `settle` seconds pass (extended while it still moves)."""
        snap = self.read_once()
        if snap.error is None or snap.error.reason != "invalid-config":
            return snap
        if empty_settle is not None and not snap.raw.strip():
            # truncated and not written yet: the commonest torn state of an in-place writer, and
            # the longest when the machine is busy (a stalled tunacode was seen past 0.25 s)
            settle = max(settle, empty_settle)
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            yield SETTLE_STEP_S
            again = self.read_once()
            if again.error is None:
                return again
            if again.raw != snap.raw:  # still moving: wait for it to settle from here
                snap = again
                deadline = max(deadline, time.monotonic() + SETTLE_STEP_S * 5)
        return snap

    def read(
        self, settle: float = SETTLE_S, sleep: Callable[[float], None] = time.sleep
    ) -> ConfigSnapshot:
        """Read, waiting (blocking) for an invalid content to settle; see `settling`."""
        steps = self.settling(settle)
        try:
            while True:
                sleep(next(steps))
        except StopIteration as done:
            snapshot: ConfigSnapshot = done.value
            return snapshot

    async def read_settled(
        self, settle: float = SETTLE_S, empty_settle: float = EMPTY_SETTLE_S
    ) -> ConfigSnapshot:
        """Read, waiting (on the loop) for an invalid content to settle, longer for an empty one
        (a change seen by the watcher: a writer may be half-way through); see `settling`."""
        steps = self.settling(settle, empty_settle)
        try:
            while True:
                await asyncio.sleep(next(steps))
        except StopIteration as done:
            snapshot: ConfigSnapshot = done.value
            return snapshot

    # ---- writing -------------------------------------------------------------------------

    def set_model(
        self, model: str, *, blocking: bool = True, on_write: Callable[[bytes], None] | None = None
    ) -> tuple[ConfigSnapshot, ConfigSnapshot]:
        """Make `model` the default and the first recent. Returns (before, after); `after is before`
        when the file already says so (nothing written). Raises ConfigError, leaving the file as
        it was. With blocking=False, raises BlockingIOError if the lock is busy right now."""
        return self.update(
            lambda data: with_model(data, model), blocking=blocking, on_write=on_write
        )

    def update(
        self,
        change: Callable[[dict[str, Any]], dict[str, Any] | None],
        *,
        blocking: bool = True,
        on_write: Callable[[bytes], None] | None = None,
    ) -> tuple[ConfigSnapshot, ConfigSnapshot]:
        """Read-modify-write under the lock: `change` gets the file's current data and returns the
        new data, or None to write nothing. `on_write` sees the new bytes just before they replace
        the file. Returns (before, after), `after is before` when nothing was written."""
        self._ensure_dir()
        try:
            with locked(self.lock_path, self.lock_timeout if blocking else 0):
                log.debug("set: lock %s acquired", self.lock_path)
                return self._update_locked(change, on_write)
        except LockTimeout as exc:
            if not blocking:
                raise BlockingIOError from exc
            raise ConfigError(
                "lock-timeout",
                self.path,
                f"another writer held {self.lock_path.name} for more than {self.lock_timeout:g} s",
            ) from exc
        except LockFileError as exc:
            raise _os_error(self.lock_path, exc, "creating the lock file") from exc

    def _update_locked(
        self,
        change: Callable[[dict[str, Any]], dict[str, Any] | None],
        on_write: Callable[[bytes], None] | None,
    ) -> tuple[ConfigSnapshot, ConfigSnapshot]:
        before = self.read()
        if before.error is not None:
            raise before.error
        new_data = change(dict(before.data or {}))
        if new_data is None or (before.exists and new_data == before.data):
            log.debug("set: %s already says so; nothing written", self.path)
            return before, before
        raw = render(new_data)
        if on_write is not None:
            on_write(raw)
        mode = self._write_atomically(raw, before)
        # what a read of the file now gives: the watcher's echo of this write is then no change
        after = ConfigSnapshot(self.path, True, data=new_data, mode=stat.S_IFREG | mode, raw=raw)
        return before, after

    def _ensure_dir(self) -> None:
        parent = self.path.parent
        if parent.is_dir():
            return
        try:
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise _os_error(parent, exc, "creating the directory") from exc

    def _write_atomically(self, raw: bytes, before: ConfigSnapshot) -> int:
        path = os.path.abspath(self.path)
        real = os.path.realpath(path)  # a symlink stays a link; its target is written
        if real != path and (why := untrusted_link(self.path)):
            raise ConfigError("permission-denied", self.path, f"not following the link: {why}")
        target = Path(real)
        directory = target.parent
        mode = stat.S_IMODE(before.mode) if before.mode is not None else 0o600
        if before.exists:
            try:
                st = os.stat(target)
            except OSError as exc:
                raise _os_error(self.path, exc, "checking the file") from exc
            euid = platform.euid()
            if euid is not None and st.st_uid != euid and euid != 0:
                raise ConfigError(
                    "permission-denied",
                    self.path,
                    f"the file belongs to another user (uid {st.st_uid}); replacing it would "
                    "change its owner",
                )
            if not os.access(target, os.W_OK):
                raise ConfigError("permission-denied", self.path, "the file is not writable")
        if time.monotonic() - self._last_sweep > STALE_TEMP_S:  # a directory scan: not every write
            self._last_sweep = time.monotonic()
            _remove_stale_temps(directory, target.name)
        try:
            replace_file(target, raw, mode)
        except OSError as exc:
            raise _os_error(self.path, exc, "writing") from exc
        log.debug("set: renamed a fsynced temp file over %s", target)
        return mode
