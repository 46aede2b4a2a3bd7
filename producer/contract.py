"""The event contract: one prompt/response served by a GenAI application.

Field names follow the OpenTelemetry GenAI semantic conventions where one exists
(`input_tokens`, `output_tokens`, `finish_reason`, `error_type`). `input_tokens` counts all input
tokens, the cached ones among them; `output_tokens` counts the reasoning tokens among them.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = "1"

# Bounds that keep one event from exhausting a worker; larger events go to the dead-letter topic.
MAX_TEXT_CHARS = 200_000
MAX_CONTEXT_PASSAGES = 64
MAX_NAME_CHARS = 128
# What the storage columns hold (UInt32): a larger count could never be stored.
MAX_TOKENS = 2**32 - 1
MAX_LATENCY_MS = 7 * 24 * 3600 * 1000.0
# Names reach Slack, URLs, file paths and logs: letters, digits, spaces and . _ : / @ + - only
# (no markup, control or bidi characters).
SAFE_NAME = r"^[\w.:/@+\- ]+$"

Name = Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=SAFE_NAME)
OptionalName = Field(default="", max_length=MAX_NAME_CHARS, pattern=r"^[\w.:/@+\- ]*$")
Tokens = Field(ge=0, le=MAX_TOKENS)


class TokenUsage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_tokens: int = Tokens
    output_tokens: int = Tokens
    cached_input_tokens: int = Field(default=0, ge=0, le=MAX_TOKENS)
    reasoning_tokens: int = Field(default=0, ge=0, le=MAX_TOKENS)

    @model_validator(mode="after")
    def _parts_within_totals(self) -> TokenUsage:
        if self.cached_input_tokens > self.input_tokens:
            raise ValueError("cached_input_tokens is part of input_tokens and cannot exceed it")
        if self.reasoning_tokens > self.output_tokens:
            raise ValueError("reasoning_tokens is part of output_tokens and cannot exceed it")
        return self


class GenAIEvent(BaseModel):
    """One served prompt/response. Unknown top-level keys are moved into `metadata`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    schema_version: str = SCHEMA_VERSION
    event_id: UUID
    ts: datetime
    tenant: str = Name
    app: str = Name
    environment: str = Field(default="prod", min_length=1, max_length=MAX_NAME_CHARS, pattern=SAFE_NAME)
    region: str = Name
    use_case: str = Name
    provider: str = Name
    model: str = Name
    prompt_id: str = OptionalName
    prompt_version: str = OptionalName
    prompt: str = Field(max_length=MAX_TEXT_CHARS)
    context: list[str] | None = Field(default=None, max_length=MAX_CONTEXT_PASSAGES)
    response: str = Field(max_length=MAX_TEXT_CHARS)
    usage: TokenUsage | None = None
    latency_ms: float | None = Field(default=None, ge=0, le=MAX_LATENCY_MS, allow_inf_nan=False)
    finish_reason: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    error_type: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _keep_unknown_keys_in_metadata(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        unknown = {k: v for k, v in data.items() if k not in cls.model_fields}
        if not unknown:
            return data
        known = {k: v for k, v in data.items() if k in cls.model_fields}
        metadata = known.get("metadata") or {}
        if not isinstance(metadata, dict):
            return data  # let field validation report the bad metadata
        known["metadata"] = {**unknown, **metadata}
        return known

    @field_validator("schema_version")
    @classmethod
    def _known_schema_version(cls, value: str) -> str:
        if value != SCHEMA_VERSION:
            raise ValueError(f"unsupported schema_version {value!r}; this build reads {SCHEMA_VERSION!r}")
        return value

    @field_validator("ts")
    @classmethod
    def _timezone_aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("ts must carry a timezone, e.g. 2026-11-20T10:00:00Z")
        return value.astimezone(timezone.utc)

    @field_validator("context")
    @classmethod
    def _passages_bounded(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(len(p) > MAX_TEXT_CHARS for p in value):
            raise ValueError(f"a context passage is longer than {MAX_TEXT_CHARS} characters")
        return value


def event_key(tenant: str, app: str) -> bytes:
    """Kafka key: one app's events share a partition, so they keep their order."""
    return f"{tenant}/{app}".encode()


def json_schema() -> dict[str, Any]:
    schema = GenAIEvent.model_json_schema()
    schema["$id"] = f"https://evalstream.dev/schemas/genai-event/v{SCHEMA_VERSION}.json"
    return schema


def write_json_schema(path: Path) -> None:
    path.write_text(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n")
