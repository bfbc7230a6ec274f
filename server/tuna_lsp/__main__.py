"""`tuna-lsp`: the console script. stdio by default; `--tcp` binds 127.0.0.1 unless `--host` says;
`--socket PATH` listens on a Unix socket only this user can open. Each serves one client."""

from __future__ import annotations

import argparse

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuna-lsp",
        description="Language server that picks and shows the model the tunacode CLI uses.",
    )
    parser.add_argument("--version", action="version", version=f"tuna-lsp {__version__}")
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument(
        "--tcp", action="store_true", help="serve one client on a TCP port instead of stdio"
    )
    transport.add_argument(
        "--socket",
        metavar="PATH",
        help="serve one client on a Unix socket created at PATH, mode 0600 (private to this user)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    parser.add_argument("--log-file", help="write logs to this file instead of stderr")
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default INFO)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    from .log import configure

    configure(args.log_level, args.log_file)
    import gc
    import logging

    from .setup import create_server

    # pygls and lsprotocol are loaded: hundreds of thousands of objects that live as long as the
    # process. Out of the collector's way until start-up is over (features/catalog.py trim_heap
    # collects once, then), so the imports and set-up that follow do not pay for a full
    # collection over all of them (20 to 30 ms of a 500 ms start).
    gc.freeze()
    server = create_server()
    if args.socket:
        server.start_unix(args.socket)
    elif args.tcp:
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            logging.getLogger("tuna_lsp").warning(
                "listening on %s: anyone who can reach this port can rewrite your tunacode config",
                args.host,
            )
        server.start_tcp(args.host, args.port)
    else:
        server.start_io()


if __name__ == "__main__":
    main()
