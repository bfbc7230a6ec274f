"""Property tests of the shared-config store (in-process, real files): for any valid config, a set
keeps every other value and the key order, and the recents invariants hold."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tuna_lsp.storage.config_store import RECENT_LIMIT, ConfigStore, render, with_model

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
model_ids = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,10}:[A-Za-z0-9./_-]{1,20}", fullmatch=True)
configs = st.fixed_dictionaries(
    {},
    optional={
        "default_model": model_ids,
        "recent_models": st.lists(model_ids, max_size=12),
        "env": st.dictionaries(
            st.from_regex(r"[A-Z_]{1,12}", fullmatch=True), st.text(max_size=20)
        ),
        "settings": st.dictionaries(st.text(max_size=12), json_values, max_size=5),
    },
).flatmap(
    lambda base: st.dictionaries(
        st.text(max_size=12).filter(
            lambda k: k not in base and k not in ("default_model", "recent_models")
        ),
        json_values,
        max_size=4,
    ).map(lambda extra: {**extra, **base})
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, model=model_ids)
def test_set_keeps_everything_else(config: dict[str, Any], model: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "tunacode.json"
        path.write_text(json.dumps(config, indent=4))
        store = ConfigStore(path)
        store.set_model(model)
        saved = json.loads(path.read_text())
        # every key but ours keeps its value and its place
        others = [k for k in config if k not in ("default_model", "recent_models")]
        assert [k for k in saved if k in others] == others
        for key in others:
            assert saved[key] == config[key]
        if "default_model" in config:
            assert list(saved).index("default_model") == list(config).index("default_model")
        assert saved["default_model"] == model
        recents = saved["recent_models"]
        assert recents[0] == model
        assert len(recents) == len(set(recents)) <= RECENT_LIMIT
        old = [r for r in config.get("recent_models", []) if r != model]
        assert recents[1:] == list(dict.fromkeys(old))[: RECENT_LIMIT - 1]
        assert path.read_bytes() == render(saved)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, model=model_ids)
def test_set_is_idempotent(config: dict[str, Any], model: str) -> None:
    once = with_model(config, model)
    assert with_model(once, model) == once
