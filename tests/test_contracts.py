"""The contracts between stages: the stored row against the real migrations (chdb, in process),
the score record on the wire, scorers' declared fields, one validation-error wording."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Sequence

import pytest
from pydantic import BaseModel, ValidationError

from conftest import make_event
from evalstream.contracts import (
    ROW_FIELDS,
    SCORE_FIELDS,
    DriftKey,
    GenAIEvent,
    ScoreRecord,
    StoredRow,
    describe_validation_error,
    partition_key,
)
from evalstream.scorers import ScorerSet
from evalstream.scorers.base import ScorerContractError
from evalstream.sinks import ClickHouseSink, connect
from evalstream.sinks import migrate as migrations
from evalstream.sinks.columns import SchemaMismatch
from evalstream.streams.pipeline import Pipeline, SourceRecord, score_key, score_record, to_row
from test_schema import database  # noqa: F401  (a fresh chdb database per test)

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def full_row(offset: int, **overrides: Any) -> StoredRow:
    """A row with every field set, to values ClickHouse stores exactly."""
    values: dict[str, Any] = dict(
        event_id=uuid.UUID(int=offset + 1), ts=T0 + timedelta(seconds=offset), tenant="acme", app="support-bot",
        environment="prod", region="eu", use_case="rag-qa", provider="openai", model="gpt-4o-mini", prompt_id="answer",
        prompt_version="7", prompt="How long do refunds take?", context=["Refunds take 5 days."], response="5 days.",
        has_context=True, metadata='{"user_tier": "pro"}', redactions={"EMAIL_ADDRESS": 2}, latency_ms=930.5, finish_reason="stop", error_type="",
        input_tokens=812, output_tokens=143, cached_input_tokens=512, reasoning_tokens=7, tokens_estimated=False,
        cost_usd=Decimal("0.000187000013"), cost_unknown_model=False, toxicity=0.25, toxic=True,
        toxicity_labels={"insult": 0.5}, toxicity_model="minilm-head", prompt_toxicity=0.125,
        prompt_toxicity_labels={"insult": 0.25}, faithfulness=0.75, unfaithful=False, unsupported_sentences=["x."],
        relevance=0.5, refusal=False, judge_faithfulness=0.875, judge_unsupported=["y."], judge_reason="ok",
        judge_model="gpt-4o-mini", scorers={"cost": "genai-prices"}, source_topic="genai.events", source_partition=1,
        source_offset=offset, ingested_at=T0 + timedelta(minutes=1),
    )
    return StoredRow(**{**values, **overrides})


def stored(sink: ClickHouseSink) -> list[dict[str, Any]]:
    names, rows = sink.query("SELECT * FROM scored_events ORDER BY source_offset")
    return [dict(zip(names, row)) for row in rows]


# --- the stored row and the table ----------------------------------------------------------------


def test_every_row_field_round_trips_through_the_migrated_table(database: str) -> None:  # noqa: F811
    row = full_row(0)
    assert [f for f in sorted(ROW_FIELDS) if getattr(row, f) is None] == [], "full_row must set every field"
    sink = ClickHouseSink(database)  # checks the row type against the columns at start
    assert sink.write([row]) == 1
    (back,) = stored(sink)
    assert set(back) == set(ROW_FIELDS)
    for field in ROW_FIELDS:
        value, expected = back[field], getattr(row, field)
        if isinstance(expected, bool):
            value = bool(value)
        if isinstance(value, datetime) and value.tzinfo is None:  # clickhouse-connect reads UTC as naive
            value = value.replace(tzinfo=timezone.utc)
        assert value == expected, field


def test_a_field_without_a_column_stops_the_sink_at_start(database: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    everything = migrations.bundled_migrations()
    monkeypatch.setattr(migrations, "bundled_migrations", lambda: [m for m in everything if m.version <= 6])
    migrations.migrate(connect(database))  # a table before the flags were added
    with pytest.raises(SchemaMismatch, match=r"StoredRow field\(s\) \['redactions', 'refusal', 'unfaithful'\] have no column"):
        ClickHouseSink(database, apply_migrations=False)


def test_a_column_without_default_and_without_field_stops_the_sink_at_start(database: str) -> None:  # noqa: F811
    client = connect(database)
    migrations.migrate(client)
    client.command("ALTER TABLE scored_events ADD COLUMN reviewed_by LowCardinality(String) DEFAULT ''")
    ClickHouseSink(database)  # a column with a default may be left to ClickHouse
    client.command("ALTER TABLE scored_events ADD COLUMN severity_score Float32")
    with pytest.raises(SchemaMismatch, match=r"column\(s\) \['severity_score'\] of scored_events have no default and no StoredRow field"):
        ClickHouseSink(database)


def test_a_key_that_is_no_field_is_refused_not_dropped(database: str) -> None:  # noqa: F811
    sink = ClickHouseSink(database)
    row = {k: getattr(full_row(0), k) for k in ROW_FIELDS}
    with pytest.raises(ValueError, match="toxicty"):
        sink.write([{**row, "toxicty": 0.9}])
    assert stored(sink) == []


def test_fields_nobody_produced_get_the_column_default_and_nullable_ones_stay_null(database: str) -> None:  # noqa: F811
    sink = ClickHouseSink(database)
    event = GenAIEvent.model_validate(make_event(0, context=None))
    row = to_row(event, {"faithfulness": None, "unfaithful": None, "scorers": {}}, SourceRecord("genai.events", 0, 3, b""))
    assert sink.write([row]) == 1
    (back,) = stored(sink)
    assert back["faithfulness"] is None and back["unfaithful"] is None and back["cost_usd"] is None  # Nullable: NULL
    assert back["toxicity"] == 0.0 and back["toxicity_labels"] == {} and back["refusal"] == 0  # not scored: defaults
    assert back["ingested_at"].replace(tzinfo=timezone.utc) > T0  # DEFAULT now64(3)
    with pytest.raises(ValueError, match="column toxicity is not Nullable"):
        sink.write([full_row(10), full_row(11, toxicity=None)])


def test_the_pipeline_sets_every_event_field_of_the_row() -> None:
    event = GenAIEvent.model_validate(make_event(0))
    row = to_row(event, {}, SourceRecord("genai.events", 2, 41, b""))
    unset = sorted(f for f in ROW_FIELDS - SCORE_FIELDS - {"scorers", "ingested_at"} if getattr(row, f) is None)
    assert unset == []
    assert (row.source_topic, row.source_partition, row.source_offset) == ("genai.events", 2, 41)


# --- the score record ----------------------------------------------------------------------------


def test_the_score_record_round_trips_exactly_and_keeps_its_key() -> None:
    row = full_row(5)
    raw = score_record(row)
    data = json.loads(raw)
    assert data["schema_version"] == 1 and "prompt" not in data and "response" not in data  # no text
    assert data["cost_usd"] == "0.000187000013"  # money stays exact on the wire
    record = ScoreRecord.from_json(raw)
    assert record == ScoreRecord.of_row(row)
    assert record.cost_usd == row.cost_usd and record.ts == row.ts and record.event_id == str(row.event_id)
    assert record.drift_key == DriftKey("acme", "support-bot", "rag-qa", "gpt-4o-mini", "7", "eu")
    assert score_key(row) == record.kafka_key == partition_key("acme", "support-bot") == b"acme/support-bot"


def test_a_score_record_reader_ignores_new_fields_and_refuses_a_missing_key_field() -> None:
    data = json.loads(score_record(full_row(0)))
    newer = ScoreRecord.from_json(json.dumps({**data, "coherence": 0.5, "ts": "2026-11-20T10:00:00"}))
    assert newer.ts == T0  # no timezone: UTC
    assert ScoreRecord.from_mapping({**data, "prompt_version": 7}).prompt_version == "7"
    del data["region"]
    with pytest.raises(ValidationError, match="region"):
        ScoreRecord.from_json(json.dumps(data))


def test_the_drift_engine_reads_the_typed_record() -> None:
    from evalstream.drift.engine import DriftEngine
    from evalstream.drift.policy import load_policy

    engine = DriftEngine(load_policy(), {}, {}, {})
    for offset in range(3):
        engine.process(ScoreRecord.from_json(score_record(full_row(offset, ts=T0 + timedelta(minutes=offset)))), offset)
    engine.process({"event_id": "x", "ts": "not a time"}, 3)
    assert (engine.stats.records, engine.stats.invalid) == (3, 1)
    key = ScoreRecord.of_row(full_row(0)).drift_key
    toxic = [stats["toxicity"] for bucket, stats in engine.buckets.items() if bucket.startswith(f"{key.id}@")]
    assert [sum(n for n, _ in toxic), sum(k for _, k in toxic)] == [3, 3]  # three records, each toxic


# --- the alert and its table ----------------------------------------------------------------------


def test_the_alerts_table_stores_the_published_alert_once(database: str) -> None:  # noqa: F811
    from evalstream.contracts import Alert, alert_id, fingerprint
    from evalstream.sinks.alerts import COLUMNS, AlertSink

    assert set(COLUMNS) <= Alert.model_fields.keys()
    key = DriftKey("acme", "support-bot", "rag-qa", "gpt-4o-mini", "7", "eu")
    fp = fingerprint(*key, "toxicity_rate", "drift")
    alert = Alert(
        alert_id=alert_id(fp, "firing", T0, T0), fingerprint=fp, state="firing", severity="critical", ts=T0, started_at=T0,
        **key._asdict(), statistic="toxicity_rate", detector="drift", window_value=0.2, baseline_value=0.01,
        window_start=T0 - timedelta(minutes=10), window_end=T0, sample_size=120, baseline_size=9000,
        baseline_description="baseline, 7 days", p_value=1e-6, policy="global", summary="toxicity rose",
    )
    assert DriftKey.of(alert.model_dump()) == key
    sink = AlertSink(database)
    assert sink.write([alert]) == 1 and sink.write([alert]) == 0  # re-sent after a restart: stored once


# --- scorers declare their fields ----------------------------------------------------------------


class Fixed:
    def __init__(self, name: str, fields: Sequence[str], result: dict[str, Any] | None = None) -> None:
        self.name, self.version, self.fields = name, "1", tuple(fields)
        self.result = result if result is not None else {f: 0.5 for f in fields}

    def score(self, events: Sequence[GenAIEvent]) -> list[dict[str, Any]]:
        return [dict(self.result) for _ in events]


def test_two_scorers_declaring_one_field_is_an_error_at_start() -> None:
    with pytest.raises(ScorerContractError, match="'relevance' is declared by both scorer a and scorer b"):
        ScorerSet([Fixed("a", ["relevance"]), Fixed("b", ["toxicity", "relevance"])])
    with pytest.raises(ScorerContractError, match="'scorers' is declared by both the scorer set and scorer a"):
        ScorerSet([Fixed("a", ["scorers"])])


def test_a_scorer_without_a_declaration_is_refused() -> None:
    class Undeclared:
        name, version = "undeclared", "1"

        def score(self, events):
            return [{} for _ in events]

    with pytest.raises(ScorerContractError, match="undeclared must declare"):
        ScorerSet([Undeclared()])


def test_a_scorer_returning_an_undeclared_field_stops_the_pipeline_not_the_event() -> None:
    pipeline = Pipeline(ScorerSet([Fixed("a", ["relevance"], {"relevance": 0.5, "relevnace": 0.5})]), max_event_bytes=1 << 20)
    with pytest.raises(ScorerContractError, match=r"scorer a returned fields it does not declare: \['relevnace'\]"):
        pipeline.process([SourceRecord("t", 0, 0, json.dumps(make_event(0)).encode())])


def test_declared_fields_must_be_fields_of_the_stored_row() -> None:
    with pytest.raises(ScorerContractError, match=r"\['coherence'\]"):
        Pipeline(ScorerSet([Fixed("a", ["coherence"])]), max_event_bytes=1 << 20)
    with pytest.raises(ScorerContractError, match=r"\['tenant'\]"):  # an event field is not a score
        Pipeline(ScorerSet([Fixed("a", ["tenant"])]), max_event_bytes=1 << 20)


def test_the_shipped_scorers_declare_disjoint_fields_the_row_holds() -> None:
    from evalstream.scorers.cost import CostScorer
    from evalstream.scorers.faithfulness import FaithfulnessScorer
    from evalstream.scorers.llm_judge import LLMJudge
    from evalstream.scorers.relevance import RelevanceScorer
    from evalstream.scorers.toxicity import ToxicityScorer

    declared = [f for cls in (CostScorer, ToxicityScorer, FaithfulnessScorer, RelevanceScorer, LLMJudge) for f in cls.fields]
    assert len(declared) == len(set(declared))
    assert set(declared) <= SCORE_FIELDS
    assert set(declared) == SCORE_FIELDS, "a score field no scorer produces"


# --- one wording of a validation error -----------------------------------------------------------


def test_validation_errors_are_worded_one_way() -> None:
    class Probe(BaseModel):
        a: int
        b: list[int]

    with pytest.raises(ValidationError) as err:
        Probe.model_validate({"a": "x", "b": ["y", "z"]})
    assert describe_validation_error(err.value, limit=2) == (
        "a: Input should be a valid integer, unable to parse string as an integer; "
        "b.0: Input should be a valid integer, unable to parse string as an integer; and 1 more"
    )
    with pytest.raises(ValidationError) as err:
        Probe.model_validate([1])
    assert describe_validation_error(err.value, root="event") == "event: Input should be a valid dictionary or instance of Probe"
