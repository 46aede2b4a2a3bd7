"""The stored row: one scored event as the `scored_events` table holds it.

Built by the scoring workers (streams/pipeline.py) from the event, the scorers' fields and the
Kafka source; written by the sink (sinks/clickhouse.py), which checks at start that every field
has a column and every column without a default has a field. A field or column added on one
side only stops the sink at start, with its name, instead of vanishing from every row.

None means "not produced" (a scorer that is not enabled, no usage to count): the sink leaves
such a column to ClickHouse's default. Where the column is Nullable (faithfulness without
context, the cost of an unknown model), None is stored as NULL.

Change a field together with a migration of `scored_events`, and bump VERSION.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Mapping
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRow:
    VERSION: ClassVar[int] = 2

    # -- the event (its text bodies expire by TTL; the scores stay) --
    event_id: UUID
    ts: datetime
    tenant: str
    app: str
    environment: str | None = None
    region: str
    use_case: str
    provider: str
    model: str
    prompt_id: str | None = None
    prompt_version: str | None = None
    prompt: str | None = None
    context: list[str] | None = None
    response: str | None = None
    has_context: bool | None = None
    metadata: str | None = None  # JSON
    redactions: dict[str, int] | None = None  # findings redacted per entity type (streams/redact.py)
    latency_ms: float | None = None
    finish_reason: str | None = None
    error_type: str | None = None
    # -- scores: each field declared by exactly one scorer (scorers/) --
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    tokens_estimated: bool | None = None
    cost_usd: Decimal | None = None  # NULL: model not in the price table, never "free"
    cost_unknown_model: bool | None = None
    toxicity: float | None = None
    toxic: bool | None = None
    toxicity_labels: dict[str, float] | None = None
    toxicity_model: str | None = None
    prompt_toxicity: float | None = None
    prompt_toxicity_labels: dict[str, float] | None = None
    faithfulness: float | None = None  # NULL: no context to be faithful to
    unfaithful: bool | None = None
    unsupported_sentences: list[str] | None = None
    relevance: float | None = None
    refusal: bool | None = None
    judge_faithfulness: float | None = None  # NULL: not judged
    judge_unsupported: list[str] | None = None
    judge_reason: str | None = None
    judge_model: str | None = None
    scorers: dict[str, str] | None = None  # scorer name -> version, set by the ScorerSet
    # -- where it came from: lets a restarted worker skip what it already stored --
    source_topic: str
    source_partition: int
    source_offset: int
    ingested_at: datetime | None = None  # set by ClickHouse; given only to replay history

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> StoredRow:
        """A row from a dict of its fields (tests, backfills); an unknown key is an error, not dropped."""
        unknown = data.keys() - ROW_FIELDS
        if unknown:
            raise ValueError(f"not fields of the stored row: {sorted(unknown)}")
        missing = REQUIRED_FIELDS - data.keys()
        if missing:
            raise ValueError(f"the stored row needs {sorted(missing)}")
        return cls(**data)


ROW_FIELDS: frozenset[str] = frozenset(f.name for f in fields(StoredRow))
REQUIRED_FIELDS: frozenset[str] = frozenset(
    ("event_id", "ts", "tenant", "app", "region", "use_case", "provider", "model", "source_topic", "source_partition", "source_offset")
)
_EVENT_AND_SOURCE = REQUIRED_FIELDS | {
    "environment", "prompt_id", "prompt_version", "prompt", "context", "response", "has_context", "metadata",
    "latency_ms", "finish_reason", "error_type", "ingested_at", "redactions",
}
# What scorers may declare and return: everything the event and the source do not set.
SCORE_FIELDS: frozenset[str] = ROW_FIELDS - _EVENT_AND_SOURCE - {"scorers"}
