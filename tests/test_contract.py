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
