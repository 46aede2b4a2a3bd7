"""The notifier loop: genai.alerts -> channels, at least once.

An alert's offset is committed only after every channel that takes it has delivered it, or has
given up and written it to the dead-letter topic with the reason (and handed it to its fallback
channel, if it names one, which then must finish too). Each channel delivers on a lane of its own
(notifiers/lanes.py): its grouping window, its rate limit, its thread, so a dead receiver never
holds back another channel, and this loop keeps polling Kafka. An alert the detector sent twice
(same alert_id, e.g. after a worker restart) is delivered once.
"""

from __future__ import annotations

import json
import logging
import queue
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
from evalstream.notifiers.delivery import Outcome
from evalstream.notifiers.lanes import Lane, Pending, Result, Task

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


@dataclass
class NotifyStats:
    received: int = 0
    delivered: int = 0  # (alert, channel) pairs
    dead_lettered: int = 0
    duplicates: int = 0
    invalid: int = 0
    committed: int = 0
    delivered_by_channel: Counter[str] = field(default_factory=Counter)  # for metrics (notifiers/metrics.py)
    failed_by_channel: Counter[str] = field(default_factory=Counter)  # alerts given up (dead-lettered)
    retried_by_channel: Counter[str] = field(default_factory=Counter)  # alerts whose delivery failed for now, queued again
    fallback_by_channel: Counter[str] = field(default_factory=Counter)  # alerts handed to the fallback, by the channel that gave up


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
    def __init__(
        self, consumer: Consumer, dead_letters: DeadLetters, channels: list[Channel], topic: str, *,
        clock: Callable[[], float] = time.monotonic, revoke_wait_s: float = 570.0,
    ) -> None:
        self.consumer = consumer
        self.dead_letters = dead_letters
        self.topic = topic
        self.clock = clock
        self.revoke_wait_s = revoke_wait_s
        self.stats = NotifyStats()
        self.stopping = threading.Event()  # set: deliveries stop before their next retry
        self._results: queue.SimpleQueue[Result] = queue.SimpleQueue()
        self.lanes = {c.name: Lane(c, self._results, self.stopping, clock) for c in channels}
        self._partitions: dict[int, deque[Pending]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._paused = False

    # -- the loop ----------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, shutdown_grace_s: float = 20.0) -> None:
        self.consumer.subscribe([self.topic], on_revoke=self._on_revoke)
        reported: dict[str, Any] = {}
        try:
            while not stop.is_set():
                self._receive(self._poll_timeout())
                self._settle(block_s=0)
                self._dispatch(force=False)
                self._commit()
                if asdict(self.stats) != reported:
                    reported = asdict(self.stats)
                    log.info("notify: %s", " ".join(f"{k}={v}" for k, v in reported.items()))
            deadline = self.clock() + shutdown_grace_s
            while self._in_flight() and self.clock() < deadline and self._can_progress():  # what is in hand goes out now, groups or not
                self._dispatch(force=True)
                self._settle(block_s=0.05)
                self._commit()
        finally:
            self.stopping.set()
            for lane in self.lanes.values():  # a delivery running now ends after its current attempt
                lane.close(wait=True)
            self._settle(block_s=0)
            self._commit()
            self.consumer.close()
            log.info("notify stopped: %s", " ".join(f"{k}={v}" for k, v in asdict(self.stats).items()))

    def _can_progress(self) -> bool:
        """Whether a delivery runs or can start (not every lane that holds alerts is holding off)."""
        return any(lane.in_flight or (lane.queued and not lane.down) for lane in self.lanes.values())

    def _poll_timeout(self) -> float:
        if any(lane.in_flight for lane in self.lanes.values()):
            return 0.05  # a result may come any moment: look again soon
        waits = [w for lane in self.lanes.values() if (w := lane.wait_s()) is not None]
        return min([0.5, *waits])

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
        for lane in self.lanes.values():
            if lane.channel.accepts(alert):
                pending.waiting.add(lane.name)
                lane.add(Task(pending, lane.name))

    def _remember(self, alert_id: str) -> None:
        self._seen[alert_id] = None
        while len(self._seen) > REMEMBERED_IDS:
            self._seen.popitem(last=False)

    # -- delivery ----------------------------------------------------------------------------

    def _dispatch(self, *, force: bool) -> None:
        for lane in self.lanes.values():
            lane.dispatch(force=force)

    def _settle(self, *, block_s: float) -> None:
        """Takes in the deliveries that finished: counts them, dead-letters and falls back what was given up."""
        try:
            results = [self._results.get(timeout=block_s) if block_s else self._results.get_nowait()]
        except queue.Empty:
            return
        while True:
            try:
                results.append(self._results.get_nowait())
            except queue.Empty:
                break
        for result in results:
            self._settle_one(result)

    def _settle_one(self, result: Result) -> None:
        lane, outcome = result.lane, result.outcome
        delivered, given_up = lane.settle(result)
        name = lane.name
        if delivered:
            self.stats.delivered += len(delivered)
            self.stats.delivered_by_channel[name] += len(delivered)
            log.info("delivered %d alert(s) to %s (attempt %d): %s", len(delivered), name, outcome.attempts, ", ".join(t.pending.alert.alert_id for t in delivered if t.pending.alert))
        elif not result.cancelled and outcome.retryable and len(given_up) < len(result.tasks):
            self.stats.retried_by_channel[name] += len(result.tasks) - len(given_up)
            log.warning("channel %r: %s after %d attempt(s); %d alert(s) wait for it", name, outcome.reason, outcome.attempts, len(result.tasks) - len(given_up))
        if given_up:
            self._give_up(lane, given_up, outcome)
        for task in [*delivered, *given_up]:
            task.pending.waiting.discard(task.route)

    def _give_up(self, lane: Lane, tasks: list[Task], outcome: Outcome) -> None:
        config = lane.channel.config
        reason = f"channel {lane.name!r} ({config.type}): {outcome.reason} after {outcome.attempts} attempt(s)"
        live = [t for t in tasks if not t.pending.revoked]  # a revoked partition's alerts are the new owner's now
        fallback = self.lanes.get(config.fallback or "")
        if not live:
            return
        log.error("giving up %d alert(s): %s; %s", len(live), reason, f"falling back to {fallback.name!r}" if fallback else "dead letters only")
        self.stats.failed_by_channel[lane.name] += len(live)
        for task in live:
            if fallback is not None:  # before the dead letter: the alert must not look finished meanwhile
                route = f"{fallback.name}<-{lane.name}"
                task.pending.waiting.add(route)
                fallback.add(Task(task.pending, route, note=f"not delivered to {lane.name} ({config.type}): {outcome.reason}"))
                self.stats.fallback_by_channel[lane.name] += 1
            self._dead_letter(task.pending, lane, reason, outcome.attempts, fallback.name if fallback else None)

    def _dead_letter(self, pending: Pending, lane: Lane, reason: str, attempts: int, fallback: str | None) -> None:
        assert pending.alert is not None
        self.dead_letters.send(
            pending.alert.fingerprint.encode(),
            {
                "reason": reason,
                "channel": lane.name,
                "channel_type": lane.channel.config.type,
                "attempts": attempts,
                "fallback": fallback,
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
        """Before the partitions go: what is in hand for them goes out now (groups aside) and is
        committed, so their new owner does not send it again. Bounded under max.poll.interval."""
        lost = {tp.partition for tp in partitions}
        deadline = self.clock() + (0 if self.stopping.is_set() else self.revoke_wait_s)  # stopping: the lanes are closed
        if lost and not self.stopping.is_set():
            log.info("rebalance: partitions %s revoked; finishing their deliveries first", sorted(lost))
        while any(lane.busy_with(lost) for lane in self.lanes.values()) and self.clock() < deadline:
            self._dispatch(force=True)
            self._settle(block_s=0.05)
        if not self.stopping.is_set() and (busy := [lane.name for lane in self.lanes.values() if lane.busy_with(lost)]):
            log.warning("rebalance: deliveries on %s still running; the partitions' new owner may send them again", busy)
        self._commit()
        for partition in lost:
            for pending in self._partitions.pop(partition, ()):
                pending.revoked = True
                if pending.waiting and pending.alert is not None:  # not finished: if the partition comes back, it is not a duplicate
                    self._seen.pop(pending.alert.alert_id, None)
        for lane in self.lanes.values():
            lane.drop(lost)
        self._paused = False
