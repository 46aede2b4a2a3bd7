"""The scoring workers store human feedback: genai.feedback -> the ClickHouse `feedback` table.

Like the events: each message is validated against the contract; one that fails goes to the
dead-letter topic with its reason (redacted, see dead_letters.py) and never stops the stream.
A valid one is acked only after it is stored; one ClickHouse still refuses after a few tries is
dead-lettered with that reason rather than holding back every later label of its partition.
Feedback may arrive days after its event: nothing here depends on the event being stored yet.
Its free text (the correction, the comment) is redacted like an event's before it is stored.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import ValidationError

from evalstream.config.settings import TopicSettings
from evalstream.contracts import Feedback, describe_validation_error
from evalstream.streams.dead_letters import dead_letter_json
from evalstream.streams.redact import Redactor, redact_text

log = logging.getLogger("evalstream.feedback")

MAX_FEEDBACK_BYTES = 256 * 1024
STORE_ATTEMPTS = 5


def parse_feedback(raw: bytes | None) -> Feedback | tuple[str, str]:
    """The feedback, or (error kind, reason) for the dead-letter topic."""
    if raw is None:
        return "bad_json", "empty message (no value)"
    if len(raw) > MAX_FEEDBACK_BYTES:
        return "oversized", f"feedback is {len(raw)} bytes, over the limit of {MAX_FEEDBACK_BYTES}"
    try:
        return Feedback.model_validate_json(raw)
    except ValidationError as exc:
        kind = "bad_json" if any(e["type"] == "json_invalid" for e in exc.errors()) else "schema"
        return kind, describe_validation_error(exc, root="feedback")


def redact_feedback(feedback: Feedback, redactor: Redactor) -> Feedback:
    """The feedback with personal data removed from its free text (the tenant's redaction rule)."""
    update = {
        name: redact_text(value, redactor, tenant=feedback.tenant)
        for name in ("correction", "comment")
        if (value := getattr(feedback, name))
    }
    return feedback.model_copy(update=update) if update else feedback


class FeedbackArchive:
    """Redacts and stores feedback on one thread of its own (the ClickHouse client blocks)."""

    def __init__(self, dsn: str, *, redact: bool = True) -> None:
        self.dsn = dsn
        self.redact = redact
        self._sink: Any = None
        self._redactor: Redactor | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedback")
        self.stored = 0
        self.dead_lettered = 0

    def _write(self, feedback: Feedback) -> int:
        if self._sink is None:
            from evalstream.sinks.feedback import FeedbackSink

            self._sink = FeedbackSink(self.dsn)
        if self.redact:
            self._redactor = self._redactor or Redactor()
            feedback = redact_feedback(feedback, self._redactor)
        return self._sink.write([feedback])

    async def store(self, feedback: Feedback) -> str | None:
        """None once stored; the last error after STORE_ATTEMPTS tries."""
        loop = asyncio.get_running_loop()
        for attempt in range(1, STORE_ATTEMPTS + 1):
            try:
                await loop.run_in_executor(self._pool, self._write, feedback)
                self.stored += 1
                return None
            except Exception as exc:
                if attempt == STORE_ATTEMPTS:
                    return f"not stored after {attempt} tries: {type(exc).__name__}: {exc}"
                log.warning("feedback for %s not stored (try %d): %r", feedback.event_id, attempt, exc)
                await asyncio.sleep(0.5 * 2**attempt)
        return None


def install_feedback_archive(app: Any, topics: TopicSettings, dsn: str, dlq_topic: Any, *, redact: bool = True) -> FeedbackArchive:
    """An agent on the feedback topic of the scoring workers' app; dead letters go to `dlq_topic`."""
    feedback_topic = app.topic(topics.feedback, value_type=bytes, key_type=bytes, partitions=topics.partitions)
    archive = FeedbackArchive(dsn, redact=redact)

    async def dead_letter(event: Any, kind: str, reason: str) -> None:
        message = event.message
        source = {"topic": message.topic, "partition": message.partition, "offset": message.offset}
        letter = dead_letter_json(event.value, error_kind=kind, reason=reason, source=source)
        await (await dlq_topic.send(key=event.key, value=letter))  # acked only once the letter is in Kafka
        archive.dead_lettered += 1

    @app.agent(feedback_topic, concurrency=1, name="evalstream.feedback.archive")
    async def archive_feedback(stream: Any) -> None:
        async for event in stream.noack().events():
            parsed = parse_feedback(event.value)
            if isinstance(parsed, Feedback):
                failure = await archive.store(parsed)
                if failure:
                    await dead_letter(event, "storage_failed", failure)
            else:
                await dead_letter(event, *parsed)
            event.ack()

    return archive
