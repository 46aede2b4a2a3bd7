"""Seeded data in chdb for the tests of the boards and of the alert rules: three days of traffic
over several keys, and in the last minutes four dense keys for the alert rules: TOXIC_KEY (20%
toxic), UNFAITHFUL_KEY (faithfulness 0.25, all flagged unfaithful), REFUSAL_KEY (25% refusals), HEALTHY_KEY.

chdb opens one data directory per process: each group of tests gets a database of its own in it.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest

from evalstream.drift.statistics import Statistic
from evalstream.sinks import ClickHouseSink

CHDB_DIR = Path(tempfile.gettempdir()) / f"evalstream-tests-chdb-{os.getpid()}"
atexit.register(shutil.rmtree, CHDB_DIR, True)

NOW = datetime.now(timezone.utc).replace(microsecond=0)
HOUR = NOW.replace(minute=0, second=0)
TOXIC_KEY = ("acme", "support-bot", "gpt-4o-mini", "eu")
UNFAITHFUL_KEY = ("globex", "doc-search", "gpt-4.1", "us")
HEALTHY_KEY = ("acme", "doc-search", "gpt-4.1", "us")
REFUSAL_KEY = ("globex", "support-bot", "gpt-4o-mini", "eu")


def event_row(offset: int, ts: datetime, key: tuple[str, str, str, str], prompt_version: str, *, toxic: bool,
              faithfulness: float | None, partition: int = 0, refusal: bool | None = None) -> dict[str, Any]:
    tenant, app, model, region = key
    unknown_model = model == "in-house-llm"
    # scores on a 1/1024 grid: float sums are exact, so rollup and raw answers compare exactly
    return {
        "event_id": uuid.uuid4(), "ts": ts, "tenant": tenant, "app": app, "environment": "prod", "region": region,
        "use_case": "rag-qa", "provider": "openai", "model": model, "prompt_id": "answer", "prompt_version": prompt_version,
        "prompt": "q", "context": [] if faithfulness is None else ["ctx"], "response": "a", "has_context": faithfulness is not None,
        "latency_ms": float(300 + offset % 50 * 20) if offset % 9 else None, "error_type": "" if offset % 23 else "timeout",
        "input_tokens": 700 + offset % 100, "output_tokens": 120, "cost_usd": None if unknown_model else Decimal("0.000231") + Decimal(offset % 7) / Decimal(10**9),
        "cost_unknown_model": unknown_model, "toxicity": (offset * 37 % 512) / 1024 + (0.5 if toxic else 0.0), "toxic": toxic,
        "faithfulness": faithfulness, "unfaithful": None if faithfulness is None else faithfulness < 0.5,
        "relevance": (offset * 59 % 1024) / 1024, "refusal": offset % 50 == 0 if refusal is None else refusal,
        "source_topic": "genai.events", "source_partition": partition, "source_offset": offset,
        "ingested_at": ts + timedelta(milliseconds=150 + offset % 8 * 100),
    }


def seeded_rows() -> list[dict[str, Any]]:
    tenants, apps, models, regions = ("acme", "globex"), ("support-bot", "doc-search"), ("gpt-4o-mini", "gpt-4.1", "in-house-llm"), ("eu", "us")
    rows, offset = [], 0
    background = 2400
    for i in range(background):  # one event every 108 s over the last three days
        key = (tenants[i % 2], apps[i // 2 % 2], models[i % 3], regions[i // 3 % 2])
        faithfulness = None if i % 4 == 0 else ((i * 101 % 512) + 400) / 1024
        rows.append(event_row(offset, NOW - timedelta(days=3) + timedelta(seconds=108 * i), key, ("7", "8")[i // 7 % 2],
                              toxic=i % 40 == 0, faithfulness=faithfulness, partition=i % 4))
        offset += 1
    dense = ((TOXIC_KEY, 5, 0.75, 10**6), (UNFAITHFUL_KEY, 10**6, 0.25, 10**6), (REFUSAL_KEY, 10**6, 0.75, 4), (HEALTHY_KEY, 100, 0.75, 100))
    for key, toxic_every, faithfulness, refusal_every in dense:
        for i in range(250):  # 250 events in the last ~8 minutes
            rows.append(event_row(offset, NOW - timedelta(seconds=480 - i * 1.9), key, "7", toxic=i % toxic_every == 0,
                                  faithfulness=faithfulness, partition=offset % 4, refusal=i % refusal_every == 1))
            offset += 1
    return rows


def alert_rows() -> list[list[Any]]:
    def alert(fingerprint, ts, state, severity, key, statistic, window, baseline):
        tenant, app, model, region = key
        return [fingerprint, ts, state, severity, tenant, app, "rag-qa", model, "7", region, statistic, "drift",
                window, baseline, 1240, 0.0004, ["e1", "e2"], "global/eu", "https://runbooks.example.com/t", f"{statistic} drifted"]

    return [
        alert("fp-toxic", NOW - timedelta(hours=2), "firing", "critical", TOXIC_KEY, Statistic.TOXICITY_RATE, 0.061, 0.004),
        alert("fp-old", NOW - timedelta(hours=30), "firing", "warning", UNFAITHFUL_KEY, Statistic.FAITHFULNESS, 0.42, 0.71),
        alert("fp-old", NOW - timedelta(hours=26), "resolved", "warning", UNFAITHFUL_KEY, Statistic.FAITHFULNESS, 0.70, 0.71),
    ]


ALERT_COLUMNS = ["fingerprint", "ts", "state", "severity", "tenant", "app", "use_case", "model", "prompt_version", "region",
                 "statistic", "detector", "window_value", "baseline_value", "sample_size", "p_value", "sample_event_ids",
                 "policy", "runbook_url", "summary"]


def new_database() -> tuple[str, Any]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    clickhouse_connect.get_client(dsn=f"chdb://{CHDB_DIR}").command(f"CREATE DATABASE {name}")
    dsn = f"chdb://{CHDB_DIR}?database={name}"
    return name, ClickHouseSink(dsn)  # applies the migrations


@functools.cache
def seeded_client() -> Any:
    """A database with the seeded rows, feedback and alerts, built once per process (it takes seconds)."""
    _, sink = new_database()
    rows = seeded_rows()
    for start in range(0, len(rows), 500):
        sink.write(rows[start:start + 500])
    labelled = [r for r in rows[:2400:23] if r["faithfulness"] is not None]  # across the three days
    feedback = [[r["event_id"], r["ts"], r["ts"] + timedelta(hours=1), r["tenant"], r["app"], label, value, "ann-1", ""]
                for r in labelled for label, value in (("toxic", float(r["toxic"])), ("faithful", 1.0 if r["faithfulness"] >= 0.6 else 0.0))]
    sink.client.insert("feedback", feedback, column_names=["event_id", "event_ts", "ts", "tenant", "app", "label", "value", "annotator", "comment"])
    sink.client.insert("alerts", alert_rows(), column_names=ALERT_COLUMNS)
    return sink.client


@pytest.fixture(scope="session")
def seeded() -> Any:
    """The seeded database's client (import this fixture where it is used)."""
    return seeded_client()
