"""The notifier loop: genai.alerts -> channels, at least once.

An alert's offset is committed only after every channel that takes it has delivered it, or has
given up and written it to the dead-letter topic with the reason. Each channel waits its
grouping window for more alerts and sends a group as one message (PagerDuty: one event per
alert), within its rate limit (alerts over the limit wait, they are not dropped). An alert the
detector sent twice (same alert_id, e.g. after a worker restart) is delivered once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter, OrderedDict, deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from pydantic import ValidationError

from evalstream.contracts import Alert, describe_validation_error
from evalstream.notifiers.channel import Channel
from evalstream.notifiers.config import ChannelConfig
from evalstream.notifiers.delivery import with_retries

log = logging.getLogger("evalstream.notify")

MAX_IN_FLIGHT = 1_000  # alerts received but not yet committed; above it the consumer pauses
REMEMBERED_IDS = 10_000  # alert ids kept to drop re-sent copies


def build_channel(config: ChannelConfig) -> Channel:
    from evalstream.notifiers.log import LogChannel
    from evalstream.notifiers.pagerduty import PagerDutyChannel
    from evalstream.notifiers.slack import SlackChannel
    from evalstream.notifiers.webhook import WebhookChannel

    kinds: dict[str, type[Channel]] = {"slack": SlackChannel, "pagerduty": PagerDutyChannel, "webhook": WebhookChannel, "log": LogChannel}
    return kinds[config.type](config)


@dataclass(eq=False)
class Pending:
    partition: int
    offset: int
    received: float
    alert: Alert | None = None
    waiting: set[str] = field(default_factory=set)  # channels still to deliver to


@dataclass
class NotifyStats:
    received: int = 0
    delivered: int = 0  # (alert, channel) pairs
    dead_lettered: int = 0
    duplicates: int = 0
    invalid: int = 0
    committed: int = 0
    delivered_by_channel: Counter[str] = field(default_factory=Counter)  # for metrics (notifiers/metrics.py)
    failed_by_channel: Counter[str] = field(default_factory=Counter)


class DeadLetters:
    """genai.alerts.dlq: the alert (or the unreadable payload) with why it was not delivered."""

    def __init__(self, producer: Producer, topic: str) -> None:
        self.producer = producer
        self.topic = topic

    def send(self, key: bytes | None, record: dict[str, Any]) -> None:
        errors: list[Any] = []
        record = {**record, "dead_lettered_at": datetime.now(timezone.utc).isoformat()}
        self.producer.produce(self.topic, json.dumps(record, default=str).encode(), key=key, on_delivery=lambda err, _: errors.append(err))
        self.producer.flush(30)
        if not errors or errors[0] is not None:
            # Not committing is the only safe answer: the alert is read again after a restart.
            raise RuntimeError(f"dead letter not written to {self.topic}: {errors[0] if errors else 'timed out'}")


class Notifier:
    def __init__(self, consumer: Consumer, dead_letters: DeadLetters, channels: list[Channel], topic: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.consumer = consumer
        self.dead_letters = dead_letters
        self.channels = channels
        self.topic = topic
        self.clock = clock
        self.stats = NotifyStats()
        self._queues: dict[str, list[Pending]] = {c.name: [] for c in channels}
        self._partitions: dict[int, deque[Pending]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._paused = False

    # -- the loop ----------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, shutdown_grace_s: float = 20.0) -> None:
        self.consumer.subscribe([self.topic], on_revoke=self._on_revoke)
        reported: dict[str, int] = {}
        try:
            while not stop.is_set():
                self._receive(self._poll_timeout())
                self._deliver(force=False)
                self._commit()
                if asdict(self.stats) != reported:
                    reported = asdict(self.stats)
                    log.info("notify: %s", " ".join(f"{k}={v}" for k, v in reported.items()))
            deadline = self.clock() + shutdown_grace_s
            while self._in_flight() and self.clock() < deadline:  # what is in hand goes out now, groups or not
                self._deliver(force=True)
                self._commit()
                if self._in_flight():
                    time.sleep(0.05)
        finally:
            self._commit()
            self.consumer.close()
            for channel in self.channels:
                channel.close()
            log.info("notify stopped: %s", " ".join(f"{k}={v}" for k, v in asdict(self.stats).items()))

    def _poll_timeout(self) -> float:
        waits = []
        now = self.clock()
        for channel in self.channels:
            queue = self._queues[channel.name]
            if queue:
                waits.append(max(queue[0].received + channel.config.group_window_s - now, channel.limiter.wait_s()))
        return min([0.5, *waits]) if waits else 0.5

    def _in_flight(self) -> int:
        return sum(len(d) for d in self._partitions.values())

    def _receive(self, timeout: float) -> None:
        self._apply_backpressure()
        for message in self.consumer.consume(num_messages=200, timeout=max(timeout, 0.01)):
            if message.error():
                if message.error().code() != KafkaError._PARTITION_EOF:
                    log.warning("consumer: %s", message.error())
                continue
            self._accept(message)

    def _apply_backpressure(self) -> None:
        full = self._in_flight() >= MAX_IN_FLIGHT
        if full != self._paused:
            assignment = self.consumer.assignment()
            (self.consumer.pause if full else self.consumer.resume)(assignment)
            self._paused = full

    def _accept(self, message: Any) -> None:
        pending = Pending(message.partition(), message.offset(), self.clock())
        self._partitions.setdefault(pending.partition, deque()).append(pending)
        self.stats.received += 1
        source = {"topic": message.topic(), "partition": message.partition(), "offset": message.offset()}
        try:
            alert = Alert.model_validate_json(message.value() or b"")
        except ValidationError as exc:
            self.stats.invalid += 1
            problem = describe_validation_error(exc)
            self.dead_letters.send(message.key(), {"reason": f"not an alert: {problem}", "source": source, "payload": (message.value() or b"").decode("utf-8", "replace")})
            self.stats.dead_lettered += 1
            return
        if alert.alert_id in self._seen:
            self.stats.duplicates += 1
            return
        self._remember(alert.alert_id)
        pending.alert = alert
        for channel in self.channels:
            if channel.accepts(alert):
                pending.waiting.add(channel.name)
                self._queues[channel.name].append(pending)

    def _remember(self, alert_id: str) -> None:
        self._seen[alert_id] = None
        while len(self._seen) > REMEMBERED_IDS:
            self._seen.popitem(last=False)

    # -- delivery ----------------------------------------------------------------------------

    def _deliver(self, *, force: bool) -> None:
        now = self.clock()
        for channel in self.channels:
            queue = self._queues[channel.name]
            if not queue or (not force and now - queue[0].received < channel.config.group_window_s):
                continue
            by_alert = {id(p.alert): p for p in queue}
            for group in channel.messages([p.alert for p in queue if p.alert is not None]):
                if not channel.limiter.try_acquire():
                    break  # over the rate limit: the rest waits for the next token
                outcome = with_retries(lambda: channel.send(group), channel.config.retry)
                delivered = [by_alert[id(a)] for a in group]
                if outcome.delivered:
                    self.stats.delivered += len(group)
                    self.stats.delivered_by_channel[channel.name] += len(group)
                    log.info("delivered %d alert(s) to %s (attempt %d): %s", len(group), channel.name, outcome.attempts, ", ".join(a.alert_id for a in group))
                else:
                    reason = f"channel {channel.name!r} ({channel.config.type}): {outcome.reason} after {outcome.attempts} attempt(s)"
                    log.error("dead-lettering %d alert(s): %s", len(group), reason)
                    self.stats.failed_by_channel[channel.name] += len(group)
                    for pending in delivered:
                        self._dead_letter(pending, channel, reason, outcome.attempts)
                for pending in delivered:
                    pending.waiting.discard(channel.name)
                    queue.remove(pending)

    def _dead_letter(self, pending: Pending, channel: Channel, reason: str, attempts: int) -> None:
        assert pending.alert is not None
        self.dead_letters.send(
            pending.alert.fingerprint.encode(),
            {
                "reason": reason,
                "channel": channel.name,
                "channel_type": channel.config.type,
                "attempts": attempts,
                "source": {"topic": self.topic, "partition": pending.partition, "offset": pending.offset},
                "alert": json.loads(pending.alert.model_dump_json()),
            },
        )
        self.stats.dead_lettered += 1

    # -- offsets -----------------------------------------------------------------------------

    def _commit(self) -> None:
        offsets = []
        for partition, pendings in self._partitions.items():
            last = None
            while pendings and not pendings[0].waiting:
                last = pendings.popleft().offset
            if last is not None:
                offsets.append(TopicPartition(self.topic, partition, last + 1))
        if not offsets:
            return
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
            self.stats.committed += len(offsets)
        except KafkaException as exc:  # e.g. a rebalance took the partition: its alerts come again
            log.warning("commit failed (%s); the alerts will be read again", exc)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._commit()
        lost = {tp.partition for tp in partitions}
        for partition in lost:
            self._partitions.pop(partition, None)
        for channel in self.channels:
            self._queues[channel.name] = [p for p in self._queues[channel.name] if p.partition not in lost]
        self._paused = False
