"""One lane per channel: its queue, its grouping window, its rate limit and one delivery thread of
its own. A receiver that hangs or answers 503 holds back its own channel only; the notifier's
loop never waits on a receiver, so it keeps polling Kafka while deliveries run.

A delivery (one message, with its retries) is bounded (RetryConfig.worst_case_s, checked against
max.poll.interval at start). When it fails for now (5xx, 429, no connection) its alerts go back to
the front of the queue and the lane holds off for `max_backoff_s` before it tries again, until the
receiver has been failing for `give_up_after_s`: then the alerts are given up (dead letter, fallback).
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from evalstream.contracts import Alert
from evalstream.notifiers.channel import Channel
from evalstream.notifiers.delivery import Cancelled, Outcome, with_retries

log = logging.getLogger("evalstream.notify")


@dataclass(eq=False)
class Pending:
    """An alert read from Kafka, until every route that takes it is done (delivered or given up)."""

    partition: int
    offset: int
    received: float
    alert: Alert | None = None
    waiting: set[str] = field(default_factory=set)  # routes still to finish: "slack", or "slack<-pager" for a fallback
    revoked: bool = False  # its partition went to another notifier: results no longer count


@dataclass(eq=False)
class Task:
    """One alert for one channel."""

    pending: Pending
    route: str
    note: str = ""  # why it is here when it is a fallback
    failing_since: float | None = None  # when its receiver first failed it for now


@dataclass
class Result:
    lane: Lane
    tasks: list[Task]
    outcome: Outcome
    cancelled: bool = False


class Lane:
    def __init__(self, channel: Channel, results: queue.SimpleQueue[Result], stopping: threading.Event, clock: Callable[[], float]) -> None:
        self.channel = channel
        self.results = results
        self.stopping = stopping
        self.clock = clock
        self.queued: list[Task] = []
        self.in_flight: list[Task] = []
        self.hold_until = 0.0  # after a failed delivery: no new one before this
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"notify-{channel.name}")

    @property
    def name(self) -> str:
        return self.channel.name

    @property
    def down(self) -> bool:
        return self.hold_until > self.clock()

    def add(self, task: Task) -> None:
        self.queued.append(task)

    def wait_s(self) -> float | None:
        """Seconds until this lane has something to send; None when it has nothing."""
        if not self.queued:
            return None
        now = self.clock()
        window_end = self.queued[0].pending.received + self.channel.config.group_window_s
        return max(window_end - now, self.hold_until - now, self.channel.limiter.wait_s(), 0.0)

    def dispatch(self, *, force: bool) -> None:
        """Hands the messages that are due (their window over, or `force`) to the lane's thread, within
        the rate limit; one delivery at a time, so an outage costs one message's retries, not each one's."""
        now = self.clock()
        if self.in_flight or not self.queued or now < self.hold_until or self.stopping.is_set():
            return
        if not force and now - self.queued[0].pending.received < self.channel.config.group_window_s:
            return
        due = []
        for tasks in self._messages():
            if not self.channel.limiter.try_acquire():
                break  # over the rate limit: the rest waits for the next token
            due.append(tasks)
        for tasks in due:
            for task in tasks:
                self.queued.remove(task)
            self.in_flight.extend(tasks)
        if due:
            self.executor.submit(self._deliver, due)

    def _messages(self) -> list[list[Task]]:
        by_note: dict[str, list[Task]] = {}
        for task in self.queued:
            by_note.setdefault(task.note, []).append(task)
        messages = []
        for tasks in by_note.values():
            by_alert = {id(t.pending.alert): t for t in tasks}
            messages += [[by_alert[id(a)] for a in group] for group in self.channel.messages([t.pending.alert for t in tasks if t.pending.alert])]
        return messages

    def _deliver(self, messages: list[list[Task]]) -> None:
        """On the lane's thread: the messages in turn, each with its retries; each result goes back to
        the loop. After a failure for now the rest are not tried: they come back with the same reason."""
        failed: Outcome | None = None
        for tasks in messages:
            if failed is not None:
                self.results.put(Result(self, tasks, Outcome(False, 0, failed.reason, retryable=True), cancelled=self.stopping.is_set()))
                continue
            alerts = [t.pending.alert for t in tasks if t.pending.alert is not None]
            try:
                outcome = with_retries(lambda: self.channel.send(alerts, tasks[0].note), self.channel.config.retry, sleep=self._sleep)
                self.results.put(Result(self, tasks, outcome))
                failed = outcome if outcome.retryable else None
            except Cancelled:
                self.results.put(Result(self, tasks, Outcome(False, 0, "stopped"), cancelled=True))
                failed = Outcome(False, 0, "stopped")
            except BaseException as exc:  # never lose a result: the loop must learn the tasks are no longer in flight
                self.results.put(Result(self, tasks, Outcome(False, 0, type(exc).__name__)))

    def _sleep(self, seconds: float) -> None:
        if self.stopping.wait(seconds):
            raise Cancelled()

    def settle(self, result: Result) -> tuple[list[Task], list[Task]]:
        """Takes a finished delivery back: returns (delivered, given up); what failed for now is queued again."""
        for task in result.tasks:
            self.in_flight.remove(task)
        if result.outcome.delivered:
            self.hold_until = 0.0
            return result.tasks, []
        if result.cancelled:
            return [], []
        if not result.outcome.retryable:
            return [], result.tasks
        now = self.clock()
        self.hold_until = now + self.channel.config.retry.max_backoff_s
        retry, give_up = [], []
        for task in result.tasks:
            task.failing_since = now if task.failing_since is None else task.failing_since
            (give_up if now - task.failing_since >= self.channel.config.give_up_after_s else retry).append(task)
        # back in the order they arrived (a job's messages settle one by one)
        self.queued = sorted(self.queued + [t for t in retry if not t.pending.revoked], key=lambda t: t.pending.received)
        return [], give_up

    def drop(self, partitions: set[int]) -> None:
        self.queued = [t for t in self.queued if t.pending.partition not in partitions]

    def busy_with(self, partitions: set[int]) -> bool:
        """Whether a delivery for these partitions is running, or could start now."""
        can_start = not self.down and self.channel.limiter.wait_s() == 0
        tasks = self.in_flight + (self.queued if can_start else [])
        return any(t.pending.partition in partitions for t in tasks)

    def close(self, wait: bool) -> None:
        self.executor.shutdown(wait=wait, cancel_futures=True)
        self.channel.close()
