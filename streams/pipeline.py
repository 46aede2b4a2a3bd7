"""One batch through the flow: validate -> redact -> score -> rows. No Kafka, no storage here."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

from evalstream.producer import GenAIEvent
from evalstream.scorers import ScorerSet
from evalstream.streams.redact import redact_event
from evalstream.streams.validate import Invalid, parse_event


@dataclass(frozen=True)
class SourceRecord:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    key: bytes | None = None


@dataclass(frozen=True)
class DeadLetter:
    record: SourceRecord
    invalid: Invalid

    def to_json(self) -> bytes:
        """The dead letter keeps the whole original payload, so nothing is lost."""
        raw = self.record.value or b""
        try:
            payload, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            payload, encoding = base64.b64encode(raw).decode(), "base64"
        return json.dumps(
            {
                "error_kind": self.invalid.kind,
                "reason": self.invalid.reason,
                "source": {"topic": self.record.topic, "partition": self.record.partition, "offset": self.record.offset},
                "dead_lettered_at": datetime.now(timezone.utc).isoformat(),
                "payload_bytes": len(raw),
                "payload_encoding": encoding,
                "payload": payload,
            }
        ).encode()


@dataclass
class BatchResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)


class Pipeline:
    def __init__(self, scorers: ScorerSet, *, max_event_bytes: int, redact_pii: bool = True) -> None:
        self.scorers = scorers
        self.max_event_bytes = max_event_bytes
        self.redact_pii = redact_pii

    def parse(self, record: SourceRecord) -> GenAIEvent | Invalid:
        parsed = parse_event(record.value, max_bytes=self.max_event_bytes)
        if isinstance(parsed, GenAIEvent) and self.redact_pii:
            parsed = redact_event(parsed)
        return parsed

    def process(self, records: Sequence[SourceRecord]) -> BatchResult:
        result = BatchResult()
        valid: list[tuple[SourceRecord, GenAIEvent]] = []
        for record in records:
            parsed = self.parse(record)
            if isinstance(parsed, Invalid):
                result.dead_letters.append(DeadLetter(record, parsed))
            else:
                valid.append((record, parsed))
        try:
            scores = self.scorers.score([event for _, event in valid])
        except Exception:  # one event broke a scorer: find it, dead-letter it, keep the rest
            return self._process_one_by_one(valid, result)
        result.rows = [to_row(event, score, record) for (record, event), score in zip(valid, scores)]
        return result

    def _process_one_by_one(self, valid: list[tuple[SourceRecord, GenAIEvent]], result: BatchResult) -> BatchResult:
        for record, event in valid:
            try:
                (score,) = self.scorers.score([event])
            except Exception as exc:
                result.dead_letters.append(DeadLetter(record, Invalid("scoring_failed", f"{type(exc).__name__}: {exc}")))
                continue
            result.rows.append(to_row(event, score, record))
        return result


def to_row(event: GenAIEvent, scores: dict[str, Any], source: SourceRecord) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "ts": event.ts,
        "tenant": event.tenant,
        "app": event.app,
        "environment": event.environment,
        "region": event.region,
        "use_case": event.use_case,
        "provider": event.provider,
        "model": event.model,
        "prompt_id": event.prompt_id,
        "prompt_version": event.prompt_version,
        "prompt": event.prompt,
        "context": event.context or [],
        "response": event.response,
        "has_context": event.context is not None,
        "metadata": json.dumps(event.metadata, default=str),
        "latency_ms": event.latency_ms,
        "finish_reason": event.finish_reason or "",
        "error_type": event.error_type or "",
        **scores,
        "source_topic": source.topic,
        "source_partition": source.partition,
        "source_offset": source.offset,
    }


# What the drift detectors read from genai.scores: the key dimensions and the scores, no text.
SCORE_RECORD_FIELDS = (
    "event_id", "ts", "tenant", "app", "environment", "region", "use_case", "provider", "model",
    "prompt_id", "prompt_version", "toxicity", "toxic", "prompt_toxicity", "faithfulness",
    "relevance", "cost_usd", "cost_unknown_model", "latency_ms", "finish_reason", "error_type",
)


def score_record(row: dict[str, Any]) -> bytes:
    record = {k: row.get(k) for k in SCORE_RECORD_FIELDS}
    record["event_id"] = str(record["event_id"])
    record["ts"] = row["ts"].isoformat()
    record["cost_usd"] = None if row.get("cost_usd") is None else str(row["cost_usd"])
    return json.dumps(record).encode()


def score_key(row: dict[str, Any]) -> bytes:
    return f"{row['tenant']}/{row['app']}".encode()
