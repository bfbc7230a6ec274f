"""The catalog (core/catalog/): parsing models.dev data, lookups, did-you-mean, and the search
behind tuna/listModels (PROTOCOL.md section 4: which models match and in what order)."""

from __future__ import annotations

import pytest
from catalog_data import MODELS_DEV, small_catalog
from tuna_lsp.core.catalog import (
    Catalog,
    CustomModel,
    ModelInfo,
    ProviderInfo,
    Source,
    providers_from_models_dev_json,
    validate_snapshot,
)


@pytest.fixture
def cat() -> Catalog:
    return small_catalog()


def models(items: list[ModelInfo]) -> list[str]:
    return [i.model for i in items]


def search(cat: Catalog, query: str | None, **kw: object) -> list[str]:
    args: dict[str, object] = {"provider": None, "limit": 100, "current": None, "recents": []}
    args.update(kw)
    items, total = cat.search(query, **args)  # type: ignore[arg-type]
    assert total >= len(items)
    return models(items)


# ---- parsing models.dev documents ---------------------------------------------------------


def test_models_dev_fields_are_read() -> None:
    providers = providers_from_models_dev_json(MODELS_DEV)
    info = providers["openai"].models["gpt-4.1"]
    assert info == ModelInfo("openai", "gpt-4.1", "GPT-4.1", 1047576, 32768, 2.0, 8.0, False, True)
    assert isinstance(info.cost_input, float)
    assert providers["openai"].name == "OpenAI"
    assert providers["anthropic"].env == ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
    bare = providers["openai"].models["gpt-4.1-mini"]
    assert (bare.context_window, bare.output_limit, bare.cost_input, bare.reasoning) == (
        None,
        None,
        None,
        None,
    )


def test_models_dev_wrong_shapes_are_dropped_not_fatal() -> None:
    raw = {
        "p": {
            "name": 7,
            "env": ["P_KEY", 3, None],
            "models": {
                "m": {
                    "name": ["x"],
                    "limit": {"context": True, "output": 1.5},
                    "cost": {"input": "1", "output": False},
                    "reasoning": "yes",
                    "tool_call": 1,
                },
                "n": "not a model",
            },
        },
        "q": "not a provider",
        "r": {"env": "R_KEY", "models": []},
        "s": {"limit": "x", "models": {"m": {"limit": [1], "cost": 2}}},
    }
    providers = providers_from_models_dev_json(raw)
    assert sorted(providers) == ["p", "r", "s"]
    p = providers["p"]
    assert (p.name, p.env, list(p.models)) == ("p", ("P_KEY",), ["m"])
    assert p.models["m"] == ModelInfo("p", "m", None, None, None, None, None, None, None)
    assert providers["r"].env == () and providers["r"].models == {}
    assert providers["s"].models["m"].context_window is None


def test_int_limits_and_float_costs() -> None:
    raw = {
        "p": {
            "models": {
                "m": {"limit": {"context": 5, "output": 0}, "cost": {"input": 0, "output": 0.5}}
            }
        }
    }
    info = providers_from_models_dev_json(raw)["p"].models["m"]
    assert (info.context_window, info.output_limit, info.cost_input, info.cost_output) == (
        5,
        0,
        0.0,
        0.5,
    )


def test_snapshot_validation() -> None:
    with pytest.raises(ValueError, match="must be a JSON object of providers"):
        validate_snapshot([])
    nine = {f"p{i}": {"models": {"m": {}}} for i in range(9)}
    with pytest.raises(ValueError, match="the snapshot has 9 providers with models"):
        validate_snapshot({**nine, "empty": {"models": {}}})
    ten = {**nine, "p9": {"models": {"m": {}}}}
    assert len(validate_snapshot(ten)) == 10


# ---- lookups and the merged view ------------------------------------------------------------


def test_lookups(cat: Catalog) -> None:
    assert cat.model("openai", "gpt-4.1") is not None
    assert cat.model("openai", "nope") is None
    assert cat.model("nope", "gpt-4.1") is None
    assert cat.provider_name("openrouter") == "OpenRouter"
    assert cat.provider_name("nope") is None


