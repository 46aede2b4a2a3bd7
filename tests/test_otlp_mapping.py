"""OTLP GenAI spans -> events, in process: the real SDK and its OTLP encoder, every convention version, otlp_json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from evalstream.scorers.base import ScorerSet
from evalstream.scorers.cost import CostScorer
from evalstream.streams.otlp import EVENT_ID_NAMESPACE, OtlpMapping, OtlpSource, attributes, events_from_record, otlp_source
from evalstream.streams.pipeline import Pipeline, SourceRecord
from evalstream.streams.validate import EventTimeBounds

SERVICE = Path(__file__).with_name("otlp_service.py")
RESOURCE = {
    "service.name": "support-bot",
    "deployment.environment.name": "staging",
    "cloud.region": "eu-west-1",
    "evalstream.tenant": "acme",
    "evalstream.use_case": "rag-qa",
}
CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.input_tokens": 812,
    "gen_ai.usage.output_tokens": 143,
    "gen_ai.usage.cache_read.input_tokens": 512,
    "gen_ai.response.finish_reasons": ("stop",),
}


def encoded(build: Callable[[Any], None], resource: dict[str, Any] | None = None) -> bytes:
    """The bytes the SDK's own OTLP encoder makes of the spans `build` records."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create(RESOURCE if resource is None else resource))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    build(provider.get_tracer("test"))
    return encode_spans(exporter.get_finished_spans()).SerializeToString()


def one_span(attributes: dict[str, Any], events: list[tuple[str, dict[str, Any]]] = (), resource: dict[str, Any] | None = None) -> bytes:
    def build(tracer: Any) -> None:
        with tracer.start_as_current_span("chat gpt-4o-mini", attributes=attributes) as span:
            for name, attrs in events:
                span.add_event(name, attrs)

    return encoded(build, resource)


def test_newer_conventions_messages_attributes_map_onto_the_event() -> None:
    raw = one_span({
        **CHAT,
        "gen_ai.usage.reasoning.output_tokens": 40,
        "gen_ai.prompt.name": "answer-from-docs",
        "gen_ai.prompt.version": "7",
        "gen_ai.input.messages": json.dumps([
            {"role": "system", "parts": [{"type": "text", "content": "Answer briefly."}]},
            {"role": "user", "parts": [{"type": "text", "content": "How long do I have to return an item?"}]},
        ]),
        "gen_ai.output.messages": json.dumps([
            {"role": "assistant", "parts": [{"type": "text", "content": "Within 14 days."}], "finish_reason": "stop"}
        ]),
    })
    result = events_from_record(raw, "otlp_proto", OtlpMapping())
    assert (result.spans, result.ignored, result.unmapped) == (1, 0, [])
    (event,) = result.events
    assert (event.tenant, event.app, event.environment, event.region, event.use_case) == ("acme", "support-bot", "staging", "eu-west-1", "rag-qa")
    assert (event.provider, event.model, event.prompt_id, event.prompt_version) == ("openai", "gpt-4o-mini-2024-07-18", "answer-from-docs", "7")
    assert (event.prompt, event.response, event.finish_reason, event.error_type) == ("How long do I have to return an item?", "Within 14 days.", "stop", None)
    assert event.usage is not None
    assert event.usage.model_dump() == {"input_tokens": 812, "output_tokens": 143, "cached_input_tokens": 512, "reasoning_tokens": 40}
    assert event.latency_ms is not None and 0 <= event.latency_ms < 10_000
    assert event.metadata["source"] == "otlp" and len(event.metadata["trace_id"]) == 32 and len(event.metadata["span_id"]) == 16
    assert event.event_id == uuid.uuid5(EVENT_ID_NAMESPACE, event.metadata["trace_id"] + event.metadata["span_id"])
    assert events_from_record(raw, "otlp_proto", OtlpMapping()).events == [event]  # a replay: the same event, the same id


