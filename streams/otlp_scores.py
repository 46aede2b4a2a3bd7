"""Scores back to tracing: each stored event that came from a span gets its scores as OpenTelemetry
`gen_ai.evaluation.result` events, parented to that span (its trace id and span id), so the
service's tracing backend shows them beside the call.

Events are log records in OpenTelemetry: one ExportLogsServiceRequest (otlp_proto) per batch, on
the topic EVALSTREAM_OTLP_SCORES_TOPIC names, which a Collector's Kafka receiver reads as logs
(`encoding: otlp_proto`) and forwards to the tracing backend. Off unless that topic is set.
"""

from __future__ import annotations

import json
import time
from typing import Any, Iterable, Iterator

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

EVENT_NAME = "gen_ai.evaluation.result"
MAX_EXPLANATION_CHARS = 1000
SEVERITY_INFO = 9


def evaluation_request(rows: Iterable[Any], *, now_ns: int | None = None) -> bytes | None:
    """The batch's evaluation events as OTLP logs bytes; None when no row came from a span."""
    now_ns = now_ns or time.time_ns()
    records = [record for row in rows for record in _records(row, now_ns)]
    if not records:
        return None
    scope = ScopeLogs(scope=InstrumentationScope(name="evalstream"), log_records=records)
    resource = Resource(attributes=_attributes({"service.name": "evalstream"}))
    return ExportLogsServiceRequest(resource_logs=[ResourceLogs(resource=resource, scope_logs=[scope])]).SerializeToString()


def evaluations(row: Any) -> Iterator[dict[str, Any]]:
    """(name, score value, label, explanation) of each score the row holds."""
    if row.toxicity is not None:
        labels = row.toxicity_labels or {}
        top = max(labels, key=labels.get) if labels else None
        yield _result("toxicity", row.toxicity, "toxic" if row.toxic else "not_toxic", f"highest: {top}" if top else None)
    if row.faithfulness is not None:
        unsupported = row.unsupported_sentences or []
        yield _result("faithfulness", row.faithfulness, "unfaithful" if row.unfaithful else "faithful",
                      f"unsupported: {' | '.join(unsupported)}" if unsupported else None)
    if row.relevance is not None:
        yield _result("relevance", row.relevance, "refusal" if row.refusal else "answered", None)
    if row.judge_faithfulness is not None:
        yield _result("judge_faithfulness", row.judge_faithfulness, None, row.judge_reason)


def _records(row: Any, now_ns: int) -> list[LogRecord]:
    meta = json.loads(row.metadata or "{}")
    trace_id, span_id = meta.get("trace_id"), meta.get("span_id")
    if meta.get("source") != "otlp" or not trace_id or not span_id:
        return []
    common = {"evalstream.event_id": str(row.event_id), "evalstream.tenant": row.tenant}
    if meta.get("gen_ai.response.id"):
        common["gen_ai.response.id"] = meta["gen_ai.response.id"]
    return [
        LogRecord(
            time_unix_nano=now_ns, observed_time_unix_nano=now_ns, severity_number=SEVERITY_INFO, event_name=EVENT_NAME,
            trace_id=bytes.fromhex(trace_id), span_id=bytes.fromhex(span_id), attributes=_attributes({**result, **common}),
        )
        for result in evaluations(row)
    ]


def _result(name: str, value: float, label: str | None, explanation: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {"gen_ai.evaluation.name": name, "gen_ai.evaluation.score.value": float(value)}
    if label:
        result["gen_ai.evaluation.score.label"] = label
    if explanation:
        result["gen_ai.evaluation.explanation"] = explanation[:MAX_EXPLANATION_CHARS]
    return result


def _attributes(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=AnyValue(double_value=v) if isinstance(v, float) else AnyValue(string_value=str(v))) for k, v in values.items()]
