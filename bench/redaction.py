"""Redaction on hostile and finding-dense 200k-character texts: CPU seconds each, against the
budget of 2 s per text (a worker must not freeze on one event). The test suite checks only that
time grows linearly with length; the budget lives here.

    .venv/bin/python -m bench.redaction [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tests.test_redact import DENSE, HOSTILE, cpu_seconds_to_redact

RESULTS = Path(__file__).resolve().parent / "results"
BUDGET_SECONDS = 2.0
LENGTH = 200_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    table = Table("text", "CPU s (median)", "min", "max", "within 2 s")
    results = {}
    for name, make in {**HOSTILE, **DENSE}.items():
        text = make(LENGTH)
        runs = [cpu_seconds_to_redact(text)[0] for _ in range(args.repeat)]
        median = statistics.median(runs)
        results[name] = {"median": median, "min": min(runs), "max": max(runs), "within_budget": median < BUDGET_SECONDS}
        table.add_row(name, f"{median:.3f}", f"{min(runs):.3f}", f"{max(runs):.3f}", "yes" if median < BUDGET_SECONDS else "NO")
    Console().print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "redaction.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
