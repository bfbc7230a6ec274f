"""What the config documents' handlers ask of a document's text (text/config_text.py,
`ConfigText`): the findings of a tunacode.json or a preferences.toml (the first `limit` with
suggestions), the JSON context at the cursor, the model string under it (what hover and
completion replace), and the preferences.toml key the cursor's value belongs to."""

from __future__ import annotations

import json

import pytest
from catalog_data import small_catalog
from hypothesis import given, settings
from hypothesis import strategies as st
from tuna_lsp.core.catalog import Catalog
from tuna_lsp.text.config_schema import REFUSE, Finding
from tuna_lsp.text.config_text import ConfigText
from tuna_lsp.text.json_doc import Context


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return small_catalog()


def codes(findings: list[Finding]) -> list[tuple[int, int, str, str]]:
    return [(f.start, f.end, f.code, f.message) for f in findings]


# ---- findings --------------------------------------------------------------------------------

BAD_CONFIG = '{"default_model": "opena:gpt-4.1", "recent_models": ["openaj:x", "antropic:y"]}'
OPENAI = "; did you mean 'openai', 'openrouter'?"


def test_the_limit_is_kept() -> None:
    assert ConfigText(limit=7).limit == 7


def test_config_findings_get_suggestions_up_to_the_limit(catalog: Catalog) -> None:
    got = ConfigText(limit=1).findings("config", BAD_CONFIG, catalog)
    assert codes(got) == [
        (19, 24, "unknown-provider", f"Unknown provider 'opena'{OPENAI}"),
        (54, 60, "unknown-provider", "Unknown provider 'openaj'"),
        (66, 74, "unknown-provider", "Unknown provider 'antropic'"),
    ]
    assert [f.data for f in got] == [
        {"suggestions": ["openai", "openrouter"]},
        {"suggestions": []},
        {"suggestions": []},
    ]
    assert [BAD_CONFIG[f.start : f.end] for f in got] == ["opena", "openaj", "antropic"]


def test_config_findings_all_with_suggestions_under_a_higher_limit(catalog: Catalog) -> None:
    got = ConfigText(limit=3).findings("config", BAD_CONFIG, catalog)
    assert [f.message for f in got] == [
        f"Unknown provider 'opena'{OPENAI}",
        f"Unknown provider 'openaj'{OPENAI}",
        "Unknown provider 'antropic'; did you mean 'anthropic'?",
    ]
    two = ConfigText(limit=2).findings("config", BAD_CONFIG, catalog)
    assert [f.data["suggestions"] for f in two] == [["openai", "openrouter"]] * 2 + [[]]


def test_each_check_has_its_own_budget(catalog: Catalog) -> None:
    analysis = ConfigText(limit=1)
    first = analysis.findings("config", BAD_CONFIG, catalog)
    again = analysis.findings("config", BAD_CONFIG, catalog)
    assert first == again


PREFERENCES = '[providers]\n"gpt-4.1" = ["opena", "antropic"]\n'


def test_preferences_findings(catalog: Catalog) -> None:
    got = ConfigText(limit=1).findings("preferences", PREFERENCES, catalog)
    assert codes(got) == [
        (26, 31, "unknown-provider", f"Unknown provider 'opena'{OPENAI}"),
        (35, 43, "unknown-provider", "Unknown provider 'antropic'"),
    ]
    assert [f.severity for f in got] == ["error", "error"]
    assert [PREFERENCES[f.start : f.end] for f in got] == ["opena", "antropic"]


def test_the_kind_chooses_the_checker(catalog: Catalog) -> None:
    """ "config" reads JSON; anything else is a preferences.toml."""
    toml = ConfigText(limit=5).findings("preferences", BAD_CONFIG, catalog)
    assert codes(toml) == [
        (
            0,
            1,
            "syntax",
            "Invalid TOML: Empty key. The server ignores this file until it parses.",
        )
    ]
    as_json = ConfigText(limit=5).findings("config", PREFERENCES, catalog)
    assert codes(as_json) == [(1, 2, "syntax", f"Invalid JSON: Expecting value. {REFUSE}.")]
    assert ConfigText(limit=5).findings("preferences", PREFERENCES, None) == []
    assert ConfigText(limit=5).findings("config", BAD_CONFIG, None) == []


