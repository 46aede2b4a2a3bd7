"""The score record: what the scoring workers publish on genai.scores for each stored event.

The key dimensions and the scores, no text (the drift workers need no prompt or response).
JSON on the wire, keyed by `partition_key(tenant, app)`. Readers ignore fields they do not know,
and every score may be missing (None: that scorer is not enabled), so a newer worker can add a
score without breaking an older drift worker.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Mapping

from pydantic import BaseModel, ConfigDict, field_validator

from evalstream.contracts.keys import DriftKey, partition_key

if TYPE_CHECKING:
    from evalstream.contracts.row import StoredRow

SCHEMA_VERSION = 1


class ScoreRecord(BaseModel):
    # coerce_numbers_to_str: a prompt_version sent as 7 is the version "7", as before the type.
    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)

    schema_version: int = SCHEMA_VERSION
    event_id: str
    ts: datetime
    tenant: str
    app: str
    environment: str = ""
    region: str
    use_case: str
    provider: str = ""
    model: str
    prompt_id: str = ""
    prompt_version: str
    toxicity: float | None = None
    toxic: bool | None = None
    prompt_toxicity: float | None = None
    faithfulness: float | None = None
    unfaithful: bool | None = None
    relevance: float | None = None
    refusal: bool | None = None
    cost_usd: Decimal | None = None  # a string on the wire: exact
    cost_unknown_model: bool | None = None
    latency_ms: float | None = None
    finish_reason: str = ""
    error_type: str = ""

    @field_validator("ts")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value

    @classmethod
    def of_row(cls, row: StoredRow) -> ScoreRecord:
        """The record of a row our own code built: no validation on this hot path."""
        return cls.model_construct(
            event_id=str(row.event_id), ts=row.ts, tenant=row.tenant, app=row.app, environment=row.environment or "",
            region=row.region, use_case=row.use_case, provider=row.provider, model=row.model, prompt_id=row.prompt_id or "",
            prompt_version=row.prompt_version or "", toxicity=row.toxicity, toxic=row.toxic, prompt_toxicity=row.prompt_toxicity,
            faithfulness=row.faithfulness, unfaithful=row.unfaithful, relevance=row.relevance, refusal=row.refusal,
            cost_usd=row.cost_usd, cost_unknown_model=row.cost_unknown_model, latency_ms=row.latency_ms,
            finish_reason=row.finish_reason or "", error_type=row.error_type or "",
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> ScoreRecord:
        """Parse a record read from Kafka; raises pydantic's ValidationError when it is not one."""
        return cls.model_validate_json(raw)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ScoreRecord:
        return cls.model_validate(data)

    def to_json(self) -> bytes:
        return self.__pydantic_serializer__.to_json(self)

    @property
    def kafka_key(self) -> bytes:
        return partition_key(self.tenant, self.app)

    @property
    def drift_key(self) -> DriftKey:
        return DriftKey(self.tenant, self.app, self.use_case, self.model, self.prompt_version, self.region)
