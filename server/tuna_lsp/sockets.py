"""The socket transports: `--tcp` (loopback, with its token) and `--socket` (a Unix socket
only this user can reach). One client each; the process ends with it, as with stdio. The
messages then flow through the same loop as stdio's (`transport.serve_messages`).

Imported only when the server is started with `--tcp` or `--socket` (server.py): `secrets` and
`hmac` bring hashlib and OpenSSL, which a server on stdio never needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import secrets
import socket
import stat
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .private_path import private_dir_problem, write_private
from .storage import platform
from .transport import _error_response, _exit, _parse, _PipeWriter, _read_body, run, serve_messages

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)


def serve_tcp(server: LanguageServer, host: str, port: int, token_file: str) -> None:
    """One client over TCP; the process ends with it, as with stdio. Every local user can reach a
    loopback port, so the server writes a random token to `token_file` (0600, in a directory
    only this user can write) and serves the first connection whose initialize carries it
    (initializationOptions.authToken). A connection that does not is answered with an error
    and closed before anything is read or written, and the server waits for the next; once a
    client is served, the listening socket closes (later connections are refused)."""
    token = secrets.token_urlsafe(32)

    async def listen(connection: _Connection) -> asyncio.Server:
        listener = await asyncio.start_server(connection, host, port)
        write_private(token_file, token + "\n")
        log.info("listening on %s:%d (token in %s)", host, port, token_file)
        return listener

    run(server, _serve_one(server, listen, token=token, remove=(token_file,)))


def serve_unix(server: LanguageServer, path: str) -> None:
    """One client over a Unix socket created 0600, in a directory that is this user's own and
    writable by no one else: the private alternative to TCP. The path stays until exit."""

    if (unfit := platform.socket_path_problem(path)) is not None:
        # before the loop starts: without AF_UNIX, asyncio itself may not start
        message = f"tuna-lsp: --socket {path}: {unfit}"
        log.error("%s", message)
        print(message, file=sys.stderr)
        _exit(1)

    async def listen(connection: _Connection) -> asyncio.Server:
        problem = private_dir_problem(os.path.dirname(os.path.abspath(path)))
        if problem is not None:
            raise SystemExit(
                f"tuna-lsp: --socket {path}: {problem}; another user could take the path first. "
                "Choose a directory only you can write (say $XDG_RUNTIME_DIR)."
            )
        _clear_stale_socket(path)
        old = os.umask(0o177)  # never a moment with the socket open to others
        try:
            listener = await asyncio.start_unix_server(connection, path)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        log.info("listening on %s", path)
        return listener

    run(server, _serve_one(server, listen, remove=(path,)))


def _clear_stale_socket(path: str) -> None:
    """A socket left by a server that died may be replaced; anything else at the path is kept."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise SystemExit(f"tuna-lsp: {path} exists and is not a socket; not replacing it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except ConnectionRefusedError:
        os.unlink(path)
        return
    except OSError as exc:
        raise SystemExit(f"tuna-lsp: cannot use {path}: {exc.strerror or exc}") from None
    finally:
        probe.close()
    raise SystemExit(f"tuna-lsp: another server is listening on {path}")


_Connection = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
AUTH_SECONDS = 10.0  # a connection that has not sent a valid initialize by then is closed


async def _serve_one(
    server: LanguageServer,
    listen: Callable[[_Connection], Awaitable[asyncio.Server]],
    *,
    token: str | None = None,
    remove: tuple[str, ...] = (),
) -> None:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    taken = False
    listener: asyncio.Server | None = None

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal taken
        first = None
        if not taken and token is not None:
            first = await _authenticated(reader, writer, token)
            if first is None:
                writer.close()
                return
        if taken:  # accepted before the listener closed: refused, never given the wire
            log.warning("refused a second connection: this server serves one client")
            writer.close()
            return
        taken = True
        if listener is not None:
            listener.close()

        async def drained() -> None:
            with contextlib.suppress(ConnectionError):
                await writer.drain()

        server.protocol.set_writer(_PipeWriter(writer.transport, drained))
        try:
            await serve_messages(server, reader, drained, first)
            if not done.done():
                done.set_result(None)
        except BaseException as exc:  # SystemExit from `exit` ends the process
            if not done.done():
                done.set_exception(exc)

    listener = await listen(connection)
    try:
        async with listener:
            await done
    finally:  # run() ends the process with os._exit: nothing after it would run
        for path in remove:
            with contextlib.suppress(OSError):
                os.unlink(path)


async def _authenticated(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, token: str
) -> dict[str, Any] | None:
    """The connection's initialize, if it carries the token (removed from it: it goes no
    further, not even to the log); else None, the refusal answered."""

    def reply(message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    raw = None
    try:
        async with asyncio.timeout(AUTH_SECONDS):
            body = await _read_body(reader, reply)
            raw = _parse(body, reply) if body else None
    except TimeoutError:
        log.warning("closed a connection that sent no initialize within %.0f s", AUTH_SECONDS)
        return None
    except (ConnectionError, asyncio.LimitOverrunError):
        return None
    if raw is None:
        return None
    params = raw.get("params")
    options = params.get("initializationOptions") if isinstance(params, dict) else None
    given = options.get("authToken") if isinstance(options, dict) else None
    if (
        raw.get("method") == "initialize"
        and "id" in raw
        and isinstance(options, dict)
        and isinstance(given, str)
        and hmac.compare_digest(given.encode(), token.encode())
    ):
        del options["authToken"]
        return raw
    log.warning("refused a connection: its first message is not an initialize with the token")
    if "id" in raw:
        reply(
            _error_response(
                raw["id"],
                -32600,
                "Invalid Request: not authenticated: the first message must be an initialize "
                "whose initializationOptions.authToken is the token tuna-lsp wrote to its "
                "--token-file",
            )
        )
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    return None
