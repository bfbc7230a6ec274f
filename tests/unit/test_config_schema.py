"""The findings behind the config documents' diagnostics (text/config_schema.py): what is wrong,
where (offsets into the text), and the message the user reads."""

from __future__ import annotations

import json

import pytest
from catalog_data import small_catalog
from hypothesis import given, settings
from hypothesis import strategies as st
from tuna_lsp.storage.config_store import validate
from tuna_lsp.text.config_schema import REFUSE, ConfigChecker, Finding


@pytest.fixture
def checker() -> ConfigChecker:
    return ConfigChecker(small_catalog(), environ={"OPENAI_API_KEY": "sk-test"})


def at(text: str, f: Finding) -> str:
    return text[f.start : f.end]


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


# ---- tunacode.json: syntax and schema (the CLI refuses the file) -------------------------------


def test_a_good_config_has_no_findings(checker: ConfigChecker) -> None:
    text = json.dumps(
        {
            "default_model": "openai:gpt-4.1",
            "recent_models": ["openai:gpt-4.1", "azure:gpt-4.1"],
            "env": {"AZURE_API_KEY": ""},
            "settings": {"max_retries": 3, "request_delay": 0, "max_tokens": None,
                         "theme": "dark", "ripgrep": {"enable_metrics": False}},
        },
        indent=4,
    )  # fmt: skip
    assert checker.check_config(text) == []
    assert checker.check_config("{}") == []


def test_invalid_json_points_at_the_error(checker: ConfigChecker) -> None:
    text = '{"default_model": "a:b",, }'
    f = only(checker.check_config(text))
    assert (f.severity, f.code) == ("error", "syntax")
    assert (f.start, f.end) == (24, 25)
    assert (
        f.message == f"Invalid JSON: Expecting property name enclosed in double quotes. {REFUSE}."
    )
    f = only(checker.check_config('{"a": 1'))
    assert (f.start, f.end) == (7, 7)  # at the end: an empty range, not past the text


def test_too_deep_json(checker: ConfigChecker) -> None:
    f = only(checker.check_config("[" * 100000 + "]" * 100000))
    assert (f.start, f.end, f.code) == (0, 1, "syntax")
    assert f.message == f"JSON nested too deeply. {REFUSE}."


def test_top_level_must_be_an_object(checker: ConfigChecker) -> None:
    text = '["a"]'
    f = only(checker.check_config(text))
    assert (f.start, f.end, f.severity, f.code) == (0, 5, "error", "schema")
    assert f.message == f"the top level must be a JSON object, got a list. {REFUSE}."
    assert "got null" in only(checker.check_config("null")).message
    assert "got a number" in only(checker.check_config("3")).message


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('{"default_model": 3}', "3", "default_model must be a non-empty string, got a number"),
        ('{"default_model": " "}', '" "', "default_model must be a non-empty string, got a string"),
        ('{"recent_models": "a:b"}', '"a:b"', "recent_models must be a list of model strings, got a string"),
        ('{"recent_models": ["openai:o3", true]}', "true", "recent_models[1] must be a non-empty string, got a boolean"),
        ('{"env": []}', "[]", "env must be an object of environment variable names to strings, got a list"),
        ('{"env": {"K": 1}}', "1", "env.K must be a string, got a number"),
        ('{"settings": 1}', "1", "settings must be an object, got a number"),
        ('{"settings": {"max_retries": "3"}}', '"3"', "settings.max_retries must be an integer, got a string"),
        ('{"settings": {"max_retries": true}}', "true", "settings.max_retries must be an integer, got a boolean"),
        ('{"settings": {"max_retries": 1.5}}', "1.5", "settings.max_retries must be an integer, got a number"),
        ('{"settings": {"max_tokens": "x"}}', '"x"', "settings.max_tokens must be an integer or null, got a string"),
        ('{"settings": {"request_delay": false}}', "false", "settings.request_delay must be a number, got a boolean"),
        ('{"settings": {"tool_strict_validation": 0}}', "0", "settings.tool_strict_validation must be true or false, got a number"),
        ('{"settings": {"theme": ""}}', '""', "settings.theme must be a non-empty string, got a string"),
        ('{"settings": {"theme": null}}', "null", "settings.theme must be a non-empty string, got null"),
        ('{"settings": {"ripgrep": []}}', "[]", "settings.ripgrep must be an object, got a list"),
        ('{"settings": {"ripgrep": {"timeout": {}}}}', "{}", "settings.ripgrep.timeout must be an integer, got an object"),
    ],
)  # fmt: skip
def test_schema_errors_at_the_value(
    checker: ConfigChecker, text: str, where: str, message: str
) -> None:
    f = only(checker.check_config(text))
    assert (f.severity, f.code) == ("error", "schema")
    assert at(text, f) == where
    assert f.message == f"{message}. {REFUSE}."


