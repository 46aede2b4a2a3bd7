"""Turn raw Kafka bytes into an event, or into a reason it goes to the dead-letter topic.

Nothing here raises on any input: every way bytes can be hostile becomes an `Invalid` with a reason
(a JSON bomb, a number no float holds, a lone UTF-16 surrogate, a `ts` decades away).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
from pydantic import ValidationError

from evalstream.config.settings import WorkerSettings
from evalstream.contracts import GenAIEvent, describe_validation_error

# The event's own nesting is 3 (event -> usage/context/metadata -> value); a producer's metadata
# may nest further, but past this it is an attack on every recursive step after parsing (the
# parser, the redactor, json.dumps), each of which would raise RecursionError near 1,000.
MAX_JSON_DEPTH = 32

# A JSON string literal, unrolled so that it matches in linear time.
_STRING_LITERAL = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


@dataclass(frozen=True)
class Invalid:
    kind: str  # oversized | not_utf8 | bad_json | too_deep | not_unicode | not_an_object | schema | ts_out_of_bounds | ...
    reason: str


@dataclass(frozen=True)
class EventTimeBounds:
    """Event time is the producer's clock: accept `ts` only within [now - max_backfill, now + max_skew]."""

    max_backfill: timedelta = timedelta(days=30)
    max_skew: timedelta = timedelta(minutes=5)

    @classmethod
    def of(cls, worker: WorkerSettings) -> EventTimeBounds:
        return cls(timedelta(days=worker.max_backfill_days), timedelta(seconds=worker.max_clock_skew_seconds))

    def violation(self, ts: datetime, now: datetime | None = None) -> str | None:
        now = now or datetime.now(timezone.utc)
        if ts > now + self.max_skew:
            return f"ts {ts.isoformat()} is more than {_span(self.max_skew)} ahead of the worker's clock ({now.isoformat(timespec='seconds')})"
        if ts < now - self.max_backfill:
            return f"ts {ts.isoformat()} is more than {_span(self.max_backfill)} in the past (the backfill limit; now {now.isoformat(timespec='seconds')})"
        return None


def parse_event(raw: bytes | None, *, max_bytes: int, time_bounds: EventTimeBounds | None = None) -> GenAIEvent | Invalid:
    """The event, or why not. `time_bounds` None accepts any `ts` (offline scoring of old files)."""
    if raw is None:
        return Invalid("bad_json", "empty message (no value)")
    if len(raw) > max_bytes:
        return Invalid("oversized", f"event is {len(raw)} bytes, over the limit of {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Invalid("not_utf8", f"not UTF-8: {exc}")
    depth = json_depth(raw)
    if depth > MAX_JSON_DEPTH:
        return Invalid("too_deep", f"JSON too deeply nested: depth {depth}, over the limit of {MAX_JSON_DEPTH}")
    parsed = _loads(text)
    if isinstance(parsed, Invalid):
        return parsed
    if not isinstance(parsed, dict):
        return Invalid("not_an_object", f"expected a JSON object, got {type(parsed).__name__}")
    try:
        event = GenAIEvent.model_validate(parsed)
    except ValidationError as exc:
        return Invalid("schema", describe_validation_error(exc, root="event"))
    if time_bounds is not None and (why := time_bounds.violation(event.ts)):
        return Invalid("ts_out_of_bounds", why)
    return event


def json_depth(raw: bytes) -> int:
    """The deepest bracket nesting of a JSON text, strings ignored; linear time, no recursion.
    For a text that is not JSON the figure is a bound, which is all the parser's guard needs."""
    outside_strings = np.frombuffer(_STRING_LITERAL.sub(b"", raw), np.uint8)
    if outside_strings.size == 0:
        return 0
    opens = (outside_strings == ord("[")) | (outside_strings == ord("{"))
    closes = (outside_strings == ord("]")) | (outside_strings == ord("}"))
    steps = opens.astype(np.int32) - closes.astype(np.int32)
    return int(max(np.cumsum(steps).max(), 0))


def _loads(text: str) -> object:
    try:
        parsed = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NotFinite as exc:
        return Invalid("bad_json", str(exc))
    except RecursionError:  # the depth guard makes this unreachable; kept so no input can raise
        return Invalid("too_deep", "JSON too deeply nested for the parser")
    except ValueError as exc:  # JSONDecodeError, and integers past Python's 4,300-digit limit
        return Invalid("bad_json", f"not JSON: {_short(str(exc))}")
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(parsed):
        return Invalid("not_unicode", "a string holds a lone UTF-16 surrogate escape (\\ud800-\\udfff): not valid Unicode")
    return parsed


class _NotFinite(ValueError):
    pass


def _refuse_constant(name: str) -> float:
    raise _NotFinite(f"{name} is not a JSON number")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _NotFinite(f"number {_short(literal, 40)} does not fit a 64-bit float")
    return value


def _has_lone_surrogate(parsed: object) -> bool:
    """Escaped pairs decode to one character; an unpaired escape stays a surrogate, which no UTF-8 encoder takes."""
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    return f"{seconds / 86400:g} days" if seconds >= 86400 else f"{seconds:g} s"


def _short(text: str, chars: int = 200) -> str:
    return text if len(text) <= chars else text[:chars] + "…"
