"""Scorer throughput on this machine: one event at a time vs batched as the workers batch, for
short answers and for ~200-token answers with 3 context passages; what the embedding cache
saves when passages repeat; and the same scorers without the fast path (torch, no cache).
Writes bench/results/scorers.json and prints a table.

    .venv/bin/python bench/scorers.py [--batched 512] [--naive 96] [--batch-size 256]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.workload import bench_events
from evalstream.config.settings import ScoringSettings
from evalstream.scorers.registry import default_scorers

RESULTS = Path(__file__).resolve().parent / "results"


def rate(scorers, events, batch_size: int) -> float:
    started = time.perf_counter()
    for i in range(0, len(events), batch_size):
        scorers.score(events[i : i + batch_size])
    return len(events) / (time.perf_counter() - started)


def measure(name: str, events, batch_size: int, settings: ScoringSettings | None = None) -> dict:
    scorers = default_scorers(settings)  # fresh: cold caches for every measurement
    scorers.score(events[:2])  # models loaded and warmed before the clock starts
    embedder = scorers.scorers[1].embedder
    embedder._cache.clear()
    embedder.hits = embedder.misses = 0
    events_per_s = rate(scorers, events[2:], batch_size)
    total = embedder.hits + embedder.misses
    return {"case": name, "events": len(events) - 2, "batch_size": batch_size, "events_per_s": round(events_per_s, 2),
            "embedding_cache_hit_rate": round(embedder.hits / total, 3) if total else 0.0}


def measure_redaction(events) -> dict:
    """What redaction (streams/redact.py) adds per event before scoring: one event at a time."""
    from evalstream.streams.redact import default_redactor, redact_event

    redactor = default_redactor()
    redact_event(events[0], redactor)
    started = time.perf_counter()
    for event in events[1:]:
        redact_event(event, redactor)
    events_per_s = (len(events) - 1) / (time.perf_counter() - started)
    return {"case": "redaction only, 200-token answer, one at a time", "events": len(events) - 1, "batch_size": 1,
            "events_per_s": round(events_per_s, 2), "embedding_cache_hit_rate": 0.0, "ms_per_event": round(1000 / events_per_s, 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batched", type=int, default=512, help="events for the batched runs")
    parser.add_argument("--naive", type=int, default=96, help="events for the one-at-a-time runs")
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()

    import torch

    runs = []
    for long_answers, label in ((False, "short answer"), (True, "200-token answer")):
        runs.append(measure(f"{label}, one at a time", bench_events(args.naive + 2, long_answers=long_answers), 1))
        runs.append(measure(f"{label}, batched", bench_events(args.batched + 2, long_answers=long_answers), args.batch_size))
    runs.append(measure("200-token answer, batched, every passage unique", bench_events(args.batched + 2, unique_passages=True), args.batch_size))
    # The same scorers without the fast path: torch, nothing cached across events or shared between scorers.
    runs.append(measure("200-token answer, one at a time, torch, no cache", bench_events(args.naive + 2), 1,
                        ScoringSettings(embedding_backend="torch", embedding_cache_size=0)))

    runs.append(measure_redaction(bench_events(args.batched + 1)))

    by_case = {r["case"]: r["events_per_s"] for r in runs}
    ratios = {
        "batched_over_one_at_a_time_short": round(by_case["short answer, batched"] / by_case["short answer, one at a time"], 2),
        "batched_over_one_at_a_time_200_tokens": round(by_case["200-token answer, batched"] / by_case["200-token answer, one at a time"], 2),
        "repeated_over_unique_passages": round(by_case["200-token answer, batched"] / by_case["200-token answer, batched, every passage unique"], 2),
        "fast_path_over_no_fast_path_200_tokens": round(by_case["200-token answer, batched"] / by_case["200-token answer, one at a time, torch, no cache"], 2),
    }
    machine = {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "device": "cuda" if torch.cuda.is_available() else "cpu",
               "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, "python": platform.python_version(), "torch": torch.__version__}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scorers.json").write_text(json.dumps({"machine": machine, "runs": runs, "ratios": ratios}, indent=2) + "\n")

    table = Table("case", "events", "batch", "events/s", "cache hits", title=f"scorers on {machine['device']} ({machine['cpu_count']} CPUs)")
    for r in runs:
        table.add_row(r["case"], str(r["events"]), str(r["batch_size"]), f"{r['events_per_s']:.1f}", f"{r['embedding_cache_hit_rate']:.0%}")
    console = Console(width=120)
    console.print(table)
    console.print(ratios)


if __name__ == "__main__":
    main()