def test_accepted_setting_types(checker: ConfigChecker) -> None:
    text = json.dumps({"settings": {"max_tokens": 5, "request_delay": 1.5,
                                    "global_request_timeout": 2, "unknown": [1]}})  # fmt: skip
    assert checker.check_config(text) == []


# ---- tunacode.json: model strings, catalog, keys --------------------------------------------


def test_unknown_top_level_key_is_information_on_its_name(checker: ConfigChecker) -> None:
    text = '{"theme": "dark"}'
    f = only(checker.check_config(text))
    assert (f.severity, f.code, at(text, f)) == ("information", "dropped-by-cli", "theme")
    assert f.message == (
        "tunacode 0.2.3 does not know 'theme': it keeps working, but the CLI drops this key the "
        "next time it saves its config"
    )


def test_bad_model_string_is_a_warning_inside_the_quotes(checker: ConfigChecker) -> None:
    text = '{"default_model": "openai:gpt 4"}'
    f = only(checker.check_config(text))
    assert (f.severity, f.code, at(text, f)) == ("warning", "model-format", "openai:gpt 4")
    assert "contains ' '" in f.message
    text = '{"default_model": "gpt-4.1"}'
    f = only(checker.check_config(text))
    assert (f.code, at(text, f)) == ("model-format", "gpt-4.1")
    assert f.message == "'gpt-4.1' has no provider; tunacode expects 'provider:model_id'"


def test_unknown_provider_underlines_the_provider(checker: ConfigChecker) -> None:
    text = '{"default_model": " opnai:gpt-4.1"}'
    f = only(checker.check_config(text))
    assert (f.severity, f.code, at(text, f)) == ("error", "unknown-provider", "opnai")
    assert f.message == "Unknown provider 'opnai'; did you mean 'openai'?"
    assert f.data == {"suggestions": ["openai"]}
    f = only(checker.check_config('{"default_model": "zzzzzz:m"}'))
    assert f.message == "Unknown provider 'zzzzzz'"


def test_unknown_model_is_a_warning_with_close_matches(checker: ConfigChecker) -> None:
    text = '{"default_model": "openai:gpt-41"}'
    f = only(checker.check_config(text))
    assert (f.severity, f.code, at(text, f)) == ("warning", "unknown-model", "openai:gpt-41")
    assert f.message == (
        "openai:gpt-41 is not in the model catalog (fine for a custom or new model); close "
        "matches: openai:gpt-4.1, openai:gpt-4.1-mini"
    )
    assert f.data == {"suggestions": ["openai:gpt-4.1", "openai:gpt-4.1-mini"], "whole": True}


def test_missing_key_for_the_default_model_only(checker: ConfigChecker) -> None:
    text = '{"default_model": "azure:gpt-4.1", "recent_models": ["anthropic:claude-sonnet-4"]}'
    f = only(checker.check_config(text))
    assert (f.severity, f.code, at(text, f)) == ("warning", "missing-key", "azure:gpt-4.1")
    assert f.message == (
        "No API key for azure: set AZURE_API_KEY in env here or in the environment tunacode runs in"
    )


def test_a_key_in_env_or_the_environment_counts(checker: ConfigChecker) -> None:
    assert checker.check_config('{"default_model": "openai:o3"}') == []  # from the environment
    text = '{"default_model": "azure:gpt-4.1", "env": {"AZURE_API_KEY": "k"}}'
    assert checker.check_config(text) == []
    text = '{"default_model": "azure:gpt-4.1", "env": {"AZURE_API_KEY": "  "}}'
    assert only(checker.check_config(text)).code == "missing-key"
    blank_env = ConfigChecker(small_catalog(), environ={"AZURE_API_KEY": " "})
    assert only(blank_env.check_config('{"default_model": "azure:gpt-4.1"}')).code == "missing-key"


def test_env_var_name_comes_from_the_catalog() -> None:
    default_rule = ConfigChecker(small_catalog(), environ={})
    text = '{"default_model": "openrouter:openai/gpt-4.1"}'
    assert "set OPENROUTER_API_KEY in env" in only(default_rule.check_config(text)).message


def test_duplicate_recents(checker: ConfigChecker) -> None:
    text = '{"recent_models": ["openai:o3", "azure:gpt-4.1", " openai:o3"]}'
    f = only(checker.check_config(text))
    assert (f.severity, f.code, at(text, f)) == ("warning", "duplicate-recent", '" openai:o3"')
    assert f.message == "openai:o3 is already recent_models[0]; tunacode shows it once"
    assert f.data == {"remove": [f.start, f.end]}


