"""The feedback contract: a person's verdict on one served event, published to genai.feedback.

Thumbs up/down, a yes/no label per score the scorers give (toxic, faithful, relevant), a
correction, who rated and when. Joined to the scored event on (tenant, event_id); it may come
days after the event. Imports nothing else of evalstream, like the event contract beside it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evalstream.producer.contract import MAX_NAME_CHARS, SAFE_NAME

FEEDBACK_SCHEMA_VERSION = "1"
MAX_FEEDBACK_TEXT_CHARS = 20_000
# A late label is welcome, one from the distant past or the future is a bug in the caller.
MAX_EVENT_AGE_DAYS = 400

Name = Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=SAFE_NAME)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Feedback(BaseModel):
    """One rater's verdict on one event; at least one of thumbs, a label or a correction."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str = FEEDBACK_SCHEMA_VERSION
    event_id: UUID
    tenant: str = Name
    app: str = Name
    event_ts: datetime | None = None  # the rated event's ts; looked up in storage when not given
    rater: str = Name
    ts: datetime = Field(default_factory=_now)  # when it was rated; a later rating by the same rater replaces it
    thumbs: Literal["up", "down"] | None = None
    toxic: bool | None = None  # is the response toxic?
    faithful: bool | None = None  # is every claim of the response supported by the context?
    relevant: bool | None = None  # does the response address the prompt?
    correction: str | None = Field(default=None, max_length=MAX_FEEDBACK_TEXT_CHARS)  # what the response should have said
    comment: str = Field(default="", max_length=MAX_FEEDBACK_TEXT_CHARS)

    @field_validator("schema_version")
    @classmethod
    def _known_schema_version(cls, value: str) -> str:
        if value != FEEDBACK_SCHEMA_VERSION:
            raise ValueError(f"unsupported schema_version {value!r}; this build reads {FEEDBACK_SCHEMA_VERSION!r}")
        return value

    @field_validator("ts", "event_ts")
    @classmethod
    def _timezone_aware_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("must carry a timezone, e.g. 2026-11-20T10:00:00Z")
        return value.astimezone(timezone.utc)

    @model_validator(mode="after")
    def _says_something(self) -> Feedback:
        if self.thumbs is None and self.toxic is None and self.faithful is None and self.relevant is None and not self.correction:
            raise ValueError("feedback must give thumbs, a label (toxic, faithful, relevant) or a correction")
        if self.event_ts is not None:
            if self.event_ts > self.ts:
                raise ValueError("event_ts is after ts: an event cannot be rated before it was served")
            if (self.ts - self.event_ts).days > MAX_EVENT_AGE_DAYS:
                raise ValueError(f"event_ts is more than {MAX_EVENT_AGE_DAYS} days before ts")
        return self

    def labels(self) -> dict[str, float]:
        """label name -> value (1 = yes) as the feedback table stores them; `thumbs_up` 1 = up, 0 = down."""
        values: dict[str, Any] = {"thumbs_up": None if self.thumbs is None else self.thumbs == "up",
                                  "toxic": self.toxic, "faithful": self.faithful, "relevant": self.relevant}
        return {name: float(value) for name, value in values.items() if value is not None}


def feedback_key(tenant: str, app: str) -> bytes:
    """Keyed like the events: one app's feedback shares a partition and keeps its order."""
    return f"{tenant}/{app}".encode()
