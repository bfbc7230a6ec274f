"""The catalog where Python's sqlite3 has no FTS5 (some standalone builds): forced by a
sitecustomize.py on the server's PYTHONPATH that makes sqlite3 refuse `fts5`, as such a build
does. The picker's search then scans the catalog: the same items in the same order as the
full-text index gives, and the log says why search is slower."""

from __future__ import annotations

import os
from pathlib import Path

from harness.home import Home
from harness.session import lsp_session
from harness.waiting import wait_until

# Such a sqlite3 can neither make an FTS5 table nor read one (the catalog's `terms`) in an index
# file made elsewhere.
NO_FTS5 = """
import re
import sqlite3

_connect = sqlite3.connect
_FTS5 = re.compile(r"fts5|\\bterms\\b", re.IGNORECASE)


class _NoFts5(sqlite3.Connection):
    def execute(self, sql, *args):
        if _FTS5.search(sql):
            raise sqlite3.OperationalError("no such module: fts5")
        return super().execute(sql, *args)

    def executescript(self, sql):
        if _FTS5.search(sql):
            raise sqlite3.OperationalError("no such module: fts5")
        return super().executescript(sql)


def connect(*args, **kwargs):
    kwargs.setdefault("factory", _NoFts5)
    return _connect(*args, **kwargs)


sqlite3.connect = connect
"""

QUERIES = [
    {"query": "claude SONNET", "limit": 40},
    {"query": "gpt-4.1", "limit": 5},
    {"query": "gpt", "provider": "openai", "limit": 1000},
    {"query": "mini", "limit": 20, "offset": 10},
    {"query": "zzz-no-such-model"},
]


async def test_search_without_fts5_matches_the_index(home: Home, tmp_path: Path) -> None:
    home.write_config(
        {"default_model": "openai:gpt-4.1", "recent_models": ["anthropic:claude-sonnet-4-20250514"]}
    )
    forced = tmp_path / "forced"
    forced.mkdir()
    (forced / "sitecustomize.py").write_text(NO_FTS5)
    env = home.env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(forced), env.get("PYTHONPATH")]))
    async with lsp_session(home) as indexed, lsp_session(home, env=env) as scanned:
        await scanned.wait_catalog(timeout=60)
        await indexed.wait_catalog(timeout=60)
        some = await scanned.request("tuna/listModels", QUERIES[0])
        assert some["total"] >= 10 and some["items"], "the picker is not empty"
        for params in QUERIES:
            want = await indexed.request("tuna/listModels", params)
            got = await scanned.request("tuna/listModels", params)
            assert got["items"] == want["items"] and got["total"] == want["total"], params
        await wait_until(
            lambda: any("has no FTS5" in m.message for m in scanned.client.log_messages),
            10,
            "the log saying why search is slower",
        )
        assert not any("FTS5" in m.message for m in indexed.client.log_messages)
