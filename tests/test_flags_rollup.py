"""Migration 007: the `refusal` and `unfaithful` flags on scored_events and their rollups, on real chdb."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import clickhouse_connect
import pytest

from evalstream.sinks import ClickHouseSink

CHDB_DIR = Path(tempfile.gettempdir()) / f"evalstream-tests-chdb-{os.getpid()}"
atexit.register(shutil.rmtree, CHDB_DIR, True)
KEYS = "tenant, app, use_case, model, provider, prompt_version, region, environment"


@pytest.fixture
def sink() -> Iterator[ClickHouseSink]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = clickhouse_connect.get_client(dsn=f"chdb://{CHDB_DIR}")
    admin.command(f"CREATE DATABASE {name}")
    yield ClickHouseSink(f"chdb://{CHDB_DIR}?database={name}")  # applies the migrations
    admin.command(f"DROP DATABASE {name} SYNC")


def rows(n: int, start: datetime) -> list[dict]:
    out = []
    for i in range(n):
        has_context = i % 3 != 0
        out.append({
            "event_id": uuid.uuid4(), "ts": start + timedelta(seconds=41 * i), "tenant": ("acme", "globex")[i % 2],
            "app": ("support-bot", "doc-search")[i // 2 % 2], "environment": "prod", "region": "eu", "use_case": "rag-qa",
            "provider": "openai", "model": ("gpt-4o-mini", "gpt-4.1")[i // 3 % 2], "prompt_id": "p", "prompt_version": "7",
            "prompt": f"q{i}", "context": ["ctx"] if has_context else [], "response": f"a{i}", "has_context": has_context,
            "latency_ms": 300.0, "error_type": "", "input_tokens": 10, "output_tokens": 10, "cost_usd": None, "cost_unknown_model": True,
            "toxicity": 0.0, "toxic": False, "faithfulness": 0.9 if i % 5 else 0.1 if has_context else None,
            "unfaithful": (i % 5 == 0) if has_context else None, "relevance": 0.8, "refusal": i % 7 == 0,
            "source_topic": "genai.events", "source_partition": 0, "source_offset": i,
        })
    return out


@pytest.mark.parametrize("table, bucket", [("scored_flags_1m", "toStartOfMinute"), ("scored_flags_1h", "toStartOfHour")])
def test_flag_rollups_count_what_the_raw_rows_hold(sink: ClickHouseSink, table: str, bucket: str) -> None:
    assert sink.write(rows(300, datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=3))) == 300
    rolled = sink.client.query(
        f"SELECT bucket, {KEYS}, countMerge(events), sumMerge(refusal_events), countMerge(unfaithful_scored), sumMerge(unfaithful_events)"
        f" FROM {table} GROUP BY bucket, {KEYS} ORDER BY bucket, {KEYS}"
    ).result_rows
    raw = sink.client.query(
        f"SELECT {bucket}(toDateTime(ts)) AS bucket, {KEYS}, count(), sum(refusal), count(unfaithful), sum(unfaithful)"
        f" FROM scored_events GROUP BY bucket, {KEYS} ORDER BY bucket, {KEYS}"
    ).result_rows
    assert rolled == raw
    totals = sink.client.query(f"SELECT sumMerge(refusal_events), countMerge(unfaithful_scored), sumMerge(unfaithful_events) FROM {table}").result_rows[0]
    assert totals == (sum(i % 7 == 0 for i in range(300)), 200, sum(i % 5 == 0 and i % 3 != 0 for i in range(300)))


def test_the_flags_are_stored_beside_their_scores(sink: ClickHouseSink) -> None:
    types = dict(sink.client.query("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'scored_events'").result_rows)
    assert types["refusal"] == "UInt8" and types["unfaithful"] == "Nullable(UInt8)"
