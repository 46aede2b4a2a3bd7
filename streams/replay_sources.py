"""Where a replay reads its events: Kafka while it retains the range, else the stored rows.

The range is event time (`ts` in [from, to)), as in scored_events and the boards. Kafka seeks by
record time, the time of publishing, which follows the event's: a replay reads each partition
from the first record published at `from` less the producers' clock skew, keeps the events whose
`ts` is in range, and stops a partition at its end as of the start, or at the first record
published `lateness` after `to`. Its position is the offsets committed by its own consumer group
(never the live workers'), once each batch is stored.

The stored rows hold the texts as the workers stored them (redacted; their bodies expire by TTL):
a row whose texts have expired cannot be re-scored, and is counted as skipped. Its position is
the (ts, event_id) of the last row of the last stored batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterator

from evalstream.config.settings import KafkaSettings
from evalstream.sinks.replay import ReplaySink
from evalstream.streams.pipeline import SourceRecord
from evalstream.streams.validate import Invalid, parse_event

EVENT_FIELDS = (
    "event_id", "tenant", "app", "environment", "region", "use_case", "provider", "model", "prompt_id", "prompt_version",
    "prompt", "response", "latency_ms", "finish_reason", "error_type",
)


@dataclass
class Batch:
    records: list[SourceRecord]  # in range, of the tenant: to score
    read: int  # records or rows read, the skipped among them
    skipped: int
    position: Any = None  # what the source commits once the batch is stored


@dataclass
class SourceChoice:
    source: str  # kafka | stored
    why: str


class KafkaRange:
    """The range from the events topic(s), through a consumer group of the replay's own."""

    source = "kafka"

    def __init__(
        self, kafka: KafkaSettings, topics: list[str], group_id: str, from_ts: datetime, to_ts: datetime, tenant: str, *,
        max_event_bytes: int, clock_skew_s: float, lateness_s: float,
    ) -> None:
        from confluent_kafka import Consumer

        self.from_ts, self.to_ts, self.tenant, self.max_event_bytes = from_ts, to_ts, tenant, max_event_bytes
        self.stop_ms = _ms(to_ts + timedelta(seconds=lateness_s))
        self.consumer = Consumer({
            **kafka.librdkafka(), "group.id": group_id, "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "log_level": 3, "fetch.max.bytes": 16 * 1024 * 1024,
        })
        self.start, self.end = self._plan(topics, _ms(from_ts - timedelta(seconds=clock_skew_s)))
        self.open = {tp for tp in self.start if self.start[tp] < self.end[tp]}

    def _plan(self, topics: list[str], seek_ms: int) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
        """Each partition's first offset (the group's committed one when resuming) and its end now."""
        from confluent_kafka import TopicPartition

        parts = [TopicPartition(t, p) for t in topics for p in sorted(self.consumer.list_topics(t, timeout=10).topics[t].partitions or {})]
        if not parts:
            return {}, {}
        committed = {(tp.topic, tp.partition): tp.offset for tp in self.consumer.committed(parts, timeout=10)}
        by_time = {(tp.topic, tp.partition): tp.offset for tp in self.consumer.offsets_for_times([TopicPartition(tp.topic, tp.partition, seek_ms) for tp in parts], timeout=10)}
        start, end = {}, {}
        for tp in parts:
            key = (tp.topic, tp.partition)
            end[key] = self.consumer.get_watermark_offsets(tp, timeout=10)[1]
            start[key] = committed[key] if committed[key] >= 0 else (by_time[key] if by_time[key] >= 0 else end[key])
        return start, end

    def remaining(self) -> int:
        """Records left to read (an upper bound: the partitions may stop at `to` earlier)."""
        return sum(self.end[tp] - self.start[tp] for tp in self.open)

    def batches(self, size: int) -> Iterator[Batch]:
        from confluent_kafka import TopicPartition

        if self.open:
            self.consumer.assign([TopicPartition(t, p, self.start[(t, p)]) for t, p in sorted(self.open)])
        while self.open:
            batch = Batch([], 0, 0, {})
            while self.open and len(batch.records) < size and batch.read < 8 * size:
                messages = self.consumer.consume(num_messages=size, timeout=1.0)
                if not messages:
                    self._close_finished()
                    break
                for message in messages:
                    self._take(message, batch)
            if batch.read:
                yield batch

    def _take(self, message: Any, batch: Batch) -> None:
        from confluent_kafka import TopicPartition

        key = (message.topic(), message.partition())
        if message.error() or key not in self.open:
            return
        if message.offset() >= self.end[key] or message.timestamp()[1] >= self.stop_ms:
            self.open.discard(key)  # this record stays unread: a resumed replay stops here again
            self.consumer.pause([TopicPartition(*key)])
            return
        batch.read += 1
        batch.position[key] = message.offset() + 1
        parsed = parse_event(message.value(), max_bytes=self.max_event_bytes)
        if isinstance(parsed, Invalid) or not (self.from_ts <= parsed.ts < self.to_ts) or (self.tenant and parsed.tenant != self.tenant):
            batch.skipped += 1  # invalid events were dead-lettered by the workers; others are out of the range
        else:
            batch.records.append(SourceRecord(key[0], key[1], message.offset(), message.value(), message.key()))
        if batch.position[key] >= self.end[key]:
            self.open.discard(key)
            self.consumer.pause([TopicPartition(*key)])

    def _close_finished(self) -> None:
        """Partitions whose position reached their end without a record there (transaction markers)."""
        from confluent_kafka import TopicPartition

        for tp in self.consumer.position([TopicPartition(t, p) for t, p in self.open]):
            if tp.offset >= self.end[(tp.topic, tp.partition)]:
                self.open.discard((tp.topic, tp.partition))

    def commit(self, batch: Batch) -> None:
        from confluent_kafka import TopicPartition

        if batch.position:
            self.consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in batch.position.items()], asynchronous=False)

    def close(self) -> None:
        self.consumer.close()