def test_older_conventions_span_events_user_message_and_choice() -> None:
    raw = one_span(
        {"gen_ai.operation.name": "chat", "gen_ai.system": "anthropic", "gen_ai.request.model": "claude-sonnet-4",
         "gen_ai.usage.input_tokens": 30, "gen_ai.usage.output_tokens": 9},
        [
            ("gen_ai.system.message", {"gen_ai.system": "anthropic", "content": "Answer briefly."}),
            ("gen_ai.user.message", {"gen_ai.system": "anthropic", "content": "Capital of France?"}),
            ("gen_ai.choice", {"index": 0, "finish_reason": "end_turn", "message": json.dumps({"role": "assistant", "content": "Paris."})}),
        ],
    )
    (event,) = events_from_record(raw, "otlp_proto", OtlpMapping()).events
    assert (event.provider, event.model, event.prompt, event.response) == ("anthropic", "claude-sonnet-4", "Capital of France?", "Paris.")
    assert event.usage is not None and event.usage.cached_input_tokens == 0


def test_conventions_1_26_content_events_and_openllmetry_indexed_attributes() -> None:
    raw = one_span(
        {"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4.1", "gen_ai.usage.prompt_tokens": 11, "gen_ai.usage.completion_tokens": 4},
        [
            ("gen_ai.content.prompt", {"gen_ai.prompt": json.dumps([{"role": "user", "content": "Say hi"}])}),
            ("gen_ai.content.completion", {"gen_ai.completion": json.dumps([{"role": "assistant", "content": "Hi!"}])}),
        ],
    )
    (event,) = events_from_record(raw, "otlp_proto", OtlpMapping()).events
    assert (event.model, event.prompt, event.response, event.usage.input_tokens, event.usage.output_tokens) == ("gpt-4.1", "Say hi", "Hi!", 11, 4)

    raw = one_span({**CHAT, "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "Say bye", "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": "Bye!"})
    (event,) = events_from_record(raw, "otlp_proto", OtlpMapping()).events
    assert (event.prompt, event.response) == ("Say bye", "Bye!")


def test_other_spans_are_counted_not_mapped_and_unmappable_genai_spans_say_why() -> None:
    def build(tracer: Any) -> None:
        with tracer.start_as_current_span("POST /ask"):
            with tracer.start_as_current_span("embeddings", attributes={"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai"}):
                pass
            with tracer.start_as_current_span("SELECT orders"):
                pass
            with tracer.start_as_current_span("chat", attributes={**CHAT, "gen_ai.response.model": "", "gen_ai.request.model": ""}):
                pass
            with tracer.start_as_current_span("chat", attributes=CHAT) as failed:
                failed.set_status(Status(StatusCode.ERROR, "upstream 503"))
                failed.set_attribute("error.type", "APIStatusError")

    result = events_from_record(encoded(build), "otlp_proto", OtlpMapping())
    assert (result.spans, result.ignored, len(result.events), len(result.unmapped)) == (5, 3, 1, 1)
    assert result.events[0].error_type == "APIStatusError" and result.events[0].metadata["status_message"] == "upstream 503"
    (invalid, payload), = result.unmapped
    assert invalid.kind == "otlp_unmapped" and "model (gen_ai.response.model or gen_ai.request.model)" in invalid.reason
    assert json.loads(payload)["resource"]["evalstream.tenant"] == "acme"

    no_tenant = events_from_record(one_span(CHAT, resource={"service.name": "support-bot"}), "otlp_proto", OtlpMapping())
    (invalid, _), = no_tenant.unmapped
    assert "tenant (from resource:evalstream.tenant or span:evalstream.tenant)" in invalid.reason


def test_the_mapping_is_configurable_and_checked() -> None:
    source = otlp_source("otlp_spans", "otlp_proto", json.dumps({"tenant": ["resource:k8s.namespace.name"], "region": "=eu"}))
    assert source is not None
    raw = one_span(CHAT, resource={"service.name": "search", "k8s.namespace.name": "globex", "cloud.region": "us-east-1"})
    (event,) = source.read(raw).events
    assert (event.tenant, event.app, event.region) == ("globex", "search", "eu")
    assert otlp_source(None) is None
    with pytest.raises(ValueError, match="fields the mapping does not set"):
        otlp_source("t", "otlp_proto", '{"tennant": ["resource:x"]}')
    with pytest.raises(ValueError, match="must start with"):
        otlp_source("t", "otlp_proto", '{"tenant": ["k8s.namespace.name"]}')
    with pytest.raises(ValueError, match="encoding"):
        otlp_source("t", "otlp_yaml")


def test_otlp_json_as_the_collector_writes_it_hex_ids_and_camel_case() -> None:
    trace_id, span_id = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
    record = {"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "support-bot"}},
            {"key": "evalstream.tenant", "value": {"stringValue": "acme"}},
            {"key": "deployment.environment", "value": {"stringValue": "prod-eu"}},
        ]},
        "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai_v2"}, "spans": [{
            "traceId": trace_id, "spanId": span_id, "name": "chat gpt-4o-mini", "kind": 3,
            "startTimeUnixNano": "1764590400000000000", "endTimeUnixNano": "1764590401250000000",
            "attributes": [
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "25"}},
                {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "6"}},
                {"key": "gen_ai.response.finish_reasons", "value": {"arrayValue": {"values": [{"stringValue": "length"}]}}},
                {"key": "gen_ai.input.messages", "value": {"stringValue": '[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]'}},
                {"key": "gen_ai.output.messages", "value": {"stringValue": '[{"role":"assistant","parts":[{"type":"text","content":"Hello"}]}]'}},
            ],
            "status": {"code": 2, "message": "cut"},
        }]}],
    }]}
    (event,) = events_from_record(json.dumps(record).encode(), "otlp_json", OtlpMapping()).events
    assert (event.metadata["trace_id"], event.metadata["span_id"]) == (trace_id, span_id)
    assert (event.environment, event.region, event.use_case) == ("prod-eu", "unknown", "unknown")  # the documented fallbacks
    assert (event.ts.isoformat(), event.latency_ms) == ("2025-12-01T12:00:00+00:00", 1250.0)
    assert (event.prompt, event.response, event.finish_reason, event.error_type) == ("Hi", "Hello", "length", "error")
    assert event.event_id == uuid.uuid5(EVENT_ID_NAMESPACE, trace_id + span_id)

    for raw, encoding in ((b"\x00\xff not proto", "otlp_proto"), (b'{"resourceSpans": 7}', "otlp_json"), (b"", "otlp_proto")):
        result = events_from_record(raw, encoding, OtlpMapping())
        assert result.events == [] and [i.kind for i, _ in result.unmapped] == ["bad_otlp"], (raw, result)


