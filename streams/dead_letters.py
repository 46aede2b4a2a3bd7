"""What a dead letter carries: never the raw payload in clear.

- The payload decodes (UTF-8): the decoded payload, redacted like an event (JSON: every string
  value, at any depth; other text: the text itself).
- It does not: a base64 sample of its first SAMPLE_BYTES bytes.
Always its length and sha256 (to match it against the producer's copy), the error and the source.

A large payload is cut BEFORE it is redacted, so the redaction's work is bounded by what the
dead letter can keep (TEXT_SAMPLE_CHARS of text, and no more than the DLQ's limit), not by the
payload: 1 MiB dense with e-mail addresses took 4 s of CPU (14 s on a busy machine) to redact
whole. The cut falls at whitespace and never inside an entity the redactor finds around it: half
an e-mail address would not be recognized, and would leak. `payload_truncated` says whether it
was cut, `payload_kept_chars` how much was kept.
A dead letter still larger than the DLQ accepts (redaction and JSON escaping can grow it) is cut
again: the payload becomes a prefix of its redacted JSON text.

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
from evalstream.streams.redact import MAX_DEPTH, OVERLAP_CHARS, Redactor, default_redactor
from evalstream.streams.redaction_policy import Rule

SAMPLE_BYTES = 4096
TEXT_SAMPLE_CHARS = 256 * 1024  # of a payload's text (JSON: its strings together), cut to this, then redacted
REASON_CHARS = 2048
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
    reason_budget = _Budget(REASON_CHARS)
    reason = _redacted_prefix(reason, reason_budget, redactor, redactor.policy.default, Counter())  # errors can quote the input
    record: dict[str, Any] = {
        "error_kind": error_kind,
        "reason": reason + ("…" if reason_budget.cut else ""),
        "source": source,
        "dead_lettered_at": datetime.now(timezone.utc).isoformat(),
        "payload_bytes": len(raw),
        "payload_sha256": hashlib.sha256(raw).hexdigest(),
        **_payload(raw, redactor, _Budget(min(TEXT_SAMPLE_CHARS, limit))),
    }
    encoded = _encode(record)
    if len(encoded) <= limit:
        return encoded
    return _encode(_truncated(record, limit))


def _payload(raw: bytes, redactor: Redactor, budget: _Budget) -> dict[str, Any]:
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
        record = {"payload_encoding": "json", "payload": _redacted_value(decoded, budget, redactor, rule, counts)}
    else:
        record = {"payload_encoding": "text", "payload": _redacted_prefix(text, budget, redactor, rule, counts)}
    record["payload_truncated"] = budget.cut
    if budget.cut:
        record["payload_kept_chars"] = budget.kept
    return {**record, "redactions": dict(counts)}


_NOT_JSON = object()


class _Budget:
    """The characters of text the redactor may still read for one dead letter."""

    def __init__(self, chars: int) -> None:
        self.left = chars
        self.kept = 0
        self.cut = False


def _redacted_value(value: Any, budget: _Budget, redactor: Redactor, rule: Rule, counts: Counter[str], depth: int = 0) -> Any:
    """Redactor.redact_value within the budget: strings past it are cut (then empty)."""
    if isinstance(value, str):
        return _redacted_prefix(value, budget, redactor, rule, counts)
    if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
        counts["TOO_DEEP"] += 1
        return "<TOO_DEEP>"
    if isinstance(value, dict):
        return {key: _redacted_value(item, budget, redactor, rule, counts, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted_value(item, budget, redactor, rule, counts, depth + 1) for item in value]
    return value


def _redacted_prefix(text: str, budget: _Budget, redactor: Redactor, rule: Rule, counts: Counter[str]) -> str:
    """As much of `text` as the budget allows, cut first and then redacted."""
    if len(text) <= budget.left:
        budget.left -= len(text)
        budget.kept += len(text)
        return redactor.redact(text, rule, counts)
    cut = _safe_cut(text, budget.left, redactor, rule) if budget.left else 0
    budget.left, budget.kept, budget.cut = 0, budget.kept + cut, True
    return redactor.redact(text[:cut], rule, counts)


def _safe_cut(text: str, chars: int, redactor: Redactor, rule: Rule) -> int:
    """Where to cut `text` to keep at most `chars`: at the last whitespace before, if one is near,
    then before any entity the redactor finds across that point (entities are shorter than
    OVERLAP_CHARS; a private key cut short is still found by its header)."""
    near = max(0, chars - OVERLAP_CHARS)
    cut = next((i for i in range(chars, near - 1, -1) if text[i].isspace()), chars)
    around = max(0, cut - OVERLAP_CHARS)
    for span in redactor.find(text[around : cut + OVERLAP_CHARS], rule):
        if around + span.start < cut < around + span.end:
            cut = around + span.start
    return cut


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


def raw_dead_letter_topic(app: Any, kafka: Any, partitions: int) -> Any | None:
    """The restricted topic for the raw bytes of dead letters (faust), created with its short
    retention; None unless EVALSTREAM_DLQ_RAW_TOPIC names one."""
    name = DeadLetterSettings().raw_topic
    if not name:
        return None
    from evalstream.kafka.topics import ensure_topics

    ensure_topics(kafka, {name: RAW_TOPIC_CONFIG}, partitions)
    return app.topic(name, value_type=bytes, key_type=bytes, partitions=partitions, config=RAW_TOPIC_CONFIG)
