"""Routing (PROTOCOL.md section 5): which provider serves a model given without one, and the
warnings that tell the user why."""

from __future__ import annotations

import pytest
from catalog_data import small_catalog
from tuna_lsp.base.model_string import ModelRef, ModelStringError
from tuna_lsp.core.catalog import Catalog, Source, providers_from_models_dev_json
from tuna_lsp.core.routing import resolve_bare


@pytest.fixture
def cat() -> Catalog:
    return small_catalog()


def keys(*providers: str) -> object:
    return lambda p: p in providers


def test_first_preferred_provider_with_a_key(cat: Catalog) -> None:
    res = resolve_bare("gpt-4.1", cat, ["openrouter", "azure", "openai"], keys("azure", "openai"))
    assert res.ref == ModelRef("azure", "gpt-4.1")
    assert res.resolved_from == "gpt-4.1"
    assert res.warnings == []


def test_vendor_prefixed_and_mixed_case_text_resolve_by_canonical_id(cat: Catalog) -> None:
    res = resolve_bare("OpenAI/GPT-4.1", cat, ["openrouter"], keys("openrouter"))
    assert res.ref == ModelRef("openrouter", "openai/gpt-4.1")
    assert res.resolved_from == "gpt-4.1"


def test_preferred_providers_that_do_not_serve_it_are_passed_over(cat: Catalog) -> None:
    res = resolve_bare("o3", cat, ["azure", "openai"], keys("azure"))
    assert res.ref == ModelRef("openai", "o3")
    assert res.warnings == [
        "openai is your preferred provider for o3 but its API key is missing; no other "
        "preferred provider with a key serves it"
    ]


def test_first_preferred_without_any_key_warns(cat: Catalog) -> None:
    res = resolve_bare("gpt-4.1", cat, ["requesty", "azure"], keys())
    assert res.ref == ModelRef("requesty", "openai/gpt-4.1")
    assert len(res.warnings) == 1
    assert res.warnings[0].startswith("requesty is your preferred provider for gpt-4.1")


def test_no_preference_falls_back_to_a_keyed_provider(cat: Catalog) -> None:
    res = resolve_bare("gpt-4.1", cat, [], keys("requesty"))
    assert res.ref == ModelRef("requesty", "openai/gpt-4.1")
    assert res.warnings == [
        "no provider preference for gpt-4.1: fell back to requesty (it has an API key; 3 other "
        "providers serve it). Set one with tuna/setProviderPreference or by choosing "
        "'provider:model' once"
    ]


def test_no_key_anywhere_prefers_the_maker(cat: Catalog) -> None:
    res = resolve_bare("gpt-4.1", cat, ["anthropic"], keys())
    assert res.ref == ModelRef("openai", "gpt-4.1")
    assert (
        "fell back to openai (no provider serving it has a key; 3 other providers"
        in (res.warnings[0])
    )


def test_among_keyed_the_maker_first(cat: Catalog) -> None:
    res = resolve_bare("gpt-4.1", cat, [], keys("azure", "openai", "openrouter"))
    assert res.ref == ModelRef("openai", "gpt-4.1")


def test_then_direct_ids_then_by_provider_name(cat: Catalog) -> None:
    res = resolve_bare("gpt-4.1", cat, [], keys("azure", "openrouter", "requesty"))
    assert res.ref == ModelRef("azure", "gpt-4.1")  # a direct id before vendor-prefixed ones
    res = resolve_bare("gpt-4.1", cat, [], keys("openrouter", "requesty"))
    assert res.ref == ModelRef("openrouter", "openai/gpt-4.1")  # then by provider id


def test_one_other_provider_is_singular() -> None:
    raw = {"a": {"models": {"m": {}}}, "b": {"models": {"m": {}}}}
    cat = Catalog.from_layers([(providers_from_models_dev_json(raw), Source("test", "1"))])
    res = resolve_bare("m", cat, [], keys("b"))
    assert res.ref == ModelRef("b", "m")
    assert "(it has an API key; 1 other provider serve it)" in res.warnings[0]


def test_unknown_model_suggests_close_ids(cat: Catalog) -> None:
    with pytest.raises(ModelStringError) as err:
        resolve_bare("gpt-4.2", cat, [], keys())
    assert str(err.value) == (
        "no provider serves a model 'gpt-4.2'; did you mean 'gpt-4.1', 'gpt-4.1-mini'? Give it "
        "as 'provider:model_id' (e.g. 'openai:gpt-4.1') for a custom or local model"
    )
    with pytest.raises(ModelStringError) as err:
        resolve_bare("zzzz", cat, [], keys())
    assert str(err.value).startswith("no provider serves a model 'zzzz'. Give it as")


def test_entries_that_break_the_model_string_rules_are_never_chosen() -> None:
    # models.dev has such ids (nano-gpt's "TheDrummer 2/Anubis-70B-v1"): resolving a bare id to
    # one wrote a model string with a space into the shared config.
    raw = {
        "nano-gpt": {"models": {"TheDrummer 2/Anubis-70B-v1": {}, "Vendor 2/both-m": {}}},
        "Bad Id": {"models": {"both-m": {}}},
        "zeta": {"models": {"both-m": {}}},
    }
    cat = Catalog.from_layers([(providers_from_models_dev_json(raw), Source("test", "1"))])
    with pytest.raises(
        ModelStringError, match=r"no provider serves a model 'anubis-70b-v1'\. Give"
    ):
        resolve_bare("anubis-70b-v1", cat, ["nano-gpt"], keys("nano-gpt"))
    res = resolve_bare("both-m", cat, ["nano-gpt"], keys("nano-gpt", "Bad Id"))
    assert res.ref == ModelRef("zeta", "both-m")
    assert "(no provider serving it has a key; 0 other providers serve it)" in res.warnings[0]


def test_resolved_from_is_the_canonical_id_on_every_path(cat: Catalog) -> None:
    assert resolve_bare("O3", cat, ["openai"], keys()).resolved_from == "o3"
    assert resolve_bare("openai/GPT-4.1", cat, [], keys()).resolved_from == "gpt-4.1"


def test_direct_ids_before_vendor_prefixed_among_equals() -> None:
    raw = {"aaa": {"models": {"vendor/m2": {}}}, "zzz": {"models": {"m2": {}}}}
    cat = Catalog.from_layers([(providers_from_models_dev_json(raw), Source("test", "1"))])
    assert resolve_bare("m2", cat, [], keys()).ref == ModelRef("zzz", "m2")