class StoredRange:
    """The range from scored_events, in (ts, event_id) order, from the cursor on."""

    source = "stored"

    def __init__(self, sink: ReplaySink, from_ts: datetime, to_ts: datetime, tenant: str, cursor: tuple[datetime, str]) -> None:
        self.sink, self.from_ts, self.to_ts, self.tenant, self.cursor = sink, from_ts, to_ts, tenant, cursor

    def remaining(self) -> int:
        return self.sink.count_stored(self.from_ts, self.to_ts, self.tenant, self.cursor)

    def batches(self, size: int) -> Iterator[Batch]:
        cursor = self.cursor
        while rows := self.sink.stored_page(self.from_ts, self.to_ts, self.tenant, cursor, size):
            cursor = (rows[-1]["ts"], str(rows[-1]["event_id"]))
            batch = Batch([], len(rows), 0, cursor)
            for row in rows:
                if not row["prompt"] and not row["response"]:
                    batch.skipped += 1  # its texts expired (TTL): nothing left to score
                else:
                    batch.records.append(stored_record(row))
            yield batch

    def commit(self, batch: Batch) -> None:
        self.cursor = batch.position  # the replay saves it with its state

    def close(self) -> None:
        pass


def stored_record(row: dict[str, Any]) -> SourceRecord:
    """A stored row as the event the workers scored (texts as stored), under the row's own source."""
    event = {name: row[name] for name in EVENT_FIELDS}
    event.update(
        event_id=str(row["event_id"]), ts=row["ts"].isoformat(), context=list(row["context"]) if row["has_context"] else None,
        environment=row["environment"] or "prod", metadata=_metadata(row["metadata"]),
        finish_reason=row["finish_reason"] or None, error_type=row["error_type"] or None, prompt_id=row["prompt_id"] or None,
        prompt_version=row["prompt_version"] or None,
    )
    if not row["tokens_estimated"]:  # estimated tokens came from no usage: let the cost scorer estimate again
        event["usage"] = {name: row[name] for name in ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens")}
    value = json.dumps(event, default=str).encode()
    return SourceRecord(row["source_topic"], row["source_partition"], row["source_offset"], value)


def _metadata(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def choose_source(kafka: KafkaSettings | None, topics: list[str], from_ts: datetime, clock_skew_s: float) -> SourceChoice:
    """Kafka when every partition of the events topic(s) still holds the records from `from_ts`
    on (nothing deleted yet, or its oldest record is older); the stored rows otherwise."""
    if kafka is None:
        return SourceChoice("stored", "Kafka not asked")
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    consumer = Consumer({**kafka.librdkafka(), "group.id": "evalstream-replay-probe", "enable.auto.commit": False, "log_level": 0,
                         "socket.connection.setup.timeout.ms": 5000})
    seek_ms = _ms(from_ts - timedelta(seconds=clock_skew_s))
    try:
        for topic in topics:
            meta = consumer.list_topics(topic, timeout=6).topics.get(topic)
            if meta is None or meta.error is not None or not meta.partitions:
                return SourceChoice("stored", f"Kafka has no topic {topic}")
            for partition in sorted(meta.partitions):
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=6)
                if low > 0 and _first_timestamp(consumer, topic, partition, low) > seek_ms:
                    return SourceChoice("stored", f"Kafka no longer retains {topic}[{partition}] from {from_ts.isoformat()}")
    except KafkaException as exc:
        reason = exc.args[0].str() if exc.args and hasattr(exc.args[0], "str") else str(exc)
        return SourceChoice("stored", f"Kafka at {kafka.bootstrap} not reachable ({reason})")
    finally:
        consumer.close()
    return SourceChoice("kafka", f"Kafka retains {', '.join(topics)} from {from_ts.isoformat()}")


def _first_timestamp(consumer: Any, topic: str, partition: int, offset: int) -> int:
    from confluent_kafka import TopicPartition

    consumer.assign([TopicPartition(topic, partition, offset)])
    try:
        for _ in range(10):
            message = consumer.poll(1.0)
            if message is not None and not message.error():
                return message.timestamp()[1]
    finally:
        consumer.unassign()
    return 1 << 62  # unreadable: do not trust Kafka for this range


def _ms(value: datetime) -> int:
    return max(0, int(value.timestamp() * 1000))