def test_the_pipeline_turns_one_record_into_rows_and_dead_letters_at_its_offset() -> None:
    def build(tracer: Any) -> None:
        with tracer.start_as_current_span("POST /ask"):
            for i in range(3):
                with tracer.start_as_current_span("chat", attributes={**CHAT, "gen_ai.input.messages": json.dumps([{"role": "user", "content": f"Question {i}"}])}):
                    pass
            with tracer.start_as_current_span("chat", attributes={**CHAT, "gen_ai.provider.name": ""}):
                pass

    source = OtlpSource("otlp_spans")
    pipeline = Pipeline(ScorerSet([CostScorer()]), max_event_bytes=1 << 20, time_bounds=EventTimeBounds(), otlp=source)
    events = SourceRecord("genai.events", 0, 5, None)
    result = pipeline.process([SourceRecord("otlp_spans", 1, 41, encoded(build)), events])
    assert sorted(row.prompt for row in result.rows) == ["Question 0", "Question 1", "Question 2"]
    assert {(row.source_topic, row.source_partition, row.source_offset) for row in result.rows} == {("otlp_spans", 1, 41)}
    assert all(row.cost_usd is not None and row.cost_usd > 0 for row in result.rows)  # priced from the span's model and tokens
    trace_ids = {json.loads(row.metadata)["trace_id"] for row in result.rows}
    assert len(trace_ids) == 1 and all(len(t) == 32 and int(t, 16) for t in trace_ids)  # kept, not redacted
    kinds = sorted((d.record.topic, d.invalid.kind) for d in result.dead_letters)
    assert kinds == [("genai.events", "bad_json"), ("otlp_spans", "otlp_unmapped")]
    letter = json.loads(next(d for d in result.dead_letters if d.record.topic == "otlp_spans").to_json())
    assert letter["payload_encoding"] == "json" and letter["payload"]["attributes"]["gen_ai.provider.name"] == ""
    assert (source.records, source.spans, source.events, source.ignored, source.unmapped) == (1, 5, 3, 1, 1)


