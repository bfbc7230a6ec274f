"""The cold-start baseline: a bare pygls server that registers one request and nothing else."""

from typing import Any

from pygls.lsp.server import LanguageServer

server = LanguageServer("bare", "1")


@server.feature("bare/ping")
def ping(ls: LanguageServer, params: Any) -> dict[str, bool]:
    return {"ok": True}


if __name__ == "__main__":
    server.start_io()
