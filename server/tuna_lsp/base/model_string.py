"""Model strings: `provider:model_id`, a bare `model_id`, and canonical ids.

Owns the syntax of PROTOCOL.md section 2 and the canonical id of section 5. It knows nothing of
the catalog (whether a provider exists is the catalog's question) nor of the wire protocol.
"""

from __future__ import annotations

import re
from typing import NamedTuple

PROVIDER_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MODEL_ID_MAX = 256
MODEL_TEXT_MAX = 64 + 1 + MODEL_ID_MAX + 64  # generous: whitespace around the colon is trimmed
EXPECTED = (
    "expected 'provider:model_id' (e.g. 'openai:gpt-4.1') or a bare model id (e.g. 'gpt-4.1')"
)
# whitespace, control characters, and lone UTF-16 surrogates (JSON can carry "\ud800", but no
# UTF-8 file or message can: one written to the config broke every later write and notification)
_BAD_ID_CHAR = re.compile(r"[\s\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# PROTOCOL.md 2: model strings end up on command lines and in files other programs read (a
# shell profile, once): nothing a shell would expand is ever accepted.
_OUTSIDE_ALPHABET = re.compile(r"[^A-Za-z0-9._/:@~+()\-]")


class ModelStringError(ValueError):
    """The text is not a model string; the message says what is wrong and the expected form."""


class ModelRef(NamedTuple):
    """A parsed model string. `provider` is None for a bare id, to be resolved by routing."""

    provider: str | None
    model_id: str

    @property
    def model(self) -> str:
        return f"{self.provider}:{self.model_id}" if self.provider else self.model_id

    @property
    def canonical(self) -> str:
        return canonical_id(self.model_id)


def canonical_id(model_id: str) -> str:
    """`openai/gpt-4.1` and `gpt-4.1` are the same model: the last `/` segment, lowercased."""
    return model_id.rsplit("/", 1)[-1].lower()


def _describe(text: str) -> str:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return repr(shown)


def check_model_id(model_id: str, *, whole: str) -> None:
    if not model_id:
        raise ModelStringError(f"model {_describe(whole)} has an empty model id; {EXPECTED}")
    if len(model_id) > MODEL_ID_MAX:
        raise ModelStringError(
            f"model id is too long ({len(model_id)} characters, at most {MODEL_ID_MAX}); {EXPECTED}"
        )
    bad = _BAD_ID_CHAR.search(model_id)
    if bad:
        raise ModelStringError(
            f"model id {_describe(model_id)} contains {bad.group()!r} (no whitespace or control "
            f"characters allowed); {EXPECTED}"
        )
    outside = _OUTSIDE_ALPHABET.search(model_id)
    if outside:
        raise ModelStringError(
            f"model id {_describe(model_id)} contains {outside.group()!r}; a model id uses only "
            f"letters, digits and . _ / : @ ~ + ( ) -; {EXPECTED}"
        )


def parse_model(text: object) -> ModelRef:
    """Parse user input into a ModelRef, or raise ModelStringError saying what is wrong."""
    if not isinstance(text, str):
        raise ModelStringError(f"model must be a string, got {type(text).__name__}; {EXPECTED}")
    if len(text) > MODEL_TEXT_MAX:
        raise ModelStringError(
            f"model is too long ({len(text)} characters; a model id has at most {MODEL_ID_MAX}); "
            f"{EXPECTED}"
        )
    stripped = text.strip()
    if not stripped:
        raise ModelStringError(f"model is empty; {EXPECTED}")
    if ":" not in stripped:
        check_model_id(stripped, whole=stripped)
        return ModelRef(None, stripped)
    provider, model_id = (part.strip() for part in stripped.split(":", 1))
    if not provider:
        raise ModelStringError(f"model {_describe(stripped)} has an empty provider; {EXPECTED}")
    if not PROVIDER_RE.fullmatch(provider):
        raise ModelStringError(
            f"provider {_describe(provider)} is not a valid provider id (lowercase letters, digits, "
            f"'.', '_' or '-', at most 64 characters); {EXPECTED}"
        )
    check_model_id(model_id, whole=stripped)
    return ModelRef(provider, model_id)
