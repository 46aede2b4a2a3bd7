"""OpenTelemetry GenAI spans in: one OTLP Kafka record (ExportTraceServiceRequest) -> N events.

The OpenTelemetry Collector's Kafka exporter writes spans to a topic (`otlp_spans`) as
`otlp_proto` (the default) or `otlp_json`. Each inference span (gen_ai.operation.name chat,
text_completion or generate_content) becomes a GenAIEvent by the GenAI semantic conventions and a
configurable mapping of resource attributes (see DEFAULT_MAPPING); other spans store nothing and
are counted. An inference span that does not map (no tenant, no model, ...) becomes a dead
letter with the reason. Pure: no Kafka, no storage.

Conventions read, newest first (the instrumentations in the field emit any of them):
- gen_ai.input.messages / gen_ai.output.messages as span attributes (semconv >= 1.37, the OpenAI
  instrumentation with OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental), or on a
  gen_ai.client.inference.operation.details event;
- span events gen_ai.{system,user,assistant,tool}.message and gen_ai.choice (1.27 - 1.36);
- span events gen_ai.content.prompt / gen_ai.content.completion (1.26);
- indexed attributes gen_ai.prompt.N.content / gen_ai.completion.N.content (OpenLLMetry).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from pydantic import ValidationError

from evalstream.contracts import GenAIEvent, describe_validation_error
from evalstream.streams.validate import Invalid

ENCODINGS = ("otlp_proto", "otlp_json")
INFERENCE_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})
# event_id = uuid5(this, trace_id + span_id): the same span always yields the same event, so a replay is idempotent.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c8e52-3b0d-5a8e-9a41-0d7e0b5c2f11")

# Event field -> where its value comes from, first found wins: `resource:KEY`, `span:KEY`, or `=literal`.
DEFAULT_MAPPING: dict[str, tuple[str, ...]] = {
    "tenant": ("resource:evalstream.tenant", "span:evalstream.tenant"),
    "app": ("resource:service.name",),
    "environment": ("resource:deployment.environment.name", "resource:deployment.environment", "=prod"),
    "region": ("resource:cloud.region", "=unknown"),
    "use_case": ("resource:evalstream.use_case", "span:evalstream.use_case", "=unknown"),
    "prompt_id": ("span:gen_ai.prompt.name", "="),
    "prompt_version": ("span:gen_ai.prompt.version", "="),
}
MAPPED_FIELDS = frozenset(DEFAULT_MAPPING)

_INPUT_EVENTS = {"gen_ai.system.message": "system", "gen_ai.user.message": "user", "gen_ai.assistant.message": "assistant", "gen_ai.tool.message": "tool"}
_DETAILS_EVENT = "gen_ai.client.inference.operation.details"


@dataclass(frozen=True)
class OtlpMapping:
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_MAPPING))

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, Iterable[str] | str] | None) -> OtlpMapping:
        """The default mapping with some fields' sources replaced, e.g. {"tenant": ["resource:k8s.namespace.name"]}."""
        unknown = sorted(set(overrides or {}) - MAPPED_FIELDS)
        if unknown:
            raise ValueError(f"the OTLP mapping names fields the mapping does not set: {unknown}; known: {sorted(MAPPED_FIELDS)}")
        sources = dict(DEFAULT_MAPPING)
        for name, value in (overrides or {}).items():
            entries = (value,) if isinstance(value, str) else tuple(value)
            bad = [e for e in entries if not e.startswith(("resource:", "span:", "="))]
            if bad:
                raise ValueError(f"OTLP mapping of {name!r}: {bad} must start with 'resource:', 'span:' or '='")
            sources[name] = entries
        return cls(sources)

    def value(self, name: str, resource: Mapping[str, Any], span: Mapping[str, Any]) -> str | None:
        for source in self.sources[name]:
            if source.startswith("="):
                return source[1:]
            scope, _, key = source.partition(":")
            found = (resource if scope == "resource" else span).get(key)
            if found not in (None, ""):
                return str(found)
        return None