def test_key_env_vars(cat: Catalog) -> None:
    assert cat.env_vars("anthropic") == ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
    assert cat.env_vars("requesty") == ()
    assert cat.env_vars("unknown") == ()


def test_describe_counts_sources_providers_models(cat: Catalog) -> None:
    d = cat.describe
    assert d == {"sources": [{"name": "test", "version": "1"}], "providers": 6, "models": 11}
    d["providers"] = 0  # a caller's copy: the catalog's own stays
    assert cat.describe["providers"] == 6


def test_later_layers_win_per_provider() -> None:
    a = {"x": ProviderInfo("x", "Old", ("X_KEY",)), "y": ProviderInfo("y", "Y", ())}
    b = {"x": ProviderInfo("x", "New", ("X2_KEY",))}
    cat = Catalog.from_layers([(a, Source("a", "1")), (b, Source("b", "2"))])
    assert cat.provider_name("x") == "New"
    assert cat.env_vars("x") == ("X2_KEY",)
    assert cat.provider_name("y") == "Y"
    assert [s.name for s in cat.sources] == ["a", "b"]


def test_serving_one_entry_per_provider_exact_id_first() -> None:
    raw = {"agg": {"models": {"vendor/m": {}, "m": {}}}, "direct": {"models": {"M": {}}}}
    cat = Catalog.from_layers([(providers_from_models_dev_json(raw), Source("test", "1"))])
    assert [(i.provider, i.model_id) for i in cat.serving("m")] == [("agg", "m"), ("direct", "M")]
    assert cat.serving("unknown") == []


def test_maker_is_the_commonest_vendor_prefix(cat: Catalog) -> None:
    assert cat.maker("gpt-4.1") == "openai"
    assert cat.maker("claude-sonnet-4") == "anthropic"
    assert cat.maker("o3") is None


# ---- did you mean -------------------------------------------------------------------------------


def test_closest_providers(cat: Catalog) -> None:
    assert cat.closest_providers("opnai")[0] == "openai"
    assert cat.closest_providers("router") == ["openrouter"]  # a part of an id
    assert cat.closest_providers("openrouter-eu") == ["openrouter"]  # an id inside it
    assert cat.closest_providers("zzzzzz") == []
    assert len(cat.closest_providers("o", n=2)) <= 2
    assert cat.closest_providers("open", n=1) == ["openai"]


def test_closest_models(cat: Catalog) -> None:
    assert cat.closest_models("openai", "gpt-41") == ["openai:gpt-4.1", "openai:gpt-4.1-mini"]
    assert cat.closest_models("openai", "gpt-41", n=1) == ["openai:gpt-4.1"]
    assert cat.closest_models("openai", "zzzz") == []
    assert cat.closest_models("nope", "gpt-4.1") == []


def test_closest_canonical(cat: Catalog) -> None:
    assert cat.closest_canonical("gpt-4.2") == ["gpt-4.1", "gpt-4.1-mini"]
    assert cat.closest_canonical("gpt-4.2", n=1) == ["gpt-4.1"]
    assert cat.closest_canonical("zzzz") == []


# ---- search: no query -----------------------------------------------------------------------

LISTED = [
    "anthropic:claude-sonnet-4",
    "azure:gpt-4.1",
    "openai:gpt-4.1",
    "openai:gpt-4.1-mini",
    "openai:o3",
    "openrouter:anthropic/claude-sonnet-4",
    "openrouter:openai/gpt-4.1",
    "openrouter:openai/gpt-4.1-mini",
    "requesty:openai/gpt-4.1",
]


def test_no_query_lists_every_valid_entry_by_provider(cat: Catalog) -> None:
    # "Bad Provider" and "requesty:bad id" break the model-string rules: not listed
    assert search(cat, None) == LISTED
    assert search(cat, "  ") == LISTED