def test_a_config_without_a_key_for_its_model(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key is looked up in the environment the server runs in."""
    text = json.dumps({"default_model": "openai:gpt-4.1"})
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert codes(ConfigText(limit=5).findings("config", text, catalog)) == [
        (
            19,
            33,
            "missing-key",
            "No API key for openai: set OPENAI_API_KEY in env here or in the environment "
            "tunacode runs in",
        )
    ]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert ConfigText(limit=5).findings("config", text, catalog) == []


# ---- context_at ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("", Context((), False, None, "")),
        ("{", Context((), True, None, "")),
        ('{"default_model": "ope', Context(("default_model",), False, 18, "ope")),
        ('{"recent_models": ["a:b", "', Context(("recent_models", 1), False, 26, "")),
        ('{"env": {"OPEN', Context(("env",), True, 9, "OPEN")),
        ('{"settings": {"theme": 1, ', Context(("settings",), True, None, "")),
    ],
)
def test_context_at_the_cursor(text: str, context: Context) -> None:
    assert ConfigText.context_at(text, len(text)) == context
    assert ConfigText(limit=1).context_at(text + ' "rest"}', len(text)) == context


# ---- model_token -----------------------------------------------------------------------------

CONFIG = (
    '{"default_model": "openai:gpt-4.1", "recent_models": ["azure:gpt-4.1"], "env": {"K": "v"}}'
)


def where(text: str, needle: str, nth: int = 0) -> int:
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    return at


def test_model_token_of_the_default_model() -> None:
    start = where(CONFIG, '"openai:gpt-4.1"')
    end = start + len('"openai:gpt-4.1"')
    want = (start + 1, end - 1, "openai:gpt-4.1")
    assert CONFIG[want[0] : want[1]] == "openai:gpt-4.1"
    # anywhere from the opening quote to just after the closing one
    for offset in (start, start + 1, start + 7, end - 1, end):
        assert ConfigText.model_token(CONFIG, offset, "config") == want, offset
    assert ConfigText.model_token(CONFIG, start - 1, "config") is None  # the space before
    assert ConfigText.model_token(CONFIG, end + 1, "config") is None  # the comma after


def test_model_token_of_a_recent_model() -> None:
    start = where(CONFIG, '"azure:gpt-4.1"')
    assert ConfigText.model_token(CONFIG, start + 3, "config") == (
        start + 1,
        start + 14,
        "azure:gpt-4.1",
    )


@pytest.mark.parametrize(
    "needle",
    ['"default_model"', '"recent_models"', '"K"', '"v"', '"env"'],
    ids=["key", "recents-key", "env-key", "env-value", "env"],
)
def test_no_model_token_at_keys_or_other_values(needle: str) -> None:
    assert ConfigText.model_token(CONFIG, where(CONFIG, needle) + 2, "config") is None


def test_no_model_token_outside_a_string_or_in_an_open_one() -> None:
    assert ConfigText.model_token(CONFIG, 0, "config") is None
    half = '{"default_model": "openai:gp'
    assert ConfigText.model_token(half, len(half), "config") is None
    assert ConfigText.model_token('"openai:gpt-4.1"', 3, "config") is None  # at the top level
    number = '{"default_model": 3}'
    assert ConfigText.model_token(number, len(number) - 2, "config") is None


def test_an_empty_model_string_is_a_token() -> None:
    text = '{"recent_models": [""]}'
    assert ConfigText.model_token(text, 20, "config") == (20, 20, "")


def test_model_token_in_an_escaped_string_keeps_the_escapes() -> None:
    text = '{"default_model": "a\\"b"}'
    assert ConfigText.model_token(text, 20, "config") == (19, 23, 'a\\"b')


def test_no_model_token_in_preferences() -> None:
    assert ConfigText.model_token(CONFIG, where(CONFIG, "openai") + 1, "preferences") is None
    toml = '[workspaces]\n"/src/app" = "openai:gpt-4.1"\n'
    assert ConfigText.model_token(toml, where(toml, "openai") + 1, "preferences") is None


# ---- preferences_key -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[providers]\n"gpt-4.1" = ["openai", "', "gpt-4.1"),
        ('[providers]\n\'gpt-4.1\' = ["openai", "', "gpt-4.1"),
        ('[providers]\ngpt-4_1.x = ["', "gpt-4_1.x"),
        ('[providers]\n  "o3"   =   ["', "o3"),
        ('[providers]\n"gpt-4.1" = [\n  "openai",\n  "', "gpt-4.1"),
        ('[providers]\n"gpt-4.1" = [\n  ["x=y"],\n  "', "gpt-4.1"),  # not a table header
        ('[workspaces]\n"/src/app" = "openai:', "/src/app"),
        ('a = 1\nb = "', "b"),
    ],
)
def test_preferences_key_of_the_value_at_the_cursor(text: str, key: str) -> None:
    assert ConfigText.preferences_key(text, len(text)) == key
    assert ConfigText.preferences_key(text + 'rest"]\nlater = 1\n', len(text)) == key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[providers]\n",
        "[providers]",
        'old = 1\n[providers]\n"',
        'old = 1\n  [providers]  \n"',  # an indented header is one too
        '"gpt-4.1',  # still typing the key
        "# a comment\n",
    ],
)
def test_no_preferences_key_before_an_entry(text: str) -> None:
    assert ConfigText.preferences_key(text, len(text)) is None


def test_preferences_key_reads_only_up_to_the_cursor() -> None:
    text = "a = 1\nb = 2\n[t]\nc = 3\n"
    assert ConfigText.preferences_key(text, text.index("1")) == "a"
    assert ConfigText.preferences_key(text, text.index("2")) == "b"
    assert ConfigText.preferences_key(text, text.index("[t]")) == "b"
    assert ConfigText.preferences_key(text, text.index("[t]") + 3) is None
    assert ConfigText.preferences_key(text, text.index("3")) == "c"
    assert ConfigText.preferences_key(text, 0) is None


def test_preferences_key_counts_lsp_lines_only() -> None:
    """U+2028 in a value is no line break: a "[" after it does not start a header."""
    text = '[t]\nk = "x\u2028[y'
    assert ConfigText.preferences_key(text, len(text)) == "k"
    crlf = '[t]\r\nk = [\r\n  "a",\r\n  "'
    assert ConfigText.preferences_key(crlf, len(crlf)) == "k"
    cr = '[t]\rk = "'
    assert ConfigText.preferences_key(cr, len(cr)) == "k"


_KEYS = st.from_regex(r"[A-Za-z0-9_.-]{1,12}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(key=_KEYS, quote=st.sampled_from(["", '"', "'"]), gap=st.sampled_from(["", " ", "\t"]))
def test_preferences_key_of_any_key_form(key: str, quote: str, gap: str) -> None:
    text = f"[providers]\n{gap}{quote}{key}{quote}{gap}={gap}[\n"
    assert ConfigText.preferences_key(text, len(text)) == key


def test_model_token_in_compact_json() -> None:
    """No space after the colon or the bracket: the value's context, not its key's."""
    text = '{"default_model":"openai:o3","recent_models":["azure:gpt-4.1"]}'
    assert ConfigText.model_token(text, 20, "config") == (18, 27, "openai:o3")
    assert ConfigText.model_token(text, 50, "config") == (47, 60, "azure:gpt-4.1")
    assert ConfigText.model_token(text, 3, "config") is None
