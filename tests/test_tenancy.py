"""Tenant bound to the topic, in process: settings, and the pipeline's check on each event."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from conftest import make_event
from evalstream.config.settings import TopicSettings
from evalstream.scorers.base import ScorerSet
from evalstream.scorers.cost import CostScorer
from evalstream.streams.pipeline import Pipeline, SourceRecord


def tenant_topics() -> TopicSettings:
    return TopicSettings(tenant_topics=True, tenants=["acme", "globex"])


def test_workers_read_one_topic_per_tenant_and_know_each_topics_tenant() -> None:
    topics = tenant_topics()
    assert topics.event_topics() == ["genai.events.acme", "genai.events.globex"]
    assert topics.tenant_of_topic("genai.events.acme") == "acme"
    assert topics.tenant_of_topic("genai.events.dlq") is None and topics.tenant_of_topic("genai.events") is None
    assert TopicSettings().event_topics() == ["genai.events"]  # the default single-topic mode
    assert TopicSettings().tenant_of_topic("genai.events.acme") is None


@pytest.mark.parametrize("tenants", [["dlq"], ["Acme"], ["a.b"], ["x" * 65], ["../etc"]])
def test_tenant_names_that_would_break_a_topic_or_user_name_are_refused(tenants: list[str]) -> None:
    with pytest.raises(ValidationError):
        TopicSettings(tenant_topics=True, tenants=tenants)


def test_tenant_topics_without_tenants_are_refused() -> None:
    with pytest.raises(ValidationError, match="EVALSTREAM_TENANTS"):
        TopicSettings(tenant_topics=True)


def test_an_event_declaring_another_tenant_than_its_topics_is_dead_lettered_with_the_reason() -> None:
    pipeline = Pipeline(ScorerSet([CostScorer()]), max_event_bytes=1 << 20)
    pipeline.tenant_of_topic = tenant_topics().tenant_of_topic
    own, claims_other = make_event(0, tenant="acme"), make_event(1, tenant="globex")
    records = [SourceRecord("genai.events.acme", 0, offset, json.dumps(e).encode()) for offset, e in enumerate([own, claims_other])]
    result = pipeline.process(records)
    assert [str(row.event_id) for row in result.rows] == [own["event_id"]]
    (dead,) = result.dead_letters
    assert dead.invalid.kind == "tenant_mismatch"
    assert "'globex'" in dead.invalid.reason and "'acme'" in dead.invalid.reason
    letter = json.loads(dead.to_json())
    assert letter["error_kind"] == "tenant_mismatch" and letter["reason"] == dead.invalid.reason


def test_without_tenant_topics_the_declared_tenant_is_kept() -> None:
    pipeline = Pipeline(ScorerSet([CostScorer()]), max_event_bytes=1 << 20)
    event = make_event(1, tenant="globex")
    result = pipeline.process([SourceRecord("genai.events", 0, 0, json.dumps(event).encode())])
    assert len(result.rows) == 1 and not result.dead_letters
