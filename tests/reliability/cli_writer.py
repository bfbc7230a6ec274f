"""Sets the default model the way the real tunacode CLI does, in a loop, for a fixed time.

Runs inside the tunacode CLI's own virtualenv (tunacode-cli 0.2.3) and calls its own config code:
`load_config`, `record_recent_model`, `set_default_model` (which writes in place: truncate, then
write). HOME must point at the test's home. Prints one JSON line: {"writes", "errors", "last"}.
Usage: cli_writer.py SECONDS MODELS_JSON SEED
"""

from __future__ import annotations

import json
import random
import sys
import time
from types import SimpleNamespace

from tunacode.configuration.user_config import (
    load_config,
    record_recent_model,
    set_default_model,
)


def main() -> None:
    seconds, models, seed = float(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    writes, errors, last = 0, [], None
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        model = rng.choice(models)
        try:
            cfg = load_config()
            record_recent_model(cfg, model)
            set_default_model(model, SimpleNamespace(session=SimpleNamespace(user_config=cfg)))
            writes += 1
            last = model
        except Exception as exc:  # reported, and the test fails on it
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            if len(errors) > 20:
                break
        time.sleep(rng.uniform(0.005, 0.04))  # a person does not pick models back to back
    print(json.dumps({"writes": writes, "errors": errors, "last": last}))


if __name__ == "__main__":
    main()