def test_no_query_current_then_recents_lead(cat: Catalog) -> None:
    got = search(
        cat,
        None,
        current="openai:o3",
        recents=["azure:gpt-4.1", "openai:o3", "mine:custom-model", "not a model", "x:"],
    )
    assert got[:3] == ["openai:o3", "azure:gpt-4.1", "mine:custom-model"]
    assert got[3:] == [m for m in LISTED if m not in ("openai:o3", "azure:gpt-4.1")]


def test_no_query_custom_pinned_entry_has_no_catalog_data(cat: Catalog) -> None:
    items, _ = cat.search(None, provider=None, limit=1, current="mine:m", recents=[])
    assert items == [CustomModel("mine", "m", None, None, None, None, None, None, None)]
    assert not items[0].in_catalog  # the wire's inCatalog, with no lookup
    items, _ = cat.search(None, provider=None, limit=1, current="openai:gpt-4.1", recents=[])
    assert items[0].context_window == 1047576 and items[0].in_catalog


def test_no_query_provider_filter(cat: Catalog) -> None:
    got = search(cat, None, provider="openai", current="azure:gpt-4.1", recents=["openai:o3"])
    assert got == ["openai:o3", "openai:gpt-4.1", "openai:gpt-4.1-mini"]


def test_no_query_paging(cat: Catalog) -> None:
    items, total = cat.search(None, provider=None, limit=3, offset=2, current=None, recents=[])
    assert (models(items), total) == (LISTED[2:5], len(LISTED))
    items, total = cat.search(None, provider=None, limit=3, offset=8, current=None, recents=[])
    assert (models(items), total) == (LISTED[8:], len(LISTED))


# ---- search: with a query -------------------------------------------------------------------


def test_every_token_must_match_case_insensitively(cat: Catalog) -> None:
    assert set(search(cat, "GPT mini")) == {"openai:gpt-4.1-mini", "openrouter:openai/gpt-4.1-mini"}
    assert search(cat, "sonnet nothing") == []


def test_tokens_match_provider_name_and_model_name(cat: Catalog) -> None:
    assert "openai:o3" in search(cat, "OpenAI o3")
    # "Claude" is only in names and the ids; "Anthropic" is a provider name
    assert search(cat, "anthropic claude") == [
        "anthropic:claude-sonnet-4",
        "openrouter:anthropic/claude-sonnet-4",
    ]
    assert search(cat, "spaces") == []  # an unlisted entry is not searched


def test_exact_id_beats_prefix(cat: Catalog) -> None:
    got = search(cat, "gpt-4.1")
    assert got[:4] == [
        "openai:gpt-4.1",  # exact canonical, the maker, a direct id
        "azure:gpt-4.1",
        "openrouter:openai/gpt-4.1",
        "requesty:openai/gpt-4.1",
    ]
    assert set(got[4:]) == {"openai:gpt-4.1-mini", "openrouter:openai/gpt-4.1-mini"}


def test_whole_model_string_is_an_exact_match(cat: Catalog) -> None:
    assert search(cat, "openrouter:openai/gpt-4.1")[0] == "openrouter:openai/gpt-4.1"
    assert search(cat, "openai/gpt-4.1-mini")[0] == "openrouter:openai/gpt-4.1-mini"


def test_words_typed_apart_match_the_hyphenated_id(cat: Catalog) -> None:
    assert search(cat, "gpt-4.1 mini")[:2] == [
        "openai:gpt-4.1-mini",
        "openrouter:openai/gpt-4.1-mini",
    ]


def test_prefix_beats_a_word_inside_beats_a_substring() -> None:
    raw = {
        "p": {
            "name": "P",
            "models": {"mini-x": {}, "x-mini": {}, "xminix": {}, "zz": {"name": "Big Mini"}},
        }
    }
    cat = Catalog.from_layers([(providers_from_models_dev_json(raw), Source("test", "1"))])
    # prefix of the id (40), a word of the id (20), a word of the name (20), a substring (5)
    assert search(cat, "mini") == ["p:mini-x", "p:x-mini", "p:zz", "p:xminix"]


def test_provider_token_counts_as_a_prefix(cat: Catalog) -> None:
    assert search(cat, "azure gpt")[0] == "azure:gpt-4.1"
    assert search(cat, "o3") == ["openai:o3"]


