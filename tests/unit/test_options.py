"""initialization_options.py in-process: the client's initializationOptions read into the attrs
class by protocol's converter. A good option is used; a bad one is reported (named, with what is
expected and the default kept) while the others are still used; unknown ones are ignored; null,
[] and {} are the defaults; anything else is reported and gives the defaults. Never raises: the
server starts whatever the client sends."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tuna_lsp.initialization_options import (
    DEFAULT_CATALOG_URL,
    STALE_OVERWRITE,
    InitializationOptions,
    parse_options,
)

DEFAULTS = InitializationOptions()


def test_defaults() -> None:
    assert attrs.asdict(DEFAULTS) == {
        "config_path": None,
        "catalog_url": DEFAULT_CATALOG_URL,
        "catalog_auto_refresh": False,
        "include_tunacode_registry": True,
        "stale_overwrite": "ask",
    }


@pytest.mark.parametrize("raw", [None, [], {}])
def test_nothing_is_the_defaults(raw: Any) -> None:
    assert parse_options(raw) == (DEFAULTS, [])


@pytest.mark.parametrize("raw", ["x", 3, True, [1], [{}]])
def test_not_an_object_is_reported_and_the_defaults_used(raw: Any) -> None:
    opts, problems = parse_options(raw)
    assert opts == DEFAULTS
    assert problems == [f"initializationOptions must be an object, got {type(raw).__name__}"]


def test_every_option_is_read_under_its_camel_case_name() -> None:
    raw = {
        "configPath": "/home/u/.config/tunacode.json",
        "catalogUrl": "file:///tmp/api.json",
        "catalogAutoRefresh": True,
        "includeTunacodeRegistry": False,
        "staleOverwrite": "restore",
    }
    opts, problems = parse_options(raw)
    assert problems == []
    assert opts == InitializationOptions(
        "/home/u/.config/tunacode.json", "file:///tmp/api.json", True, False, "restore"
    )
    # one name per field, and no other: the class is the list of options
    assert len(raw) == len(attrs.fields(InitializationOptions))


@pytest.mark.parametrize("policy", STALE_OVERWRITE)
def test_stale_overwrite_policies(policy: str) -> None:
    assert parse_options({"staleOverwrite": policy})[0].stale_overwrite == policy


def test_unknown_options_are_other_tools_business() -> None:
    # authToken is removed by the transport before this runs; were it left, it is still ignored
    raw = {"authToken": "secret", "config_path": "/x.json", "trace": "verbose", "": 1}
    assert parse_options(raw) == (DEFAULTS, [])


BAD = [
    ("configPath", 42, "a path (a string)"),
    ("configPath", "   ", "a path (a string)"),
    ("configPath", ["x"], "a path (a string)"),
    ("catalogUrl", "", "a URL (a string)"),
    ("catalogUrl", None, "a URL (a string)"),
    ("catalogUrl", 7, "a URL (a string)"),
    ("catalogAutoRefresh", "yes", "true or false"),
    ("catalogAutoRefresh", 1, "true or false"),
    ("includeTunacodeRegistry", None, "true or false"),
    ("staleOverwrite", "never", "'ask', 'restore' or 'accept'"),
    ("staleOverwrite", ["ask"], "'ask', 'restore' or 'accept'"),
]


@pytest.mark.parametrize(("key", "value", "expected"), BAD)
def test_a_bad_option_is_named_and_keeps_its_default(key: str, value: Any, expected: str) -> None:
    good = {"staleOverwrite": "accept"} if key != "staleOverwrite" else {"catalogAutoRefresh": True}
    opts, problems = parse_options({key: value, **good})
    default = getattr(DEFAULTS, snake(key))
    assert problems == [
        f"initializationOptions.{key} is {value!r:.40}, expected {expected}; using the default ({default!r})"
    ]
    # the bad one keeps its default, the good one is used
    assert getattr(opts, snake(key)) == default
    assert opts == attrs.evolve(DEFAULTS, **{snake(k): v for k, v in good.items()})


def test_config_path_null_is_the_default() -> None:
    assert parse_options({"configPath": None}) == (DEFAULTS, [])


def test_each_bad_option_is_reported() -> None:
    """What tests/e2e/test_requests.py shows the user, in one warning."""
    opts, problems = parse_options({"configPath": 42, "catalogAutoRefresh": "yes"})
    assert opts == DEFAULTS
    assert [p.split(" is ")[0] for p in problems] == [
        "initializationOptions.configPath",
        "initializationOptions.catalogAutoRefresh",
    ]


def test_a_long_value_is_cut_short() -> None:
    (problem,) = parse_options({"configPath": ["x" * 10_000]})[1]
    assert len(problem) < 150


def snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
KEYS = [
    "configPath",
    "catalogUrl",
    "catalogAutoRefresh",
    "includeTunacodeRegistry",
    "staleOverwrite",
]


@settings(max_examples=300, deadline=None)
@given(raw=anything | st.dictionaries(st.sampled_from([*KEYS, "authToken", "x"]), anything))
def test_whatever_the_client_sends_the_server_starts(raw: Any) -> None:
    opts, problems = parse_options(raw)
    assert isinstance(opts, InitializationOptions)
    assert isinstance(opts.catalog_url, str) and opts.catalog_url.strip()
    assert isinstance(opts.catalog_auto_refresh, bool)
    assert isinstance(opts.include_tunacode_registry, bool)
    assert opts.stale_overwrite in STALE_OVERWRITE
    assert opts.config_path is None or (
        isinstance(opts.config_path, str) and opts.config_path.strip()
    )
    if isinstance(raw, dict):
        named = {p.split(" is ")[0].removeprefix("initializationOptions.") for p in problems}
        assert named <= set(KEYS) and named <= set(raw)
        for key in set(KEYS) & set(raw) - named:  # what was not refused is used as it came
            assert getattr(opts, snake(key)) == raw[key]
