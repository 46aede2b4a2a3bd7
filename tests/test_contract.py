"""The event contract: what services may send, and what they get told when they may not."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from conftest import REPO, make_event
from evalstream.producer import GenAIEvent
from evalstream.producer.contract import json_schema


def test_a_full_event_round_trips() -> None:
    event = GenAIEvent.model_validate(make_event(0))
    again = GenAIEvent.model_validate_json(event.model_dump_json())
    assert again == event
    assert again.usage.cached_input_tokens == 512


def test_unknown_keys_are_kept_in_metadata_not_rejected() -> None:
    event = GenAIEvent.model_validate(make_event(0, trace_id="abc123", metadata={"user_tier": "pro"}))
    assert event.metadata == {"trace_id": "abc123", "user_tier": "pro"}


def test_context_and_usage_may_be_missing() -> None:
    data = make_event(0, context=None)
    del data["usage"]
    event = GenAIEvent.model_validate(data)
    assert event.context is None and event.usage is None


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"ts": "2026-11-20T10:00:00"}, "ts"),
        ({"usage": {"input_tokens": 10, "output_tokens": 5, "cached_input_tokens": 11}}, "usage"),
        ({"usage": {"input_tokens": 10, "output_tokens": 5, "reasoning_tokens": 6}}, "usage"),
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"tenant": ""}, "tenant"),
        ({"schema_version": "99"}, "schema_version"),
        ({"context": "one passage, not a list"}, "context"),
    ],
)
def test_invalid_events_name_the_field(overrides: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        GenAIEvent.model_validate(make_event(0, **overrides))
    assert field in {str(e["loc"][0]) for e in err.value.errors()}


def test_the_published_json_schema_matches_the_model() -> None:
    published = json.loads((REPO / "producer" / "event.schema.json").read_text())
    assert published == json_schema(), "run `evalstream schema` and commit producer/event.schema.json"


def test_the_producer_package_imports_nothing_heavy() -> None:
    import subprocess
    import sys

    code = "import sys, evalstream.producer; bad = sorted(m for m in ('faust', 'torch', 'clickhouse_connect', 'evalstream.streams', 'evalstream.scorers') if m in sys.modules); print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_producer_distribution_depends_only_on_confluent_kafka_and_pydantic() -> None:
    from importlib.metadata import requires

    names = sorted(r.split(">")[0].split("<")[0].split("=")[0].strip() for r in requires("evalstream-producer") or [])
    assert names == ["confluent-kafka", "pydantic"]


@pytest.mark.parametrize(
    "overrides, field",
    [
        # Columns are UInt32: a count ClickHouse cannot hold must be refused here, not retried forever.
        ({"usage": {"input_tokens": 2**32, "output_tokens": 5}}, "usage"),
        ({"usage": {"input_tokens": 10, "output_tokens": 2**40}}, "usage"),
        # Infinity and NaN would poison the latency rollups for good.
        ({"latency_ms": float("inf")}, "latency_ms"),
        ({"latency_ms": float("nan")}, "latency_ms"),
        # Names reach Slack, URLs and logs: no markup, control or bidi characters.
        ({"tenant": "<!channel>"}, "tenant"),
        ({"app": "bot\nnext line"}, "app"),
        ({"model": "gpt\u202e4o"}, "model"),
        ({"prompt_version": "7|evil"}, "prompt_version"),
    ],
)
def test_values_outside_what_storage_and_channels_hold_are_refused(overrides: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        GenAIEvent.model_validate(make_event(0, **overrides))
    assert field in {str(e["loc"][0]) for e in err.value.errors()}


def test_non_finite_json_numbers_are_refused() -> None:
    raw = json.dumps(make_event(0)).replace('"latency_ms": 930', '"latency_ms": Infinity')
    assert "Infinity" in raw
    with pytest.raises(ValidationError):
        GenAIEvent.model_validate_json(raw)
    with pytest.raises(ValidationError):
        GenAIEvent.model_validate(json.loads(raw))


def test_usual_names_stay_valid() -> None:
    for model in ("gpt-4o-mini", "meta-llama/Llama-3.1-70B", "claude-3.5-sonnet@20240620", "mistral:7b"):
        GenAIEvent.model_validate(make_event(0, model=model, region="eu-west-1", app="Support Bot", prompt_version="v7.1"))
