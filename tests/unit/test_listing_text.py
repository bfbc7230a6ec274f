"""wire.ListingText: a tuna/listModels result written as JSON text from fragments kept between
keystrokes is, byte for byte, what json.dumps writes for the result's dicts (model_info_to_wire's),
whatever the catalog, the current model, the recents and the keys; and what it keeps is dropped
when the catalog changes and when `forget` is called."""

from __future__ import annotations

import json

import pytest
from catalog_data import small_catalog
from hypothesis import given, settings
from hypothesis import strategies as st
from tuna_lsp.core.catalog import Catalog, CustomModel, Listing
from tuna_lsp.protocol import ListModelsResult
from tuna_lsp.wire import JsonText, ListingText, model_info_to_wire

CATALOG = small_catalog()


def listing(
    catalog: Catalog | None,
    query: str | None,
    current: str,
    recents: list[str],
    keyed: set[str],
    extra: list[CustomModel] = [],  # noqa: B006 - never changed
) -> Listing:
    if catalog is None:
        items = list(extra)
        total = len(items)
    else:
        items, total = catalog.search(
            query, provider=None, limit=50, current=current, recents=recents
        )
        items += extra
    keys = {i.provider: i.provider in keyed for i in items}
    return Listing(items, total, catalog, current, recents, keys)


def listing_to_wire(listing: Listing) -> ListModelsResult:
    """The result as dicts, as the server built it before it kept fragments."""
    return {
        "items": [
            model_info_to_wire(
                i,
                listing.catalog,
                current=listing.current,
                recents=listing.recents,
                key_status=listing.keys.__getitem__,
            )
            for i in listing.items
        ],
        "total": listing.total,
        "catalog": listing.catalog.describe if listing.catalog else None,
    }


def expected(found: Listing) -> str:
    return json.dumps(listing_to_wire(found), separators=(",", ":"))


MODELS = [
    i.model for i in CATALOG.search(None, provider=None, limit=200, current=None, recents=[])[0]
]
PROVIDERS = sorted({m.split(":")[0] for m in MODELS})


@settings(max_examples=150, deadline=None)
@given(
    query=st.sampled_from([None, "gpt", "claude sonnet", "4.1", "mini", "o", "zzz"]),
    current=st.sampled_from([*MODELS[:6], "local:my-model"]),
    recents=st.lists(st.sampled_from([*MODELS[:8], "local:my-model"]), max_size=4, unique=True),
    keyed=st.sets(st.sampled_from([*PROVIDERS, "local"])),
    with_catalog=st.booleans(),
)
def test_text_is_what_json_dumps_writes(
    query: str | None, current: str, recents: list[str], keyed: set[str], with_catalog: bool
) -> None:
    text = ListingText()
    custom = [
        CustomModel("local", 'my "quoted" \\ model\u2028', None, None, 1.5, None, None, None, None)
    ]
    found = listing(CATALOG if with_catalog else None, query, current, recents, keyed, custom)
    first = text.result(found)
    assert isinstance(first, JsonText)
    assert first == expected(found)
    # again, from what it kept, with the moment's parts changed
    again = Listing(
        found.items, found.total, found.catalog, "none:x", [], dict.fromkeys(found.keys, True)
    )
    assert text.result(again) == expected(again)


def test_what_it_keeps_goes_with_the_catalog_and_on_forget() -> None:
    text = ListingText()
    found = listing(CATALOG, "gpt", MODELS[0], [], set())
    text.result(found)
    assert text._known
    text.forget()
    assert not text._known
    text.result(found)
    other = small_catalog()  # a refreshed catalog: provider names may differ
    other.providers["openai"].name = "OpenAI (renamed)"
    renamed = Listing(found.items, found.total, other, found.current, [], found.keys)
    assert '"providerName":"OpenAI (renamed)"' in text.result(renamed)
    assert text.result(renamed) == expected(renamed)


@pytest.mark.parametrize("size", [0, 1])
def test_empty_and_single_listings(size: int) -> None:
    found = listing(CATALOG, "gpt", MODELS[0], [], {"openai"})
    found.items[:] = found.items[:size]
    assert ListingText().result(found) == expected(found)
