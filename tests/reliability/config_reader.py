"""Reads the shared config over and over for a fixed time, and reports what it saw (one JSON line).

Started as its own process by the concurrency suite, so its reads really race the servers'
writes. Standard library only. Usage: config_reader.py CONFIG EXPECTED_JSON SECONDS
EXPECTED_JSON holds {"config": the config the test wrote, "models": the models that may be set}.
"""

from __future__ import annotations

import json
import sys
import time

OWN = ("default_model", "recent_models")  # the only keys the server changes


def main() -> None:
    path, expected_path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    with open(expected_path, encoding="utf-8") as f:
        spec = json.load(f)
    expected = {k: v for k, v in spec["config"].items() if k not in OWN}
    models = set(spec["models"])
    counts = {"reads": 0, "parseFailures": 0, "emptyReads": 0, "lostValues": 0, "badModels": 0}
    seen: set[str] = set()
    examples: list[str] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with open(path, "rb") as f:
            raw = f.read()
        counts["reads"] += 1
        try:
            data = json.loads(raw)
        except ValueError:
            counts["emptyReads" if not raw.strip() else "parseFailures"] += 1
            if len(examples) < 5:
                examples.append(f"unparsable read of {len(raw)} bytes")
            continue
        lost = [k for k, v in expected.items() if data.get(k) != v]
        if lost:
            counts["lostValues"] += 1
            if len(examples) < 5:
                examples.append(f"lost {lost}")
        model = data.get("default_model")
        if model not in models:
            counts["badModels"] += 1
            if len(examples) < 5:
                examples.append(f"default_model {model!r:.80} was never set")
        else:
            seen.add(model)
        time.sleep(0.0005)  # pacing only: leave the two cores to the servers most of the time
    print(json.dumps({**counts, "modelsSeen": sorted(seen), "examples": examples}))


if __name__ == "__main__":
    main()
