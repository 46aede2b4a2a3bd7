"""The ClickHouse schema: migrations, rollups and the feedback table, on real chdb."""

from __future__ import annotations

import atexit
import math
import os
import shutil
import tempfile
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import clickhouse_connect
import pytest

from evalstream.sinks import ClickHouseSink, connect
from evalstream.sinks import migrate as migrations

# chdb opens one data directory per process: every test here gets its own database in it.
CHDB_DIR = Path(tempfile.gettempdir()) / f"evalstream-tests-chdb-{os.getpid()}"
atexit.register(shutil.rmtree, CHDB_DIR, True)

KEYS = "tenant, app, use_case, model, provider, prompt_version, region, environment"
ROLLUP_TABLES = {"scored_events_1m": "toStartOfMinute", "scored_events_1h": "toStartOfHour"}


@pytest.fixture
def database() -> Iterator[str]:
    """The DSN of a fresh, empty database."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = clickhouse_connect.get_client(dsn=f"chdb://{CHDB_DIR}")
    admin.command(f"CREATE DATABASE {name}")
    yield f"chdb://{CHDB_DIR}?database={name}"
    admin.command(f"DROP DATABASE {name} SYNC")


def scored_rows(n: int, start: datetime, *, first_offset: int = 0, partition: int = 0) -> list[dict[str, Any]]:
    """Rows as the pipeline writes them, varied across keys, with NULL faithfulness (no context),
    NULL latency, unknown-model cost and errors. Scores sit on a 1/1024 grid so that float sums
    are exact whatever the order: a rollup and the raw table can then be compared exactly."""
    rows = []
    for i in range(n):
        has_context = i % 3 != 0
        unknown_model = i % 7 == 0
        rows.append(
            {
                "event_id": uuid.uuid4(),
                "ts": start + timedelta(seconds=37 * i),
                "tenant": ("acme", "globex")[i % 2],
                "app": ("support-bot", "doc-search", "summarizer")[i % 3],
                "environment": "prod",
                "region": ("eu", "us")[i // 2 % 2],
                "use_case": "rag-qa",
                "provider": "openai",
                "model": "in-house-llm" if unknown_model else ("gpt-4o-mini", "gpt-4.1")[i % 2],
                "prompt_id": "answer-from-docs",
                "prompt_version": ("7", "8")[i // 5 % 2],
                "prompt": f"question {i}",
                "context": ["some context"] if has_context else [],
                "response": f"answer {i}",
                "has_context": has_context,
                "latency_ms": None if i % 11 == 0 else float(200 + i % 97 * 13),
                "error_type": "timeout" if i % 17 == 0 else "",
                "input_tokens": 800 + i % 50,
                "output_tokens": 100 + i % 30,
                "cost_usd": None if unknown_model else Decimal("0.000187") + Decimal(i) * Decimal("0.000000000013"),
                "cost_unknown_model": unknown_model,
                "toxicity": (i * 37 % 1024) / 1024,
                "toxic": i % 13 == 0,
                "faithfulness": (i * 101 % 1024) / 1024 if has_context else None,
                "relevance": (i * 59 % 1024) / 1024,
                "source_topic": "genai.events",
                "source_partition": partition,
                "source_offset": first_offset + i,
            }
        )
    return rows


def _aggregates(source: str) -> str:
    """The same aggregates over the raw table (`source` = 'raw') or finished from a rollup's states."""
    raw = source == "raw"
    columns = [
        ("count()", "countMerge(events)"),
        ("sum(toxic)", "sumMerge(toxic_events)"),
        ("avg(toxicity)", "avgMerge(toxicity_avg)"),
        ("quantiles(0.5, 0.95, 0.99)(toxicity)", "quantilesMerge(0.5, 0.95, 0.99)(toxicity_quantiles)"),
        ("count(faithfulness)", "countMerge(faithfulness_scored)"),
        ("avg(faithfulness)", "avgMerge(faithfulness_avg)"),
        ("quantiles(0.1, 0.5)(faithfulness)", "quantilesMerge(0.1, 0.5)(faithfulness_quantiles)"),
        ("avg(relevance)", "avgMerge(relevance_avg)"),
        ("avg(latency_ms)", "avgMerge(latency_avg)"),
        ("quantiles(0.5, 0.95, 0.99)(latency_ms)", "quantilesMerge(0.5, 0.95, 0.99)(latency_quantiles)"),
        ("sum(cost_usd)", "sumMerge(cost_usd)"),
        ("countIf(cost_unknown_model = 1)", "countIfMerge(unknown_cost_events)"),
        ("countIf(error_type != '')", "countIfMerge(error_events)"),
        ("sum(input_tokens)", "sumMerge(input_tokens)"),
        ("sum(output_tokens)", "sumMerge(output_tokens)"),
    ]
    return ",\n".join(raw_sql if raw else merged for raw_sql, merged in columns)