def test_current_then_recents_first_among_equals(cat: Catalog) -> None:
    got = search(cat, "claude", recents=["openrouter:anthropic/claude-sonnet-4"])
    assert got == ["openrouter:anthropic/claude-sonnet-4", "anthropic:claude-sonnet-4"]
    got = search(
        cat,
        "claude",
        current="anthropic:claude-sonnet-4",
        recents=["openrouter:anthropic/claude-sonnet-4", "anthropic:claude-sonnet-4"],
    )
    assert got == ["anthropic:claude-sonnet-4", "openrouter:anthropic/claude-sonnet-4"]
    # a better match still comes before a recent one
    got = search(cat, "gpt-4.1", recents=["openai:gpt-4.1-mini"])
    assert got[0] == "openai:gpt-4.1"
    assert got.index("openai:gpt-4.1-mini") == 4


def test_keyed_provider_first_among_equals(cat: Catalog) -> None:
    got = search(cat, "gpt-4.1", keyed=lambda p: p == "requesty")
    assert got[0] == "requesty:openai/gpt-4.1"
    got = search(cat, "gpt-4.1", keyed=lambda p: p == "azure")
    assert got[:2] == ["azure:gpt-4.1", "openai:gpt-4.1"]


def test_query_with_provider_filter(cat: Catalog) -> None:
    assert search(cat, "gpt", provider="openrouter") == [
        "openrouter:openai/gpt-4.1",
        "openrouter:openai/gpt-4.1-mini",
    ]


def test_query_finds_custom_current_and_recents(cat: Catalog) -> None:
    got = search(cat, "my", current="local:my-model", recents=["local:other", "local:my-2"])
    assert got == ["local:my-model", "local:my-2"]
    # already found in the catalog: not listed twice
    got = search(cat, "o3", current="openai:o3", recents=["openai:o3"])
    assert got == ["openai:o3"]
    # a filter applies to them too
    assert search(cat, "my", provider="openai", current="local:my-model") == []


def test_query_paging_and_total(cat: Catalog) -> None:
    items, total = cat.search("gpt", provider=None, limit=2, offset=1, current=None, recents=[])
    everything = search(cat, "gpt")
    assert total == len(everything) == 6
    assert models(items) == everything[1:3]


# ---- what the first mutation run showed untested ------------------------------------------------


def test_provider_ids_and_entries_after_a_bad_one() -> None:
    raw = {"p": {"models": {"bad": 1, "good": {}}}}
    prov = providers_from_models_dev_json(raw)["p"]
    assert prov.id == "p"
    assert list(prov.models) == ["good"]


def test_snapshot_messages() -> None:
    with pytest.raises(ValueError) as err:
        validate_snapshot({"p": {"models": {"m": {}}}})
    assert str(err.value) == (
        "the snapshot has 1 providers with models; expected a full models.dev document (100 or more)"
    )


def test_maker_counts_every_vendor_prefix() -> None:
    raw = {
        "a": {"models": {"x/m": {}}},
        "b": {"models": {"Y/m": {}}},
        "c": {"models": {"y/m": {}}},
        "d": {"models": {"m": {}}},
    }
    cat = Catalog.from_layers([(providers_from_models_dev_json(raw), Source("test", "1"))])
    assert cat.maker("m") == "y"  # two entries say y (case folded), one says x
    assert cat.maker("y/m") is None


def test_did_you_mean_thresholds(cat: Catalog) -> None:
    raw = {"abcd": {"models": {"abcd": {}}}}
    small = Catalog.from_layers([(providers_from_models_dev_json(raw), Source("test", "1"))])
    assert small.closest_providers("abxy") == ["abcd"]  # half the letters in common is enough
    assert small.closest_models("abcd", "abxy") == ["abcd:abcd"]
    assert small.closest_canonical("abxy") == []  # model ids need more in common
    assert small.closest_canonical("abcx") == ["abcd"]
    # ids that contain the text (or that it contains) fill up the list after close spellings
    assert cat.closest_providers("re") == ["azure", "requesty"]


