"""Reliability suites (issue 6): crash consistency, concurrency, bad input, permissions, secrets.

Each suite runs a short version by default (part of `make test`) and a long one with
TUNA_RELIABILITY=full (`make reliability`). Figures land in .cache/reliability-results.jsonl;
`python tests/reliability/report.py` prints them as a markdown table.
"""