def test_without_a_catalog_only_the_format_is_checked() -> None:
    checker = ConfigChecker(None, environ={})
    assert checker.check_config('{"default_model": "nope:nothing"}') == []
    assert only(checker.check_config('{"default_model": "nothing"}')).code == "model-format"


# ---- preferences.toml -----------------------------------------------------------------------


def test_good_preferences(checker: ConfigChecker) -> None:
    text = '# mine\n[providers]\n"gpt-4.1" = ["azure", "openai"] # why\n'
    assert checker.check_preferences(text) == []
    assert checker.check_preferences("") == []
    assert checker.check_preferences("[other]\nx = 1\n") == []


def test_invalid_toml_points_at_the_error(checker: ConfigChecker) -> None:
    text = '[providers]\n"gpt-4.1" = ["azure",\n'
    f = only(checker.check_preferences(text))
    assert (f.severity, f.code) == ("error", "syntax")
    assert f.message.startswith("Invalid TOML: ")
    assert f.message.endswith(". The server ignores this file until it parses.")
    assert " at line " not in f.message
    assert 0 < f.start <= len(text) and f.end <= len(text)
    text = "a = 1\nb = = 2\n"
    f = only(checker.check_preferences(text))
    assert (f.start, f.end) == (text.index("= 2"), text.index("= 2") + 1)  # the unexpected '='
    assert (
        f.message
        == "Invalid TOML: Unexpected character: '='. The server ignores this file until it parses."
    )


def test_providers_must_be_a_table(checker: ConfigChecker) -> None:
    text = "x = 1\n  providers = 3\n"
    f = only(checker.check_preferences(text))
    assert (f.code, f.message) == ("schema", "providers must be a table: [providers]")
    assert at(text, f) == "providers"  # the key, not the indentation before it


def test_values_must_be_lists_of_strings(checker: ConfigChecker) -> None:
    text = '[providers]\n"gpt-4.1" = "openai"\no3 = [1]\n'
    findings = checker.check_preferences(text)
    assert [(f.code, at(text, f)) for f in findings] == [("schema", "gpt-4.1"), ("schema", "o3")]
    assert findings[0].message == (
        "providers.'gpt-4.1' must be a list of provider ids, like [\"openai\"]"
    )


def test_unknown_model_provider_and_not_served(checker: ConfigChecker) -> None:
    text = (
        "[providers]\n"
        '"gpt-4.2" = ["openai"]\n'
        "'o3' = [ # comment\n  \"opnai\",\n  'azure',\n]\n"
        'claude-sonnet-4 = ["anthropic"]\n'
    )
    findings = checker.check_preferences(text)
    got = [(f.severity, f.code, at(text, f)) for f in findings]
    assert got == [
        ("warning", "unknown-model", "gpt-4.2"),
        ("error", "unknown-provider", "opnai"),
        ("warning", "not-served", "azure"),
    ]
    assert (
        findings[0].message
        == "No provider in the catalog serves 'gpt-4.2'; did you mean 'gpt-4.1', 'gpt-4.1-mini'?"
    )
    assert findings[0].data == {"suggestions": ["gpt-4.1", "gpt-4.1-mini"]}
    assert findings[1].message == "Unknown provider 'opnai'; did you mean 'openai'?"
    assert findings[2].message == "azure does not serve o3 according to the catalog"


def test_keys_are_matched_case_insensitively(checker: ConfigChecker) -> None:
    assert checker.check_preferences('[providers]\n"GPT-4.1" = ["azure"]\n') == []


def test_other_tables_are_not_checked(checker: ConfigChecker) -> None:
    text = '[providers]\n"o3" = ["openai"]\n[other]\n"gpt-4.2" = ["nope"]\n'
    assert checker.check_preferences(text) == []


def test_preferences_without_a_catalog() -> None:
    checker = ConfigChecker(None, environ={})
    assert checker.check_preferences('[providers]\n"x" = ["nope"]\n') == []
    assert only(checker.check_preferences('[providers]\n"x" = 1\n')).code == "schema"


# ---- what the first mutation run showed untested ------------------------------------------------


def test_toml_errors_at_the_end_and_after_wide_characters(checker: ConfigChecker) -> None:
    text = '[providers]\n"gpt-4.1" = ["azure",\n'
    f = only(checker.check_preferences(text))
    assert (f.start, f.end) == (12, 13)  # tomlkit reports the line of the unfinished array
    text = '[providers]\n"\U0001f600" = = 1\n'
    f = only(checker.check_preferences(text))
    assert text[f.start] == "="
    assert f.start == text.index("= 1")  # columns count characters, not UTF-16 units


def test_a_quoted_providers_key_that_is_not_a_table(checker: ConfigChecker) -> None:
    f = only(checker.check_preferences('"providers" = 3\n'))
    assert (f.start, f.end, f.severity, f.code) == (0, 9, "error", "schema")
    f = only(checker.check_preferences("providers = 3\n"))
    assert (f.start, f.end, f.severity) == (0, 9, "error")


