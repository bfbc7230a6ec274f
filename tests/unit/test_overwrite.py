"""Stale overwrites (core/overwrite.py): what counts as one, and what a restore writes."""

from __future__ import annotations

from typing import Any

from tuna_lsp.core import overwrite as ow

# What the editor wrote: its model first, a key of the user's own, a setting tunacode lacks.
EDITOR: dict[str, Any] = {
    "default_model": "openai:gpt-4o",
    "recent_models": ["openai:gpt-4o", "anthropic:claude-sonnet-4-5"],
    "env": {"OPENAI_API_KEY": "sk-VALUE"},
    "settings": {"theme": "dracula", "mine": 1},
    "hooks": {"pre": ["echo hi"]},
}
# What a running tunacode wrote back: the copy it loaded at start, with its new theme.
STALE: dict[str, Any] = {
    "default_model": "anthropic:claude-sonnet-4-5",
    "recent_models": ["anthropic:claude-sonnet-4-5"],
    "env": {"OPENAI_API_KEY": "sk-VALUE"},
    "settings": {"theme": "nord"},
}


def test_a_stale_copy_is_an_overwrite_naming_both_models_and_the_dropped_keys() -> None:
    found = ow.detect(EDITOR, STALE)
    assert found is not None
    assert (found.model, found.replaced_model) == ("anthropic:claude-sonnet-4-5", "openai:gpt-4o")
    assert found.dropped_keys == ("settings.mine", "hooks")
    assert found.resolution == "pending" and found.at.endswith("Z")


def test_changes_that_are_not_overwrites() -> None:
    # the CLI's own /model re-reads the file: the replaced model stays in the recents
    via_model = {
        **EDITOR,
        "default_model": "openai:o3",
        "recent_models": ["openai:o3", "openai:gpt-4o"],
    }
    assert ow.detect(EDITOR, via_model) is None
    assert ow.detect(EDITOR, {**EDITOR, "settings": {"theme": "nord"}}) is None  # same model
    assert ow.detect({"env": {}}, STALE) is None  # nothing was chosen before
    assert ow.detect({**EDITOR, "default_model": "  "}, STALE) is None
    # a default set by hand, never in the recents, then changed by the CLI: nothing was undone
    by_hand = {**EDITOR, "default_model": "anthropic:claude-opus-4"}
    cli = {**EDITOR, "default_model": "openai:o3", "recent_models": ["openai:o3", "openai:gpt-4o"]}
    assert ow.detect(by_hand, cli) is None


def test_restore_puts_back_the_model_and_the_dropped_keys_and_keeps_the_new_theme() -> None:
    found = ow.detect(EDITOR, STALE)
    assert found is not None
    data = ow.restored(found, STALE)
    assert data is not None
    assert data["default_model"] == "openai:gpt-4o"
    assert data["recent_models"] == ["openai:gpt-4o", "anthropic:claude-sonnet-4-5"]
    assert data["settings"] == {"theme": "nord", "mine": 1}  # new theme kept, dropped key back
    assert data["hooks"] == {"pre": ["echo hi"]}
    assert list(data)[:4] == list(STALE)  # the file's key order stays
    assert STALE["settings"] == {"theme": "nord"}  # the input is not modified


def test_restore_writes_nothing_once_the_file_no_longer_shows_the_overwrite() -> None:
    found = ow.detect(EDITOR, STALE)
    assert found is not None
    assert ow.restored(found, EDITOR) is None  # another window restored it first
    moved_on = {**STALE, "default_model": "openai:o3"}
    assert not ow.still_in_effect(found, moved_on)
    assert ow.restored(found, moved_on) is None
    # a key the user put back by hand is not overwritten with the old value
    partly = {**STALE, "hooks": {"pre": ["new"]}}
    data = ow.restored(found, partly)
    assert data is not None and data["hooks"] == {"pre": ["new"]}


def test_resolved_keeps_everything_but_the_resolution() -> None:
    found = ow.detect(EDITOR, STALE)
    assert found is not None
    kept = found.resolved("kept")
    assert kept.resolution == "kept" and (kept.model, kept.at) == (found.model, found.at)


def test_restore_never_brings_back_an_api_key_the_cli_removed() -> None:
    """A key removed through the CLI may have been revoked: a restore leaves `env` as the
    overwrite wrote it, a key removed from it or the whole object (issue 24, item 9)."""
    editor = {**EDITOR, "env": {"OPENAI_API_KEY": "sk-VALUE", "ANTHROPIC_API_KEY": "sk-OTHER"}}
    revoked = {**STALE, "env": {"ANTHROPIC_API_KEY": "sk-OTHER"}}
    found = ow.detect(editor, revoked)
    assert found is not None and "env.OPENAI_API_KEY" in found.dropped_keys
    data = ow.restored(found, revoked)
    assert data is not None and data["env"] == {"ANTHROPIC_API_KEY": "sk-OTHER"}
    assert data["hooks"] == {"pre": ["echo hi"]}  # other dropped keys still come back
    no_env = {k: v for k, v in STALE.items() if k != "env"}
    found = ow.detect(editor, no_env)
    assert found is not None and "env" in found.dropped_keys
    data = ow.restored(found, no_env)
    assert data is not None and "env" not in data


def test_the_question_names_the_keys_a_restore_leaves_out() -> None:

    editor = {**EDITOR, "env": {"OPENAI_API_KEY": "sk-VALUE"}}
    found = ow.detect(editor, {**STALE, "env": {}})
    assert found is not None
    message = ow.message(found, "/home/u/.config/tunacode.json")
    assert "a restore leaves env.OPENAI_API_KEY out" in message, message
    assert "sk-VALUE" not in message
    plain = ow.detect(EDITOR, STALE)
    assert plain is not None and "leaves" not in ow.message(plain, "/p")
