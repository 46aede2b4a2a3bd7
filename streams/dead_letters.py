"""What a dead letter carries: never the raw payload in clear.

- The payload decodes (UTF-8): the decoded payload, redacted like an event (JSON: every string
  value, at any depth; other text: the text itself).
- It does not: a base64 sample of its first SAMPLE_BYTES bytes.
Always its length and sha256 (to match it against the producer's copy), the error and the source.
A dead letter larger than the DLQ accepts is cut: the payload becomes a prefix of its redacted
JSON text and `payload_truncated` says so.

The raw bytes go only to a restricted topic, when EVALSTREAM_DLQ_RAW_TOPIC names one (off by
default; short retention, see RAW_TOPIC_CONFIG): grant it to the people who debug producers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from evalstream.config.settings import MAX_MESSAGE_BYTES, DeadLetterSettings
from evalstream.streams.redact import Redactor, default_redactor

SAMPLE_BYTES = 4096
TEXT_SAMPLE_CHARS = 256 * 1024  # a payload too large to be an event is redacted and kept up to here
RAW_TOPIC_CONFIG = {"retention.ms": str(24 * 3600 * 1000), "max.message.bytes": str(MAX_MESSAGE_BYTES)}


def dead_letter_json(
    raw: bytes | None,
    *,
    error_kind: str,
    reason: str,
    source: dict[str, Any],
    max_bytes: int | None = None,
    redactor: Redactor | None = None,
) -> bytes:
    raw = raw or b""
    limit = max_bytes or DeadLetterSettings().max_bytes
    redactor = redactor or default_redactor()
    record: dict[str, Any] = {
        "error_kind": error_kind,
        "reason": redactor.redact(_cut(reason, 2048), redactor.policy.default, Counter()),  # errors can quote the input
        "source": source,
        "dead_lettered_at": datetime.now(timezone.utc).isoformat(),
        "payload_bytes": len(raw),
        "payload_sha256": hashlib.sha256(raw).hexdigest(),
        **_payload(raw, redactor),
    }
    encoded = _encode(record)
    if len(encoded) <= limit:
        return encoded
    return _encode(_truncated(record, limit))


def _payload(raw: bytes, redactor: Redactor) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _sample(raw)
    rule = redactor.policy.default  # the tenant is what failed to parse: the default policy, which covers most
    counts: Counter[str] = Counter()
    try:
        decoded = json.loads(text)
    except RecursionError:
        return _sample(raw)  # nested past the parser's depth: a JSON bomb
    except ValueError:
        decoded = _NOT_JSON
    if decoded is not _NOT_JSON:
        return {"payload_encoding": "json", "payload": redactor.redact_value(decoded, rule, counts), "redactions": dict(counts)}
    cut = len(text) > TEXT_SAMPLE_CHARS
    body = redactor.redact(text[:TEXT_SAMPLE_CHARS], rule, counts)
    return {"payload_encoding": "text", "payload": body, "payload_truncated": cut, "redactions": dict(counts)}


_NOT_JSON = object()


def _sample(raw: bytes) -> dict[str, Any]:
    return {
        "payload_encoding": "base64-sample",
        "payload_sample": base64.b64encode(raw[:SAMPLE_BYTES]).decode(),
        "payload_truncated": len(raw) > SAMPLE_BYTES,
    }


def _truncated(record: dict[str, Any], limit: int) -> dict[str, Any]:
    """The record with its payload replaced by a prefix of the payload's JSON text, to fit `limit`."""
    payload = record.pop("payload", None)
    record.pop("payload_sample", None)
    is_text = isinstance(payload, str)
    text = payload if is_text else json.dumps(payload, ensure_ascii=False)
    record.update(payload_encoding="text" if is_text else "json-text-prefix", payload="", payload_truncated=True)
    room = max(0, limit - len(_encode(record)))
    prefix = text.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    while prefix and len(json.dumps(prefix, ensure_ascii=False).encode()) > room:  # escaping grows it
        prefix = prefix[: len(prefix) * 3 // 4]
    record["payload"] = prefix
    return record


def _encode(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, default=str).encode("utf-8")


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[:chars] + "…"


def raw_dead_letter_topic(app: Any, kafka: Any, partitions: int) -> Any | None:
    """The restricted topic for the raw bytes of dead letters (faust), created with its short
    retention; None unless EVALSTREAM_DLQ_RAW_TOPIC names one."""
    name = DeadLetterSettings().raw_topic
    if not name:
        return None
    from evalstream.kafka.topics import ensure_topics

    ensure_topics(kafka, {name: RAW_TOPIC_CONFIG}, partitions)
    return app.topic(name, value_type=bytes, key_type=bytes, partitions=partitions, config=RAW_TOPIC_CONFIG)
