"""One batch through the flow: validate -> redact -> score -> stored rows. No Kafka, no storage here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from evalstream.contracts import SCORE_FIELDS, GenAIEvent, ScoreRecord, StoredRow, partition_key
from evalstream.scorers.base import ScorerContractError, ScorerSet
from evalstream.streams.dead_letters import dead_letter_json
from evalstream.streams.otlp import OtlpSource
from evalstream.streams.redact import RedactedEvent, redact_event
from evalstream.streams.scoring_view import scoring_view
from evalstream.streams.tenancy import TenantOfTopic, tenant_mismatch
from evalstream.streams.validate import EventTimeBounds, Invalid, parse_event


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
    payload: bytes | None = None  # what failed, where it is not the whole record (one span of an OTLP record)

    def to_json(self) -> bytes:
        """Redacted and bounded, never the raw bytes: see streams/dead_letters.py."""
        source = {"topic": self.record.topic, "partition": self.record.partition, "offset": self.record.offset}
        payload = self.record.value if self.payload is None else self.payload
        return dead_letter_json(payload, error_kind=self.invalid.kind, reason=self.invalid.reason, source=source)


@dataclass
class BatchResult:
    rows: list[StoredRow] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)


class Pipeline:
    def __init__(
        self,
        scorers: ScorerSet,
        *,
        max_event_bytes: int,
        redact_pii: bool = True,
        time_bounds: EventTimeBounds | None = None,
        otlp: OtlpSource | None = None,
    ) -> None:
        unstored = sorted(scorers.fields - SCORE_FIELDS)
        if unstored:
            raise ScorerContractError(f"scorers declare fields the stored row has no score field for: {unstored} (see evalstream.contracts.StoredRow)")
        self.scorers = scorers
        self.max_event_bytes = max_event_bytes
        self.redact_pii = redact_pii
        self.time_bounds = time_bounds  # None: any ts (offline scoring); the workers bound it
        self.otlp = otlp  # records of its topic hold OTLP spans: one record, N events
        self.tenant_of_topic: TenantOfTopic | None = None  # topic per tenant: its events must declare it (tenancy.py)

    def parse(self, record: SourceRecord) -> GenAIEvent | Invalid:
        parsed = self.parse_redacted(record)
        return parsed if isinstance(parsed, Invalid) else parsed.event

    def parse_redacted(self, record: SourceRecord) -> RedactedEvent | Invalid:
        parsed = parse_event(record.value, max_bytes=self.max_event_bytes, time_bounds=self.time_bounds)
        if isinstance(parsed, Invalid):
            return parsed
        return self._redacted(parsed)

    def _redacted(self, event: GenAIEvent) -> RedactedEvent:
        return redact_event(event) if self.redact_pii else RedactedEvent(event, {})

    def _add_spans(self, record: SourceRecord, valid: list[tuple[SourceRecord, RedactedEvent]], result: BatchResult) -> None:
        """An OTLP record's events join the batch, each with the record as its source (acked once all are done)."""
        assert self.otlp is not None
        spans = self.otlp.read(record.value)
        result.dead_letters.extend(DeadLetter(record, invalid, payload) for invalid, payload in spans.unmapped)
        for event in spans.events:
            why = self.time_bounds.violation(event.ts) if self.time_bounds is not None else None
            if why:
                result.dead_letters.append(DeadLetter(record, Invalid("ts_out_of_bounds", why), event.model_dump_json().encode()))
            else:
                valid.append((record, self._redacted(event)))

    def process(self, records: Sequence[SourceRecord]) -> BatchResult:
        result = BatchResult()
        valid: list[tuple[SourceRecord, RedactedEvent]] = []
        for record in records:
            if self.otlp is not None and record.topic == self.otlp.topic:
                self._add_spans(record, valid, result)
                continue
            parsed = self.parse_redacted(record)
            if not isinstance(parsed, Invalid):
                parsed = tenant_mismatch(self.tenant_of_topic, record.topic, parsed.event.tenant) or parsed
            if isinstance(parsed, Invalid):
                result.dead_letters.append(DeadLetter(record, parsed))
            else:
                valid.append((record, parsed))
        try:
            scores = _score(self.scorers, [redacted.event for _, redacted in valid])
        except ScorerContractError:
            raise  # a scorer's code is wrong, not an event: stop loudly rather than dead-letter everything
        except Exception:  # one event broke a scorer: find it, dead-letter it, keep the rest
            return self._process_one_by_one(valid, result)
        result.rows = [to_row(r.event, score, record, r.counts) for (record, r), score in zip(valid, scores)]
        return result

    def _process_one_by_one(self, valid: list[tuple[SourceRecord, RedactedEvent]], result: BatchResult) -> BatchResult:
        for record, redacted in valid:
            try:
                (score,) = _score(self.scorers, [redacted.event])
            except ScorerContractError:
                raise
            except Exception as exc:
                result.dead_letters.append(DeadLetter(record, Invalid("scoring_failed", f"{type(exc).__name__}: {exc}")))
                continue
            result.rows.append(to_row(redacted.event, score, record, redacted.counts))
        return result


def _score(scorers: ScorerSet, events: list[GenAIEvent]) -> list[dict[str, Any]]:
    """Scores each event on its scoring view (text bounded in sentences, see scoring_view.py)."""
    views = [scoring_view(e) for e in events]
    scores = scorers.score([v.event for v in views])
    for view, score in zip(views, scores):
        if view.usage_estimated and "tokens_estimated" in score:
            score["tokens_estimated"] = True
    return scores


def to_row(event: GenAIEvent, scores: dict[str, Any], source: SourceRecord, redactions: dict[str, int] | None = None) -> StoredRow:
    return StoredRow(
        event_id=event.event_id,
        ts=event.ts,
        tenant=event.tenant,
        app=event.app,
        environment=event.environment,
        region=event.region,
        use_case=event.use_case,
        provider=event.provider,
        model=event.model,
        prompt_id=event.prompt_id,
        prompt_version=event.prompt_version,
        prompt=event.prompt,
        context=event.context or [],
        response=event.response,
        has_context=event.context is not None,
        metadata=json.dumps(event.metadata, default=str),
        redactions=redactions or {},
        latency_ms=event.latency_ms,
        finish_reason=event.finish_reason or "",
        error_type=event.error_type or "",
        **scores,
        source_topic=source.topic,
        source_partition=source.partition,
        source_offset=source.offset,
    )


def score_record(row: StoredRow) -> bytes:
    """What the drift workers read from genai.scores for a stored row (no text)."""
    return ScoreRecord.of_row(row).to_json()


def score_key(row: StoredRow) -> bytes:
    return partition_key(row.tenant, row.app)
