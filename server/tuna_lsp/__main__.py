"""`tuna-lsp`: the console script. stdio by default; `--tcp` binds 127.0.0.1 unless `--host` says;
`--socket PATH` listens on a Unix socket only this user can open. Each serves one client."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import platformdirs

from . import __version__
from .memory import freeze_start_up
from .private_path import trusted_dir
from .storage.history import HISTORY_NAME
from .storage.saves import SAVES_NAME, read_usage


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuna-lsp",
        description="Language server that picks and shows the model the tunacode CLI uses. "
        "`tuna-lsp usage --help`: save outcomes and model usage.",
    )
    parser.add_argument("--version", action="version", version=f"tuna-lsp {__version__}")
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument(
        "--tcp",
        action="store_true",
        help="serve one client on a TCP port instead of stdio (needs --token-file)",
    )
    transport.add_argument(
        "--socket",
        metavar="PATH",
        help="serve one client on a Unix socket created at PATH, mode 0600 (private to this user)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    parser.add_argument(
        "--token-file",
        metavar="PATH",
        help="with --tcp: write a random token here (0600, in a directory only you can write); "
        "only an initialize whose initializationOptions.authToken is that token is served",
    )
    parser.add_argument("--log-file", help="write logs to this file instead of stderr")
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default INFO)",
    )
    return parser


def usage_main(argv: list[str]) -> None:
    """`tuna-lsp usage [--days N] [--json]`: PROTOCOL.md 10 without a running server."""
    # this subcommand's own module, not the server's: not loaded when the server starts
    from .base.usage import DEFAULT_DAYS, MAX_DAYS, table

    def days(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if not 1 <= value <= MAX_DAYS:
            raise argparse.ArgumentTypeError(
                f"expected an integer from 1 to {MAX_DAYS}, got {text!r}"
            )
        return value

    parser = argparse.ArgumentParser(
        prog="tuna-lsp usage",
        description="Save outcomes and model usage from tuna-lsp's files (PROTOCOL.md section 10).",
    )
    parser.add_argument(
        "--days", type=days, default=DEFAULT_DAYS, help=f"the last N days (default {DEFAULT_DAYS})"
    )
    parser.add_argument("--json", action="store_true", help="print the Usage object as JSON")
    args = parser.parse_args(argv)
    state, problem = trusted_dir(Path(platformdirs.user_state_dir("tunacode")), "state")
    if problem is not None:
        print(f"tuna-lsp usage: {problem}", file=sys.stderr)
    try:
        found = read_usage(state / HISTORY_NAME, state / SAVES_NAME, args.days)
    except OSError as exc:
        print(f"tuna-lsp usage: {exc.strerror or exc}", file=sys.stderr)
        raise SystemExit(1) from None
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        sys.stdout.write(table(found))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["usage"]:
        usage_main(argv[1:])
        return
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.tcp and not args.token_file:
        parser.error(
            "--tcp needs --token-file PATH: any local user can connect to a TCP port, so the "
            "server serves only the client that shows the token it writes there; for a private "
            "transport without a token, use --socket PATH"
        )
    if args.token_file and not args.tcp:
        parser.error("--token-file goes with --tcp")
    # The server's modules (pygls, lsprotocol, the features) load here, after the arguments are
    # checked: --version, --help, `usage` and a bad argument never load them.
    from . import log, setup

    log.configure(args.log_level, args.log_file)
    # pygls and lsprotocol are loaded: out of the collector's way until start-up is over (memory.py)
    freeze_start_up()
    server = setup.create_server()
    if args.socket:
        server.start_unix(args.socket)
    elif args.tcp:
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            logging.getLogger("tuna_lsp").warning(
                "listening on %s: anyone who can reach this port can rewrite your tunacode config",
                args.host,
            )
        server.start_tcp(args.host, args.port, args.token_file)
    else:
        server.start_io()


if __name__ == "__main__":
    main()
