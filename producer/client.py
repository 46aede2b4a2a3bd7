"""EventProducer: validate, enqueue, return. Never blocks or raises on the caller's request path."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Mapping

from confluent_kafka import KafkaError, Message, Producer
from pydantic import ValidationError

from evalstream.producer.contract import GenAIEvent, event_key
from evalstream.producer.feedback import Feedback, feedback_key

log = logging.getLogger("evalstream.producer")

DEFAULT_TOPIC = "genai.events"
DEFAULT_FEEDBACK_TOPIC = "genai.feedback"


@dataclass
class ProducerStats:
    enqueued: int = 0
    delivered: int = 0
    failed: int = 0  # the broker never acknowledged it (e.g. down past message.timeout.ms)
    dropped_queue_full: int = 0  # the bounded local queue was full: dropped, not waited for
    rejected_invalid: int = 0  # failed the contract: never sent

    @property
    def dropped(self) -> int:
        return self.failed + self.dropped_queue_full + self.rejected_invalid


class EventProducer:
    """What a service embeds.

    `send()` validates the event, puts it on librdkafka's bounded in-memory queue and returns
    at once; delivery happens on librdkafka's thread. When the queue is full the event is
    dropped and counted rather than blocking the request. The producer is idempotent, so
    librdkafka's retries never duplicate or reorder events within a partition.
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        topic: str = DEFAULT_TOPIC,
        feedback_topic: str = DEFAULT_FEEDBACK_TOPIC,
        max_queued_events: int = 100_000,
        max_queued_kbytes: int = 256 * 1024,
        delivery_timeout_ms: int = 300_000,
        extra_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.topic = topic
        self.feedback_topic = feedback_topic
        self.stats = ProducerStats()
        self._lock = threading.Lock()
        config: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 20,
            "compression.type": "lz4",
            "queue.buffering.max.messages": max_queued_events,
            "queue.buffering.max.kbytes": max_queued_kbytes,
            "message.timeout.ms": delivery_timeout_ms,
            "message.max.bytes": 2 * 1024 * 1024,
        }
        config.update(extra_config or {})
        self._producer = Producer(config)

    def send(self, event: GenAIEvent | Mapping[str, Any], *, wait_s: float = 0.0) -> bool:
        """Validate and enqueue one event. Returns False when it was rejected or dropped.

        `wait_s` > 0 waits up to that long for room in a full queue (for batch replays, never
        for a request path).
        """
        try:
            if not isinstance(event, GenAIEvent):
                event = GenAIEvent.model_validate(event)
        except ValidationError as exc:
            self._count("rejected_invalid")
            log.warning("evalstream event rejected, not sent: %s", _first_error(exc))
            return False
        return self.send_raw(event.model_dump_json().encode(), key=event_key(event.tenant, event.app), wait_s=wait_s)

    def feedback(self, feedback: Feedback | Mapping[str, Any] | None = None, *, wait_s: float = 0.0, **fields: Any) -> bool:
        """Validate and enqueue a person's verdict on an event (to `feedback_topic`), like `send()`.

        `producer.feedback(event_id=..., tenant=..., app=..., rater="ann", faithful=False)`, or a
        Feedback / mapping. Returns False when it was rejected or dropped.
        """
        try:
            if not isinstance(feedback, Feedback):
                feedback = Feedback.model_validate({**(feedback or {}), **fields})
        except ValidationError as exc:
            self._count("rejected_invalid")
            log.warning("evalstream feedback rejected, not sent: %s", _first_error(exc))
            return False
        value = feedback.model_dump_json(exclude_none=True).encode()
        return self.send_raw(value, key=feedback_key(feedback.tenant, feedback.app), wait_s=wait_s, topic=self.feedback_topic)

    def send_raw(self, value: bytes, *, key: bytes | None = None, wait_s: float = 0.0, topic: str | None = None) -> bool:
        """Enqueue bytes as they are (no validation): for replaying recorded events (or feedback, with `topic`)."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self._producer.produce(topic or self.topic, value=value, key=key, on_delivery=self._on_delivery)
                break
            except BufferError:
                if time.monotonic() >= deadline:
                    self._count("dropped_queue_full")
                    return False
                self._producer.poll(0.05)
            finally:
                self._producer.poll(0)  # serve delivery callbacks without waiting
        self._count("enqueued")
        return True

    def queued(self) -> int:
        """Events waiting in the local queue or in flight to the broker."""
        return len(self._producer)

    def flush(self, timeout: float = 30.0) -> int:
        """Wait up to `timeout` s for queued events; returns how many are still queued."""
        return self._producer.flush(timeout)

    def close(self, timeout: float = 30.0) -> ProducerStats:
        remaining = self.flush(timeout)
        if remaining:
            log.warning("evalstream producer closed with %d events undelivered", remaining)
        return self.stats

    def __enter__(self) -> EventProducer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _on_delivery(self, err: KafkaError | None, _msg: Message) -> None:
        self._count("failed" if err is not None else "delivered")

    def _count(self, field: str) -> None:
        with self._lock:
            setattr(self.stats, field, getattr(self.stats, field) + 1)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "event"
    return f"{where}: {err['msg']} ({exc.error_count()} error(s))"