def test_schema_errors_in_preferences_are_errors(checker: ConfigChecker) -> None:
    findings = checker.check_preferences('[providers]\no3 = 1\nclaude-sonnet-4 = ["opnai"]\n')
    assert [(f.severity, f.code) for f in findings] == [
        ("error", "schema"),
        ("error", "unknown-provider"),
    ]


def test_dotted_keys_are_skipped_not_the_rest(checker: ConfigChecker) -> None:
    text = '[providers]\na.b = ["x"]\no3 = ["opnai"]\n'
    assert [f.code for f in checker.check_preferences(text)] == ["unknown-provider"]


def test_preferences_without_close_matches_and_with_several(checker: ConfigChecker) -> None:
    text = '[providers]\nzzzz = ["qqqqqq", "opena"]\n'
    findings = checker.check_preferences(text)
    assert [f.message for f in findings] == [
        "No provider in the catalog serves 'zzzz'",
        "Unknown provider 'qqqqqq'",
        "Unknown provider 'opena'; did you mean 'openai', 'openrouter'?",
    ]
    assert findings[0].data == {"suggestions": []}
    assert findings[1].data == {"suggestions": []}
    assert findings[2].data == {"suggestions": ["openai", "openrouter"]}


def test_escaped_keys_fall_back_to_the_whole_document(checker: ConfigChecker) -> None:
    # json_doc keeps keys as written: "\u0041" is not found as "A", so the finding covers the root
    text = '  {"env": {"\\u0041": 1}, "\\u0042": 2}'
    findings = checker.check_config(text)
    assert [(f.code, f.start, f.end) for f in findings] == [
        ("schema", 2, len(text)),
        ("dropped-by-cli", 2, len(text)),
    ]
    assert findings[0].message.startswith("env.A must be a string, got a number")


def test_every_recent_is_checked_after_a_bad_one(checker: ConfigChecker) -> None:
    text = '{"recent_models": [true, "opnai:x"]}'
    assert [f.code for f in checker.check_config(text)] == ["schema", "unknown-provider"]


def test_model_format_and_provider_findings_in_detail(checker: ConfigChecker) -> None:
    f = only(checker.check_config('{"default_model": "gpt-4.1"}'))
    assert f.severity == "warning"
    text = '{"default_model": "opena:opena-x"}'
    f = only(checker.check_config(text))
    assert f.message == "Unknown provider 'opena'; did you mean 'openai', 'openrouter'?"
    assert (f.start, f.end) == (text.index("opena"), text.index("opena") + 5)
    f = only(checker.check_config('{"default_model": "openai:zzzz"}'))
    assert f.message == "openai:zzzz is not in the model catalog (fine for a custom or new model)"
    assert f.data == {"suggestions": [], "whole": True}


def test_too_deep_is_an_error(checker: ConfigChecker) -> None:
    assert only(checker.check_config("[" * 100000)).severity == "error"


def test_comments_in_preferences_are_not_read_as_providers(checker: ConfigChecker) -> None:
    text = "[providers]\no3 = ['opnai'] # 'azure' was slower\n"
    findings = checker.check_preferences(text)
    assert [(f.code, at(text, f)) for f in findings] == [("unknown-provider", "opnai")]


def test_ranges_of_quoted_keys_and_strings_on_the_key_line(checker: ConfigChecker) -> None:
    text = "[providers]\n'gpt-4.2' = [\"openai\"]\n  o3 = [\"openai\", 'opnai']\n"
    findings = checker.check_preferences(text)
    assert [(f.code, at(text, f)) for f in findings] == [
        ("unknown-model", "gpt-4.2"),
        ("unknown-provider", "opnai"),
    ]


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(["", " ", "openai:o3", "x"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
_configs = (
    st.dictionaries(
        st.sampled_from(["default_model", "recent_models", "env", "other"]), _values, max_size=4
    )
    | _values
)


@settings(max_examples=300, deadline=None)
@given(data=_configs)
def test_the_store_refuses_what_the_diagnostics_show_as_refused(data: object) -> None:
    """One set of rules (base/config_rules.py): a document the store will not write shows that
    same message as an error at its value, and a document it writes shows no error about the
    fields it owns."""
    text = json.dumps(data)
    errors = [
        f.message
        for f in ConfigChecker(catalog=None, environ={}).check_config(text)
        if f.code == "schema"
    ]
    refused = validate(data)
    if refused is None:
        owned = ("the top level", "default_model", "recent_models", "env must")
        assert not [m for m in errors if m.startswith(owned)], errors
    else:
        assert f"{refused}. {REFUSE}." in errors
