"""Model strings (PROTOCOL.md section 2): what parses, what the error says, and canonical ids."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tuna_lsp.base.model_string import (
    EXPECTED,
    MODEL_ID_MAX,
    MODEL_TEXT_MAX,
    ModelRef,
    ModelStringError,
    canonical_id,
    check_model_id,
    parse_model,
)


@pytest.mark.parametrize(
    ("text", "provider", "model_id"),
    [
        ("openai:gpt-4.1", "openai", "gpt-4.1"),
        ("  openai : gpt-4.1  ", "openai", "gpt-4.1"),
        ("openrouter:openai/gpt-4.1", "openrouter", "openai/gpt-4.1"),
        ("ollama:llama3:8b", "ollama", "llama3:8b"),  # only the first colon splits
        ("gpt-4.1", None, "gpt-4.1"),
        ("  gpt-4.1\t", None, "gpt-4.1"),
        ("a:" + "m" * MODEL_ID_MAX, "a", "m" * MODEL_ID_MAX),
        ("p" * 64 + ":x", "p" * 64, "x"),
        ("0.a_b-c:x", "0.a_b-c", "x"),
    ],
)
def test_parse_accepts(text: str, provider: str | None, model_id: str) -> None:
    ref = parse_model(text)
    assert ref == ModelRef(provider, model_id)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "model is empty"),
        ("   ", "model is empty"),
        (":gpt-4.1", "has an empty provider"),
        ("openai:", "has an empty model id"),
        ("openai:  ", "has an empty model id"),
        ("OpenAI:gpt-4.1", "provider 'OpenAI' is not a valid provider id"),
        ("-openai:gpt", "provider '-openai' is not a valid provider id"),
        ("p" * 65 + ":x", "is not a valid provider id"),
        ("open ai:gpt", "provider 'open ai' is not a valid provider id"),
        ("openai:gpt 4", "contains ' '"),
        ("gpt\t4", "contains '\\t'"),
        ("openai:gpt\x00", "contains '\\x00'"),
        ("openai:gpt\x7f", "contains '\\x7f'"),
        ("openai:gpt\x9f", "contains '\\x9f'"),
        ("openai:gpt\ud800", "contains '\\ud800'"),
        ("openai:gpt\udfff", "contains '\\udfff'"),
        (
            "a:" + "m" * (MODEL_ID_MAX + 1),
            f"model id is too long ({MODEL_ID_MAX + 1} characters, at most {MODEL_ID_MAX})",
        ),
    ],
)
def test_parse_rejects_saying_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ModelStringError) as err:
        parse_model(text)
    assert says in str(err.value)
    assert str(err.value).endswith(EXPECTED)


@pytest.mark.parametrize(("value", "name"), [(None, "NoneType"), (3, "int"), (["a:b"], "list")])
def test_parse_rejects_non_strings(value: object, name: str) -> None:
    with pytest.raises(ModelStringError, match=f"model must be a string, got {name}; "):
        parse_model(value)


def test_too_long_text_is_refused_before_any_other_check() -> None:
    text = " " * (MODEL_TEXT_MAX + 1)
    with pytest.raises(
        ModelStringError, match=rf"model is too long \({MODEL_TEXT_MAX + 1} characters"
    ):
        parse_model(text)
    assert parse_model(" " * (MODEL_TEXT_MAX - 3) + "a:b").model == "a:b"  # at the limit: trimmed


def test_long_values_are_shortened_in_messages() -> None:
    long_id = "x" * 100 + " y"
    with pytest.raises(ModelStringError) as err:
        parse_model("openai:" + long_id)
    message = str(err.value)
    assert repr("x" * 57 + "...") in message
    assert "x" * 58 not in message
    with pytest.raises(ModelStringError) as err:
        parse_model("a:" + "b" * 58 + " c")  # exactly 60 characters: shown whole
    assert repr("b" * 58 + " c") in str(err.value)
    with pytest.raises(ModelStringError) as err:
        parse_model("a:" + "b" * 59 + " c")  # 61: shortened
    assert repr("b" * 57 + "...") in str(err.value)


def test_empty_model_id_message_names_the_whole_text() -> None:
    with pytest.raises(ModelStringError, match=r"model 'openai:' has an empty model id"):
        parse_model("openai:")
    with pytest.raises(ModelStringError, match=r"model ':x' has an empty provider"):
        parse_model(":x")


def test_check_model_id_directly() -> None:
    check_model_id("gpt-4.1", whole="gpt-4.1")
    with pytest.raises(ModelStringError, match="model 'whole' has an empty model id"):
        check_model_id("", whole="whole")


def test_ref_model_and_canonical() -> None:
    assert ModelRef("openrouter", "OpenAI/GPT-4.1").model == "openrouter:OpenAI/GPT-4.1"
    assert ModelRef(None, "gpt-4.1").model == "gpt-4.1"
    assert ModelRef("openrouter", "OpenAI/GPT-4.1").canonical == "gpt-4.1"


@pytest.mark.parametrize(
    ("model_id", "canonical"),
    [("gpt-4.1", "gpt-4.1"), ("openai/GPT-4.1", "gpt-4.1"), ("a/b/C", "c"), ("X", "x")],
)
def test_canonical_id(model_id: str, canonical: str) -> None:
    assert canonical_id(model_id) == canonical


providers = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,63}", fullmatch=True)
# PROTOCOL.md section 2's alphabet of a model id (a colon would split differently: left out here)
model_ids = st.from_regex(r"[A-Za-z0-9._/@~+()-]{1,40}", fullmatch=True)


@given(provider=providers, model_id=model_ids)
def test_round_trip(provider: str, model_id: str) -> None:
    ref = parse_model(f"{provider}:{model_id}")
    assert ref == ModelRef(provider, model_id)
    assert parse_model(ref.model) == ref
