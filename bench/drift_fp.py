"""Drift detectors with the shipped default policy, in-process (the same DriftEngine the workers run):

1. false positives: alerts per key-hour on long runs of stable synthetic traffic, keys at
   different volumes (12, 40 and 120 events a minute), event time, nothing changes;
2. detection delay: event time from a step change in one statistic to the firing alert, for
   a few step sizes, several seeds each (40 events a minute, after 3 h of stable traffic).

Writes bench/results/drift_fp.json and prints both tables.

    .venv/bin/python -m bench.drift_fp [--hours 24] [--keys-per-rate 3] [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from evalstream.drift.engine import DriftEngine, Key
from evalstream.drift.policy import load_policy
from evalstream.drift.statistics import Statistic

RESULTS = Path(__file__).resolve().parent / "results"
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
NORMAL = {
    "toxicity": 0.004, "errors": 0.01, "faithfulness": (8.5, 1.5), "relevance": (7.0, 3.0), "cost": 0.0004, "latency": 900.0,
    "unfaithful": 0.10, "refusals": 0.015,  # the scorers' flags on ordinary traffic
}

STEPS = {  # name: (statistic expected to fire, the change)
    "toxicity 0.4% -> 2%": (Statistic.TOXICITY_RATE, {"toxicity": 0.02}),
    "toxicity 0.4% -> 6%": (Statistic.TOXICITY_RATE, {"toxicity": 0.06}),
    "errors 1% -> 5%": (Statistic.ERROR_RATE, {"errors": 0.05}),
    "faithfulness 0.85 -> 0.75": (Statistic.FAITHFULNESS, {"faithfulness": (7.5, 2.5)}),
    "faithfulness 0.85 -> 0.60": (Statistic.FAITHFULNESS, {"faithfulness": (6.0, 4.0)}),
    "cost x1.5": (Statistic.COST_PER_EVENT, {"cost": 0.0006}),
    "latency x2": (Statistic.LATENCY_P95, {"latency": 1800.0}),
    "unfaithful 10% -> 20%": (Statistic.UNFAITHFUL_RATE, {"unfaithful": 0.20}),
    "refusals 1.5% -> 5%": (Statistic.REFUSAL_RATE, {"refusals": 0.05}),
}


def record(key: Key, ts: datetime, rng: random.Random, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "ts": ts.isoformat(),
        **key._asdict(),
        "toxic": rng.random() < params["toxicity"],
        "faithfulness": rng.betavariate(*params["faithfulness"]),
        "unfaithful": rng.random() < params["unfaithful"],
        "refusal": rng.random() < params["refusals"],
        "relevance": rng.betavariate(*params["relevance"]),
        "cost_usd": f"{params['cost'] * rng.lognormvariate(0, 0.3):.8f}",
        "latency_ms": int(params["latency"] * rng.lognormvariate(0, 0.35)),
        "finish_reason": "stop",
        "error_type": "timeout" if rng.random() < params["errors"] else "",
    }


def false_positives(hours: float, keys_per_rate: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    engine = DriftEngine(load_policy(), {}, {}, {})
    rates = [12, 40, 120]
    keys = [(Key(f"tenant{r}-{i}", "app", "rag-qa", "model", "1", ["eu", "us", "apac"][i % 3]), r) for r in rates for i in range(keys_per_rate)]
    # Each key's events, merged in event time: one event every 60/r seconds, jittered.
    streams = []
    for key, per_minute in keys:
        gap = 60.0 / per_minute
        streams.append((key, gap, rng.uniform(0, gap)))
    alerts, offset, started = [], 0, time.perf_counter()
    clocks = [s[2] for s in streams]
    end = hours * 3600
    while True:
        i = min(range(len(streams)), key=clocks.__getitem__)
        if clocks[i] >= end:
            break
        key, gap, _ = streams[i]
        offset += 1
        alerts += engine.process(record(key, T0 + timedelta(seconds=clocks[i]), rng, NORMAL), offset)
        clocks[i] += gap * rng.uniform(0.5, 1.5)
    pending = sum(1 for raw in engine.keys.values() for t in raw.get("tracks", {}).values() if t[0] == "pending")
    key_hours = len(keys) * hours
    return {
        "keys": len(keys), "hours": hours, "key_hours": key_hours, "records": engine.stats.records,
        "evaluations": engine.stats.evaluations, "alerts": len(alerts), "alerts_per_key_hour": len(alerts) / key_hours,
        # With no alert, the 95% upper bound on the rate (rule of three).
        "upper_95_per_key_hour": (3.0 if not alerts else 1.96 * len(alerts) ** 0.5 + len(alerts)) / key_hours,
        "pending_at_end": pending, "alerted": [a.summary for a in alerts],
        "seconds": round(time.perf_counter() - started, 1), "records_per_s": round(engine.stats.records / (time.perf_counter() - started)),
    }


def detection_delay(change: dict[str, Any], statistic: str, seed: int, *, per_minute: int = 40, warmup_h: float = 3, after_h: float = 1) -> float | None:
    """Minutes of event time from the step to the firing alert for `statistic` (None: not within after_h)."""
    rng = random.Random(seed)
    engine = DriftEngine(load_policy(), {}, {}, {})
    key = Key("acme", "support-bot", "search", "gpt-4o-mini", "7", "us")  # no region/use-case overrides: the global layer
    step_at, gap = warmup_h * 3600, 60.0 / per_minute
    for n in range(int((warmup_h + after_h) * 3600 / gap)):
        t = n * gap
        params = {**NORMAL, **change} if t >= step_at else NORMAL
        for alert in engine.process(record(key, T0 + timedelta(seconds=t), rng, params), n):
            if alert.firing and alert.statistic == statistic:
                return (alert.ts - (T0 + timedelta(seconds=step_at))).total_seconds() / 60
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--keys-per-rate", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    console = Console()

    fp = false_positives(args.hours, args.keys_per_rate, seed=1)
    table = Table("keys", "key-hours", "records", "evaluations", "alerts", "alerts / key-hour", "95% upper bound", title="stable traffic, default policy")
    table.add_row(str(fp["keys"]), f"{fp['key_hours']:.0f}", f"{fp['records']:,}", f"{fp['evaluations']:,}", str(fp["alerts"]), f"{fp['alerts_per_key_hour']:.4f}", f"{fp['upper_95_per_key_hour']:.4f}")
    console.print(table)
    for summary in fp["alerted"]:
        console.print(f"  false alarm: {summary}")

    delays = {}
    table = Table("step (at 40 events/min)", "fires for", "median delay (min)", "range (min)", "missed", title=f"detection delay, {args.seeds} seeds")
    for name, (statistic, change) in STEPS.items():
        found = [detection_delay(change, statistic, seed) for seed in range(args.seeds)]
        hits = [d for d in found if d is not None]
        delays[name] = {"statistic": statistic.value, "delays_min": found}
        table.add_row(name, statistic.value, f"{statistics.median(hits):.0f}" if hits else "-", f"{min(hits):.0f}-{max(hits):.0f}" if hits else "-", str(len(found) - len(hits)))
    console.print(table)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "drift_fp.json").write_text(json.dumps({"false_positives": fp, "detection_delay": delays}, indent=2) + "\n")
    console.print(f"wrote {RESULTS / 'drift_fp.json'}")


if __name__ == "__main__":
    main()