def test_spans_of_the_real_openai_instrumentation_map_to_what_they_said(tmp_path: Path) -> None:
    """The OpenAI instrumentation around the openai client, calling a local server, in its own process."""
    out = tmp_path / "spans.bin"
    env = {**os.environ, "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_only"}
    run = subprocess.run(
        [sys.executable, str(SERVICE), "--calls", "3", "--out", str(out), "--resource", json.dumps(RESOURCE)],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    raw = out.read_bytes()
    result = events_from_record(raw, "otlp_proto", OtlpMapping())
    assert (result.spans, result.ignored, result.unmapped) == (6, 3, [])  # 3 chat spans, 3 parents that are not GenAI

    spans = _chat_spans(raw)
    by_span = {e.metadata["span_id"]: e for e in result.events}
    assert set(by_span) == set(spans)
    for span_id, attrs in spans.items():
        event = by_span[span_id]
        assert event.model == attrs["gen_ai.response.model"] and event.provider == attrs["gen_ai.provider.name"]
        assert event.usage is not None
        assert (event.usage.input_tokens, event.usage.output_tokens) == (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"])
        assert event.usage.cached_input_tokens == attrs.get("gen_ai.usage.cache_read.input_tokens", 0)
        assert event.finish_reason == ",".join(attrs["gen_ai.response.finish_reasons"])
    assert sorted((e.prompt, e.response, e.model) for e in result.events) == sorted((a["prompt"], a["response"], a["model"]) for a in answers)


def _chat_spans(raw: bytes) -> dict[str, dict[str, Any]]:
    """The chat spans' attributes, read straight from the protobuf (not through the mapping)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest.FromString(raw)
    spans = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    return {s.span_id.hex(): attributes(s.attributes) for s in spans if s.name.startswith("chat")}



def test_odd_attribute_values_are_dead_letters_never_exceptions() -> None:
    odd = [
        {**CHAT, "gen_ai.usage.input_tokens": "many"},
        {**CHAT, "gen_ai.usage.input_tokens": -3},
        {**CHAT, "gen_ai.usage.cache_read.input_tokens": 10_000},  # more cached than input
        {**CHAT, "gen_ai.response.finish_reasons": 5, "gen_ai.input.messages": "plain text, not JSON", "gen_ai.output.messages": "[1, [2]]"},
        {**CHAT, "gen_ai.response.model": "<script>"},
    ]
    outcomes = [events_from_record(one_span(attrs), "otlp_proto", OtlpMapping()) for attrs in odd]
    assert [len(o.unmapped) for o in outcomes] == [1, 1, 1, 0, 1]
    assert [(e.finish_reason, e.prompt, e.response) for e in outcomes[3].events] == [("5", "plain text, not JSON", "1")]


def test_the_sink_stores_every_event_of_one_record_once(tmp_path: Path) -> None:
    """An OTLP record holds several events at one offset: all are stored, and a replay of the record adds none."""
    code = f"""
import sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_otlp_mapping import *
from evalstream.sinks import ClickHouseSink

def build(tracer):
    for i in range(3):
        with tracer.start_as_current_span("chat", attributes={{**CHAT, "gen_ai.input.messages": '[{{"role": "user", "content": "q%d"}}]' % i}}):
            pass

pipeline = Pipeline(ScorerSet([CostScorer()]), max_event_bytes=1 << 20, otlp=OtlpSource("otlp_spans"))
rows = pipeline.process([SourceRecord("otlp_spans", 0, 7, encoded(build))]).rows
sink = ClickHouseSink("chdb://{tmp_path}/chdb")
print(sink.write(rows), sink.write(rows), sink.write(rows[:1] + rows[:1]))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split()[-3:] == ["3", "0", "0"]