def test_did_you_mean_gives_three_at_most() -> None:
    raw = {f"openai{i}": {"models": {f"gpt-{i}": {}}} for i in range(5)}
    cat = Catalog.from_layers([(providers_from_models_dev_json(raw), Source("test", "1"))])
    assert len(cat.closest_providers("openai")) == 3
    assert len(cat.closest_canonical("gpt-")) == 3
    raw = {"p": {"models": {f"gpt-{i}": {} for i in range(5)}}}
    assert (
        len(
            Catalog.from_layers(
                [(providers_from_models_dev_json(raw), Source("test", "1"))]
            ).closest_models("p", "gpt-")
        )
        == 3
    )


def test_nameless_models_match_only_their_ids() -> None:
    raw = {"p": {"name": "P", "models": {"m1": {}, "m2": {"name": "Named"}}}}
    cat = Catalog.from_layers([(providers_from_models_dev_json(raw), Source("test", "1"))])
    assert search(cat, "xx") == []
    assert search(cat, "named") == ["p:m2"]


def test_joined_tokens_that_spell_the_id_lead() -> None:
    raw = {"p": {"models": {"gpt-4.1-a": {"name": "GPT-4.1 mini-like"}, "gpt-4.1-mini": {}}}}
    cat = Catalog.from_layers([(providers_from_models_dev_json(raw), Source("test", "1"))])
    # both match both tokens the same way; only gpt-4.1-mini is spelled by them
    assert search(cat, "gpt-4.1 mini") == ["p:gpt-4.1-mini", "p:gpt-4.1-a"]


def test_direct_ids_before_vendor_prefixed_ones_among_equals() -> None:
    raw = {"aaa": {"models": {"vendor/m2": {}}}, "zzz": {"models": {"m2": {}}}}
    cat = Catalog.from_layers([(providers_from_models_dev_json(raw), Source("test", "1"))])
    assert search(cat, "m2") == ["zzz:m2", "aaa:vendor/m2"]


def test_found_pinned_models_do_not_hide_custom_ones(cat: Catalog) -> None:
    got = search(cat, "o3", current="openai:o3", recents=["openai:o3", "local:o3-custom"])
    assert got == ["openai:o3", "local:o3-custom"]


def test_custom_ids_keep_everything_after_the_first_colon(cat: Catalog) -> None:
    items, _ = cat.search(None, provider=None, limit=1, current="ollama:llama3:8b", recents=[])
    assert (items[0].provider, items[0].model_id) == ("ollama", "llama3:8b")


def test_env_var_for_is_the_catalogs_first_else_tunacodes_rule() -> None:
    from tuna_lsp.core.keys import env_var_for

    assert env_var_for("anthropic", small_catalog()) == "ANTHROPIC_API_KEY"
    assert env_var_for("my-host", small_catalog()) == "MY_HOST_API_KEY"
    assert env_var_for("openai", None) == "OPENAI_API_KEY"


def test_terms_remembered_in_a_session_give_the_same_listings(
    cat: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # which index terms exist is remembered between keystrokes: typing "claude sonnet" asks again
    # about "claude" at every letter of "sonnet"; the listings must not depend on it. (The
    # reference-rule tests of tests/e2e/test_catalog_index.py run hundreds of queries on one catalog.)
    import tuna_lsp.core.catalog.search as search_module

    monkeypatch.setattr(search_module, "_FEW", 0)  # the index ranks, even a few matches
    typed = [
        "c",
        "cl",
        "claude",
        "claude s",
        "claude son",
        "claude sonnet",
        "gpt 4.1",
        "gpt",
        "zzz",
    ]
    fresh = [search(small_catalog(), q) for q in typed]
    assert [search(cat, q) for q in typed] == fresh
    assert cat._search.has_term and cat._search.bitmaps  # remembered
    assert [search(cat, q) for q in reversed(typed)] == fresh[::-1]
    cat.shrink_memory()  # searches stopped: forgotten
    assert not cat._search.has_term and not cat._search.bitmaps
