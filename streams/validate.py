"""Turn raw Kafka bytes into an event, or into a reason it goes to the dead-letter topic."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from evalstream.producer import GenAIEvent


@dataclass(frozen=True)
class Invalid:
    kind: str  # oversized | not_utf8 | bad_json | not_an_object | schema
    reason: str


def parse_event(raw: bytes | None, *, max_bytes: int) -> GenAIEvent | Invalid:
    if raw is None:
        return Invalid("bad_json", "empty message (no value)")
    if len(raw) > max_bytes:
        return Invalid("oversized", f"event is {len(raw)} bytes, over the limit of {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Invalid("not_utf8", f"not UTF-8: {exc}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Invalid("bad_json", f"not JSON: {exc}")
    if not isinstance(data, dict):
        return Invalid("not_an_object", f"expected a JSON object, got {type(data).__name__}")
    try:
        return GenAIEvent.model_validate(data)
    except ValidationError as exc:
        return Invalid("schema", describe(exc))


def describe(exc: ValidationError, limit: int = 5) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "event"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
