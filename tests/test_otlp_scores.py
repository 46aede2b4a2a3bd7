"""Scores back to tracing: gen_ai.evaluation.result events (OTLP logs) parented to the span each event came from."""

from __future__ import annotations

import json
from typing import Any, Sequence

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from evalstream.contracts import GenAIEvent
from evalstream.scorers.base import ScorerSet
from evalstream.streams.otlp import OtlpSource, attributes
from evalstream.streams.otlp_scores import EVENT_NAME, evaluation_request
from evalstream.streams.pipeline import Pipeline, SourceRecord
from test_otlp_mapping import CHAT, one_span


class Judged:
    """Fixed scores, as the real scorers would set them (no models needed here)."""

    name, version = "judged", "1"
    fields = ("toxicity", "toxic", "toxicity_labels", "faithfulness", "unfaithful", "unsupported_sentences", "relevance", "refusal")

    def score(self, events: Sequence[GenAIEvent]) -> list[dict[str, Any]]:
        return [{"toxicity": 0.91, "toxic": True, "toxicity_labels": {"insult": 0.91, "threat": 0.02}, "faithfulness": 0.25,
                 "unfaithful": True, "unsupported_sentences": ["Returns take 90 days."], "relevance": 0.8, "refusal": False} for _ in events]


def test_each_score_of_a_span_event_goes_back_as_an_evaluation_event_on_that_span() -> None:
    pipeline = Pipeline(ScorerSet([Judged()]), max_event_bytes=1 << 20, otlp=OtlpSource("otlp_spans"))
    plain = json.dumps({"event_id": "8d1f6c1e-0b7a-4c44-9d55-0c6f3f0e2a10", "ts": "2026-11-20T10:00:00Z", "tenant": "acme", "app": "a",
                        "region": "eu", "use_case": "qa", "provider": "openai", "model": "gpt-4o-mini", "prompt": "p", "response": "r"})
    span = one_span({**CHAT, "gen_ai.response.id": "chatcmpl-7"})
    rows = pipeline.process([SourceRecord("otlp_spans", 0, 3, span), SourceRecord("genai.events", 0, 9, plain.encode())]).rows
    assert len(rows) == 2

    request = ExportLogsServiceRequest.FromString(evaluation_request(rows, now_ns=1_764_590_400_000_000_000))
    (resource_logs,) = request.resource_logs
    records = [r for scope in resource_logs.scope_logs for r in scope.log_records]
    span_row = next(r for r in rows if r.source_topic == "otlp_spans")
    meta = json.loads(span_row.metadata)
    assert len(records) == 3  # toxicity, faithfulness, relevance of the span's event; nothing for the plain event
    assert {(r.event_name, r.trace_id.hex(), r.span_id.hex()) for r in records} == {(EVENT_NAME, meta["trace_id"], meta["span_id"])}
    results = {a["gen_ai.evaluation.name"]: a for a in (attributes(r.attributes) for r in records)}
    assert results["toxicity"]["gen_ai.evaluation.score.value"] == 0.91 and results["toxicity"]["gen_ai.evaluation.score.label"] == "toxic"
    assert results["toxicity"]["gen_ai.evaluation.explanation"] == "highest: insult"
    assert results["faithfulness"]["gen_ai.evaluation.score.label"] == "unfaithful"
    assert results["faithfulness"]["gen_ai.evaluation.explanation"] == "unsupported: Returns take 90 days."
    assert results["relevance"]["gen_ai.evaluation.score.label"] == "answered"
    assert all(a["gen_ai.response.id"] == "chatcmpl-7" and a["evalstream.event_id"] == str(span_row.event_id) for a in results.values())

    assert evaluation_request([r for r in rows if r.source_topic != "otlp_spans"]) is None