@dataclass
class OtlpResult:
    """What one Kafka record held: the events, the inference spans that did not map, the rest counted."""

    events: list[GenAIEvent] = field(default_factory=list)
    unmapped: list[tuple[Invalid, bytes]] = field(default_factory=list)  # (why, the span's summary as JSON)
    spans: int = 0
    ignored: int = 0  # spans that are not GenAI inference: stored nowhere


def events_from_record(raw: bytes | None, encoding: str, mapping: OtlpMapping) -> OtlpResult:
    request = decode_request(raw, encoding)
    if isinstance(request, Invalid):
        return OtlpResult(unmapped=[(request, raw or b"")])
    return events_from_request(request, mapping)


def decode_request(raw: bytes | None, encoding: str) -> ExportTraceServiceRequest | Invalid:
    if not raw:
        return Invalid("bad_otlp", "empty message (no value)")
    request = ExportTraceServiceRequest()
    try:
        if encoding == "otlp_json":
            json_format.ParseDict(_ids_as_base64(json.loads(raw)), request, ignore_unknown_fields=True)
        else:
            request.ParseFromString(raw)
    except (DecodeError, json_format.ParseError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        return Invalid("bad_otlp", f"not an OTLP ExportTraceServiceRequest ({encoding}): {type(exc).__name__}: {str(exc)[:300]}")
    return request


def events_from_request(request: ExportTraceServiceRequest, mapping: OtlpMapping) -> OtlpResult:
    result = OtlpResult()
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                result.spans += 1
                attrs = attributes(span.attributes)
                if not is_inference(attrs):
                    result.ignored += 1
                    continue
                try:
                    mapped = span_to_event(span, attrs, resource, mapping)
                except (TypeError, ValueError, AttributeError, OverflowError, RecursionError) as exc:  # a hostile or odd attribute
                    mapped = Invalid("otlp_unmapped", f"GenAI span {span.trace_id.hex()}/{span.span_id.hex()}: {type(exc).__name__}: {str(exc)[:300]}")
                if isinstance(mapped, Invalid):
                    result.unmapped.append((mapped, span_summary(span, attrs, resource)))
                else:
                    result.events.append(mapped)
    return result


def is_inference(attrs: Mapping[str, Any]) -> bool:
    operation = attrs.get("gen_ai.operation.name")
    if operation is not None:
        return operation in INFERENCE_OPERATIONS
    # Semconv 1.26 had no operation name: a model call on a GenAI system.
    return "gen_ai.request.model" in attrs and ("gen_ai.system" in attrs or "gen_ai.provider.name" in attrs)


def span_to_event(span: Span, attrs: Mapping[str, Any], resource: Mapping[str, Any], mapping: OtlpMapping) -> GenAIEvent | Invalid:
    trace_id, span_id = span.trace_id.hex(), span.span_id.hex()
    fields = {name: mapping.value(name, resource, attrs) for name in mapping.sources}
    missing = [f"{name} (from {' or '.join(mapping.sources[name])})" for name, value in fields.items() if value is None]
    provider = attrs.get("gen_ai.provider.name") or attrs.get("gen_ai.system")
    model = attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model")
    missing += [name for name, value in (("provider (gen_ai.provider.name or gen_ai.system)", provider), ("model (gen_ai.response.model or gen_ai.request.model)", model)) if not value]
    if missing:
        return Invalid("otlp_unmapped", f"GenAI span {trace_id}/{span_id} lacks {', '.join(missing)}")
    prompt, response = prompt_and_response(span, attrs)
    event = {
        "event_id": str(uuid.uuid5(EVENT_ID_NAMESPACE, trace_id + span_id)),
        "ts": datetime.fromtimestamp(span.start_time_unix_nano / 1e9, tz=timezone.utc),
        **fields,
        "provider": str(provider),
        "model": str(model),
        "prompt": prompt,
        "response": response,
        "usage": usage(attrs),
        "latency_ms": max(0, span.end_time_unix_nano - span.start_time_unix_nano) / 1e6 if span.end_time_unix_nano else None,
        "finish_reason": _finish_reason(attrs),
        "error_type": _error_type(span, attrs),
        "metadata": _metadata(span, attrs, trace_id, span_id),
    }
    try:
        return GenAIEvent.model_validate(event)
    except ValidationError as exc:
        return Invalid("schema", f"GenAI span {trace_id}/{span_id}: {describe_validation_error(exc, root='event')}")


def usage(attrs: Mapping[str, Any]) -> dict[str, int] | None:
    input_tokens = _first(attrs, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
    output_tokens = _first(attrs, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
    if input_tokens is None or output_tokens is None:
        return None
    cached = _first(attrs, "gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens", "gen_ai.usage.cached_tokens")
    reasoning = _first(attrs, "gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens")
    return {"input_tokens": int(input_tokens), "output_tokens": int(output_tokens), "cached_input_tokens": int(cached or 0), "reasoning_tokens": int(reasoning or 0)}


def prompt_and_response(span: Span, attrs: Mapping[str, Any]) -> tuple[str, str]:
    """The last user message and the first choice's text, by whichever convention the span follows ("" if none)."""
    events = [(e.name, attributes(e.attributes)) for e in span.events]
    details = next((a for name, a in events if name == _DETAILS_EVENT), {})
    for source in (attrs, details):
        if "gen_ai.input.messages" in source or "gen_ai.output.messages" in source:
            return _prompt_of(_messages(source.get("gen_ai.input.messages"))), _response_of(_messages(source.get("gen_ai.output.messages")))
    inputs = [{"role": _INPUT_EVENTS[name], **_event_body(a)} for name, a in events if name in _INPUT_EVENTS]
    choices = [_event_body(a) for name, a in events if name == "gen_ai.choice"]
    if inputs or choices:
        return _prompt_of(inputs), _response_of([c.get("message", c) for c in choices])
    prompts = [a.get("gen_ai.prompt") for name, a in events if name == "gen_ai.content.prompt"]
    completions = [a.get("gen_ai.completion") for name, a in events if name == "gen_ai.content.completion"]
    if prompts or completions:
        return _prompt_of(_messages(prompts[-1] if prompts else None)), _response_of(_messages(completions[0] if completions else None))
    return _prompt_of(_indexed(attrs, "gen_ai.prompt")), _response_of(_indexed(attrs, "gen_ai.completion"))


def _messages(value: Any) -> list[dict[str, Any]]:
    """Messages as a list of dicts, from a JSON string, a structured value, or plain text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [{"role": "user", "content": value}]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    return [m if isinstance(m, dict) else {"content": m} for m in value]


def _text(message: Mapping[str, Any]) -> str:
    """The text of a message: its text parts (newer conventions), or its content (string or a list of parts)."""
    parts = message.get("parts")
    if parts is None:
        parts = message.get("content")
    if isinstance(parts, str):
        return parts
    if isinstance(parts, dict):
        return _text(parts)
    if not isinstance(parts, list):
        return "" if parts is None else str(parts)
    texts = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type", "text") == "text":
            texts.append(str(part.get("content") or part.get("text") or ""))
    return "\n".join(t for t in texts if t)


def _prompt_of(messages: list[dict[str, Any]]) -> str:
    users = [m for m in messages if m.get("role") == "user"]
    if users:
        return _text(users[-1])
    return "\n".join(t for t in (_text(m) for m in messages if m.get("role") not in ("system", "developer")) if t)


def _response_of(messages: list[dict[str, Any]]) -> str:
    return _text(messages[0]) if messages else ""


def _event_body(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """An older convention's event on a span: its body in `gen_ai.event.content` / `body` (JSON), or as attributes."""
    for key in ("gen_ai.event.content", "body"):
        if key in attrs:
            body = _messages(attrs[key])
            return body[0] if body else {}
    body = dict(attrs)
    if isinstance(body.get("message"), str):
        body["message"] = (_messages(body["message"]) or [{}])[0]
    return body


def _indexed(attrs: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        parts = key.split(".")
        if key.startswith(prefix + ".") and len(parts) == 4 and parts[2].isdigit() and parts[3] in ("role", "content"):
            found.setdefault(int(parts[2]), {})[parts[3]] = value
    return [found[i] for i in sorted(found)]


def _finish_reason(attrs: Mapping[str, Any]) -> str | None:
    reasons = attrs.get("gen_ai.response.finish_reasons")
    if isinstance(reasons, str):
        return reasons or None
    if not isinstance(reasons, list):
        return None if reasons is None else str(reasons)
    return ",".join(dict.fromkeys(str(r) for r in reasons or [])) or None


def _error_type(span: Span, attrs: Mapping[str, Any]) -> str | None:
    if "error.type" in attrs:
        return str(attrs["error.type"])
    return "error" if span.status.code == Status.STATUS_CODE_ERROR else None


def _metadata(span: Span, attrs: Mapping[str, Any], trace_id: str, span_id: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"source": "otlp", "trace_id": trace_id, "span_id": span_id, "span_name": span.name}
    if span.parent_span_id:
        meta["parent_span_id"] = span.parent_span_id.hex()
    for key in ("gen_ai.operation.name", "gen_ai.request.model", "gen_ai.response.id", "gen_ai.conversation.id", "server.address"):
        if key in attrs:
            meta[key] = attrs[key]
    if span.status.message:
        meta["status_message"] = span.status.message[:1000]
    return meta


def span_summary(span: Span, attrs: Mapping[str, Any], resource: Mapping[str, Any]) -> bytes:
    """A dead letter's payload: the span as JSON (redacted like any dead letter), not the whole record."""
    summary = {"trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(), "name": span.name, "resource": resource, "attributes": attrs}
    return json.dumps(summary, default=str).encode()


def attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in pairs}


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def _first(attrs: Mapping[str, Any], *keys: str) -> Any:
    return next((attrs[k] for k in keys if attrs.get(k) is not None), None)


def _ids_as_base64(document: Any) -> Any:
    """OTLP/JSON writes trace and span ids as hex, where protobuf's JSON mapping expects base64."""
    import base64

    def convert(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"):
                if isinstance(node.get(key), str) and node[key]:
                    node[key] = base64.b64encode(bytes.fromhex(node[key])).decode()
            for child in node.values():
                convert(child)
        elif isinstance(node, list):
            for child in node:
                convert(child)

    convert(document)
    return document


@dataclass
class OtlpSource:
    """The OTLP spans topic as the pipeline reads it, with what it has seen (the workers log these counts)."""

    topic: str
    encoding: str = "otlp_proto"
    mapping: OtlpMapping = field(default_factory=OtlpMapping)
    records: int = 0
    spans: int = 0
    events: int = 0
    ignored: int = 0
    unmapped: int = 0

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise ValueError(f"OTLP encoding {self.encoding!r} is not one of {ENCODINGS}")

    def read(self, raw: bytes | None) -> OtlpResult:
        result = events_from_record(raw, self.encoding, self.mapping)
        self.records += 1
        self.spans += result.spans
        self.events += len(result.events)
        self.ignored += result.ignored
        self.unmapped += len(result.unmapped)
        return result

    def progress(self) -> str:
        return f"otlp: records={self.records} spans={self.spans} events={self.events} ignored={self.ignored} unmapped={self.unmapped}"


def otlp_source(topic: str | None, encoding: str = "otlp_proto", mapping_json: str | None = None) -> OtlpSource | None:
    """The OTLP source the settings (EVALSTREAM_OTLP_TOPIC, _ENCODING, _MAPPING) describe; None when off."""
    if not topic:
        return None
    try:
        overrides = json.loads(mapping_json) if mapping_json else None
    except ValueError as exc:
        raise ValueError(f"EVALSTREAM_OTLP_MAPPING is not JSON: {exc}") from None
    if overrides is not None and not isinstance(overrides, dict):
        raise ValueError('EVALSTREAM_OTLP_MAPPING must be a JSON object, e.g. {"tenant": ["resource:k8s.namespace.name"]}')
    return OtlpSource(topic, encoding, OtlpMapping.with_overrides(overrides))