def _comparable(rows: list[tuple]) -> list[tuple]:
    """NaN (a quantile of no values) equal to NaN, so rows compare as values."""
    def value(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            return "nan"
        if isinstance(v, list):
            return [value(x) for x in v]
        return v

    return [tuple(value(v) for v in row) for row in rows]


def rollup_vs_raw(client, table: str) -> tuple[list[tuple], list[tuple]]:
    bucket = ROLLUP_TABLES[table]
    rolled = client.query(
        f"SELECT bucket, {KEYS},\n{_aggregates('rollup')}\nFROM {table} GROUP BY bucket, {KEYS} ORDER BY bucket, {KEYS}"
    ).result_rows
    raw = client.query(
        f"SELECT {bucket}(toDateTime(ts)) AS bucket, {KEYS},\n{_aggregates('raw')}\n"
        f"FROM scored_events GROUP BY bucket, {KEYS} ORDER BY bucket, {KEYS}"
    ).result_rows
    return _comparable(rolled), _comparable(raw)


def _schema(client) -> list[tuple]:
    tables = client.query(
        "SELECT name, engine, create_table_query FROM system.tables WHERE database = currentDatabase() ORDER BY name"
    ).result_rows
    applied = client.query(f"SELECT * FROM {migrations.MIGRATIONS_TABLE} ORDER BY version").result_rows
    return [*tables, *applied]


def test_migrations_apply_on_an_empty_database_and_again_without_change(database: str) -> None:
    client = connect(database)
    applied = migrations.migrate(client)
    assert [m.version for m in applied] == [m.version for m in migrations.bundled_migrations()]
    assert {3, 4} <= {m.version for m in applied}
    tables = {name for name, *_ in client.query("SHOW TABLES").result_rows}
    assert {"scored_events", "scored_events_1m", "scored_events_1h", "ingest_1m", "feedback",
            "scored_events_1m_mv", "scored_events_1h_mv", "ingest_1m_mv"} <= tables

    before = _schema(client)
    assert migrations.migrate(client) == []
    assert ClickHouseSink(database).write(scored_rows(3, datetime.now(timezone.utc))) == 3  # the sink's own migrate too
    assert _schema(client) == before


def test_rollups_answer_as_the_raw_table(database: str) -> None:
    sink = ClickHouseSink(database)
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    rows = scored_rows(600, start)
    # Several inserts and partitions: the rollups hold several partial states per bucket to merge.
    sink.write(rows[:250])
    sink.write(rows[250:400])
    sink.write([{**r, "source_partition": 1} for r in rows[400:]])

    for table in ROLLUP_TABLES:
        rolled, raw = rollup_vs_raw(sink.client, table)
        assert len(raw) > 50
        assert rolled == raw, table

    (total_cost,) = sink.client.query("SELECT sumMerge(cost_usd) FROM scored_events_1h").result_rows[0]
    assert total_cost == sum(r["cost_usd"] for r in rows if r["cost_usd"] is not None)  # exact, to the 1e-12 dollar
    assert isinstance(total_cost, Decimal)
    stored = sink.client.query("SELECT countMerge(rows) FROM ingest_1m").result_rows[0][0]
    assert stored == len(rows)


def test_a_retried_insert_is_counted_once_in_the_rollups(database: str) -> None:
    sink = ClickHouseSink(database)
    rows = scored_rows(40, datetime.now(timezone.utc) - timedelta(minutes=30))
    data = [[r[c] for c in rows[0]] for r in rows]
    # What a retried sink insert does after a timeout whose first try had landed.
    for _ in range(3):
        sink.client.insert("scored_events", data, column_names=list(rows[0]), settings={"insert_deduplication_token": "genai.events:0:0-39:40"})

    counts = sink.client.query(
        "SELECT (SELECT count() FROM scored_events), (SELECT countMerge(events) FROM scored_events_1m), "
        "(SELECT countMerge(events) FROM scored_events_1h), (SELECT countMerge(rows) FROM ingest_1m)"
    ).result_rows[0]
    assert counts == (40, 40, 40, 40)


def test_migration_backfills_rows_stored_before_the_rollups_existed(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = connect(database)
    everything = migrations.bundled_migrations()
    monkeypatch.setattr(migrations, "bundled_migrations", lambda: [m for m in everything if m.version <= 2])
    migrations.migrate(client)
    start = datetime.now(timezone.utc) - timedelta(hours=2)
    old_rows = scored_rows(120, start)
    # Stored by a writer of that time (today's sink refuses a table behind its row type).
    client.insert("scored_events", [list(r.values()) for r in old_rows], column_names=list(old_rows[0]))

    monkeypatch.setattr(migrations, "bundled_migrations", lambda: everything)
    migrations.migrate(client)
    new_rows = scored_rows(80, start + timedelta(minutes=30), first_offset=120)
    ClickHouseSink(database).write(new_rows)  # after the backfill: counted by the views only

    for table in ROLLUP_TABLES:
        rolled, raw = rollup_vs_raw(client, table)
        assert rolled == raw, table
    assert client.query("SELECT countMerge(events) FROM scored_events_1h").result_rows[0][0] == 200
    assert client.query("SELECT countMerge(rows) FROM ingest_1m").result_rows[0][0] == 200


def test_feedback_joins_scored_events_and_a_relabel_replaces_the_label(database: str) -> None:
    sink = ClickHouseSink(database)
    rows = scored_rows(10, datetime.now(timezone.utc) - timedelta(hours=1))
    sink.write(rows)
    labelled = rows[:3]
    columns = ["event_id", "event_ts", "ts", "tenant", "app", "label", "value", "annotator", "comment"]
    first = datetime.now(timezone.utc) - timedelta(minutes=10)
    labels = [[r["event_id"], r["ts"], first, r["tenant"], r["app"], "toxic", 0.0, "ann-1", ""] for r in labelled]
    sink.client.insert("feedback", labels, column_names=columns)
    relabel = [[labelled[0]["event_id"], labelled[0]["ts"], first + timedelta(minutes=5), labelled[0]["tenant"],
                labelled[0]["app"], "toxic", 1.0, "ann-1", "missed the insult"]]
    sink.client.insert("feedback", relabel, column_names=columns)

    latest = """
        SELECT toString(s.event_id), s.model, f.value
        FROM (SELECT tenant, event_id, label, annotator, argMax(value, ts) AS value
              FROM feedback GROUP BY tenant, event_id, label, annotator) AS f
        INNER JOIN scored_events AS s ON s.tenant = f.tenant AND s.event_id = f.event_id
        ORDER BY f.value DESC, s.event_id"""
    result = sink.client.query(latest).result_rows
    assert [(e, v) for e, _, v in result][:1] == [(str(labelled[0]["event_id"]), 1.0)]
    assert sorted(e for e, _, _ in result) == sorted(str(r["event_id"]) for r in labelled)

    sink.client.command("OPTIMIZE TABLE feedback FINAL")
    assert sink.client.query("SELECT count(), sum(value) FROM feedback").result_rows == [(3, 1.0)]
