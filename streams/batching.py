"""Batches of events for the scoring worker: cut by count, bytes or age, scored, stored, and only then acked.

An event is acked only after the sink stored its row (or it was stored before, or its dead
letter was delivered); faust commits only acked offsets, so a crash replays the batch and the
sink drops what it already stored.

No event is lost on any exception path, and none stalls the worker:
- an event that breaks processing (a parser, the redactor, a scorer) is found by processing the
  batch one event at a time, and dead-lettered;
- a storage error worth a retry is retried with backoff while the rows wait; a row ClickHouse
  refuses is found by bisecting the batch (ClickHouseSink.write_isolating) and dead-lettered;
- a dead letter the DLQ does not take is sent again without its payload, until delivered;
- score records are retried until published; only the rows stored now get one;
- anything else puts the batch's events back at the head of the buffer and is raised.
Each wait gives up only while the worker is stopping, leaving the events unacked for the next run.
A revoked partition's events are dropped from the buffer unacked (the new owner replays them),
and an in-flight batch stops writing them before the revocation completes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from typing import Any, Awaitable, Callable, Iterable

import faust
import tenacity

from evalstream.contracts import StoredRow
from evalstream.scorers.base import ScorerContractError
from evalstream.sinks import ClickHouseSink
from evalstream.sinks.storage_errors import WriteOutcome
from evalstream.streams.pipeline import BatchResult, DeadLetter, Pipeline, SourceRecord
from evalstream.streams.validate import Invalid

log = logging.getLogger("evalstream.worker")

SHUTDOWN_FLUSH_SECONDS = 20.0  # of the 30 s a worker gets to stop after SIGTERM
REVOKE_WAIT_SECONDS = 30.0  # for a write in flight to finish before a revocation completes

Partition = tuple[str, int]


@dataclass
class WorkerStats:
    consumed: int = 0
    stored: int = 0
    replayed: int = 0  # already stored by an earlier run, skipped
    dead_lettered: int = 0
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)  # Invalid.kind -> count
    refused_by_storage: int = 0  # among the dead letters
    batches: int = 0
    write_retries: int = 0
    dropped_on_revoke: int = 0
    # Where the time goes, summed over batches.
    score_seconds: float = 0.0
    write_seconds: float = 0.0
    publish_seconds: float = 0.0


class BatchWriter:
    """Cuts the stream into batches by count, bytes or age; scores, stores, and only then acks."""

    def __init__(
        self,
        pipeline: Pipeline,
        sink: ClickHouseSink,
        send_dead_letter: Callable[[DeadLetter], Awaitable[Any]],
        publish_scores: Callable[[list[StoredRow]], Awaitable[Any]],
        *,
        max_events: int,
        max_seconds: float,
        max_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        self.pipeline = pipeline
        self.sink = sink
        self.send_dead_letter = send_dead_letter
        self.publish_scores = publish_scores
        self.max_events = max_events
        self.max_seconds = max_seconds
        self.max_bytes = max_bytes
        self.stats = WorkerStats()
        # Per stored batch: (events, scoring, writing, publishing seconds), for metrics (streams/metrics.py).
        self.on_batch: Callable[[int, float, float, float], None] | None = None
        self.stopping = False
        self._buffer: list[faust.types.EventT] = []
        self._buffered_bytes = 0
        self._oldest: float = 0.0
        self._stream: faust.types.StreamT | None = None
        self._lock = asyncio.Lock()
        self._timed_flush: asyncio.Future[None] | None = None
        self._revoked: set[Partition] = set()
        self._write_idle = asyncio.Event()
        self._write_idle.set()
        # One thread for CPU work keeps the event loop free for Kafka heartbeats.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch")

    # -- the buffer -----------------------------------------------------------------------------

    async def add(self, stream: faust.types.StreamT, event: faust.types.EventT) -> None:
        self._stream = stream
        if not self._buffer:
            self._oldest = time.monotonic()
        self._buffer.append(event)
        self._buffered_bytes += _size(event)
        self.stats.consumed += 1
        if len(self._buffer) >= self.max_events or self._buffered_bytes >= self.max_bytes:
            await self.flush()

    def flush_if_due(self) -> None:
        """Called by a timer: starts a flush of an old enough batch without making the timer wait."""
        due = self._buffer and time.monotonic() - self._oldest >= self.max_seconds
        if due and not self._lock.locked() and (self._timed_flush is None or self._timed_flush.done()):
            self._timed_flush = asyncio.ensure_future(self.flush())
            self._timed_flush.add_done_callback(_log_failed_flush)

    async def flush(self) -> None:
        async with self._lock:
            events, self._buffer, self._buffered_bytes = self._buffer, [], 0
            if not events:
                return
            try:
                await self._store_and_ack(events)
            except BaseException:
                self._put_back(events)
                raise

    def _put_back(self, events: list[faust.types.EventT]) -> None:
        """Unacked events of assigned partitions return to the head of the buffer, in order."""
        kept = [e for e in events if not e.message.acked and _partition(e) not in self._revoked]
        self._buffer[:0] = kept
        self._buffered_bytes += sum(_size(e) for e in kept)
        self._oldest = time.monotonic()

    # -- rebalances -----------------------------------------------------------------------------

    async def on_partitions_revoked(self, revoked: Iterable[Any]) -> None:
        """Before a revocation completes: drop the buffered events of the revoked partitions (unacked:
        the new owner replays them) and let a write in flight finish; later writes skip them."""
        gone = {(tp.topic, tp.partition) for tp in revoked}
        self._revoked |= gone
        kept = [e for e in self._buffer if _partition(e) not in gone]
        self.stats.dropped_on_revoke += len(self._buffer) - len(kept)
        self._buffer = kept
        self._buffered_bytes = sum(_size(e) for e in kept)
        try:
            await asyncio.wait_for(self._write_idle.wait(), REVOKE_WAIT_SECONDS)
        except asyncio.TimeoutError:
            log.error("a write was still in flight %.0fs into a revocation", REVOKE_WAIT_SECONDS)

    def on_partitions_assigned(self, assigned: Iterable[Any]) -> None:
        self._revoked -= {(tp.topic, tp.partition) for tp in assigned}

    # -- one batch ------------------------------------------------------------------------------

    async def _store_and_ack(self, events: list[faust.types.EventT]) -> None:
        loop = asyncio.get_running_loop()
        records = [
            SourceRecord(e.message.topic, e.message.partition, e.message.offset, e.message.value, e.message.key) for e in events
        ]
        started = time.perf_counter()
        result = await loop.run_in_executor(self._pool, self._process, records)
        score_seconds = time.perf_counter() - started
        self.stats.score_seconds += score_seconds

        started = time.perf_counter()
        outcome = await self._store(result.rows)
        if outcome is None:
            return  # stopping with storage down: leave unacked, the next run replays them
        write_seconds = time.perf_counter() - started
        self.stats.write_seconds += write_seconds
        by_source = {(r.topic, r.partition, r.offset): r for r in records}
        refused = [
            DeadLetter(by_source[(row.source_topic, row.source_partition, row.source_offset)], Invalid("storage_refused", why))
            for row, why in outcome.refused
        ]
        for dead in [*result.dead_letters, *refused]:
            if not await self._dead_letter(dead):
                return
        started = time.perf_counter()
        if not await self._until_done("publish of score records", lambda: self.publish_scores(outcome.stored)):
            return
        publish_seconds = time.perf_counter() - started
        self.stats.publish_seconds += publish_seconds

        assert self._stream is not None
        for event in events:
            if _partition(event) not in self._revoked:
                await self._stream.ack(event)
        self.stats.stored += len(outcome.stored)
        self.stats.replayed += len(outcome.attempted) - len(outcome.stored) - len(outcome.refused)
        self.stats.dead_lettered += len(result.dead_letters) + len(refused)
        self.stats.refused_by_storage += len(refused)
        self.stats.batches += 1
        self.stats.dead_letter_reasons.update(dead.invalid.kind for dead in [*result.dead_letters, *refused])
        if self.on_batch is not None:
            self.on_batch(len(events), score_seconds, write_seconds, publish_seconds)

    def _process(self, records: list[SourceRecord]) -> BatchResult:
        """The pipeline on the batch; should it raise, one event at a time, dead-lettering those that raise."""
        try:
            return self.pipeline.process(records)
        except ScorerContractError:
            raise  # a scorer's code is wrong, not an event
        except Exception as exc:  # never its text in the log: it can quote the event
            log.error("processing a batch of %d raised %s; processing it one event at a time", len(records), type(exc).__name__)
        result = BatchResult()
        for record in records:
            try:
                one = self.pipeline.process([record])
            except ScorerContractError:
                raise
            except Exception as exc:
                result.dead_letters.append(DeadLetter(record, Invalid("processing_failed", f"{type(exc).__name__} while processing the event")))
                continue
            result.rows.extend(one.rows)
            result.dead_letters.extend(one.dead_letters)
        return result

    async def _store(self, rows: list[StoredRow]) -> WriteOutcome | None:
        """Stores what storage accepts, names what it refuses; retries the rest while storage fails."""
        loop = asyncio.get_running_loop()
        outcome = WriteOutcome()

        def remaining() -> list[StoredRow]:
            done = {id(r) for r in outcome.attempted}
            return [r for r in rows if id(r) not in done and (r.source_topic, r.source_partition) not in self._revoked]

        async def attempt() -> None:
            self._write_idle.clear()
            try:
                await loop.run_in_executor(self._pool, self.sink.write_isolating, remaining(), outcome)
            finally:
                self._write_idle.set()

        return outcome if await self._until_done(f"write of {len(rows)} rows", attempt, count_retries=True) else None

    async def _dead_letter(self, dead: DeadLetter) -> bool:
        where = f"{dead.record.topic}[{dead.record.partition}]@{dead.record.offset}"
        log.warning("dead-lettered %s (%s): %s", where, dead.invalid.kind, dead.invalid.reason[:300])
        try:
            # Built on the worker thread: redacting a large payload takes seconds, the event loop must keep heartbeating.
            encoded = await asyncio.get_running_loop().run_in_executor(self._pool, dead.to_json)
            await self.send_dead_letter(EncodedDeadLetter(**{f.name: getattr(dead, f.name) for f in fields(dead)}, encoded=encoded))
            return True
        except Exception as exc:
            log.error("the dead letter of %s could not be sent (%s); sending it without its payload", where, type(exc).__name__)
        bare = DeadLetter(
            replace(dead.record, value=None),
            Invalid(dead.invalid.kind, f"{dead.invalid.reason} [payload left out: its dead letter could not be sent]"),
        )
        return await self._until_done(f"dead letter of {where}", lambda: self.send_dead_letter(bare))

    async def _until_done(self, what: str, action: Callable[[], Awaitable[Any]], *, count_retries: bool = False) -> bool:
        """Retries `action` with backoff until it succeeds (True); gives up only once stopping (False)."""
        retrying = tenacity.AsyncRetrying(
            # 0.5 s, 1 s, 2 s, 4 s, then every 5 s: back within seconds of the storage (or broker) returning
            wait=tenacity.wait_exponential(multiplier=0.5, max=5.0),
            stop=self._stop_once_stopping_too_long(),
            after=self._count_failed_write if count_retries else None,
            before_sleep=lambda state: log.warning(
                "%s failed (%s); retrying in %.1fs", what, _describe(state.outcome.exception()), state.upcoming_sleep
            ),
            reraise=True,
        )

        async def attempt() -> Any:  # a coroutine function: tenacity calls anything else synchronously
            return await action()

        try:
            await retrying(attempt)
        except Exception as exc:
            log.error("giving up the %s while stopping; the events will be replayed: %s", what, _describe(exc))
            return False
        return True

    def _count_failed_write(self, _: tenacity.RetryCallState) -> None:
        self.stats.write_retries += 1

    def _stop_once_stopping_too_long(self) -> Callable[[tenacity.RetryCallState], bool]:
        """Never while running; once stopping, after half the shutdown's flush time of failures."""
        deadline: float | None = None

        def stop(_: tenacity.RetryCallState) -> bool:
            nonlocal deadline
            if not self.stopping:
                return False
            deadline = deadline or time.monotonic() + SHUTDOWN_FLUSH_SECONDS / 2
            return time.monotonic() > deadline

        return stop


@dataclass(frozen=True)
class EncodedDeadLetter(DeadLetter):
    """A dead letter whose JSON is already built."""

    encoded: bytes = b""

    def to_json(self) -> bytes:
        return self.encoded


def _size(event: faust.types.EventT) -> int:
    return len(event.message.value or b"")


def _partition(event: faust.types.EventT) -> Partition:
    return (event.message.topic, event.message.partition)


def _describe(exc: BaseException | None) -> str:
    """An error's class and ClickHouse code only: a message can quote the rows."""
    if exc is None:
        return "no error"
    code = getattr(exc, "code", None)
    return f"{type(exc).__name__}" + (f" code {code}" if code is not None else "")


def _log_failed_flush(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("a timed flush failed (%s); its events are back in the buffer", _describe(future.exception()))
