"""Batches of events for the scoring worker: cut by count or age, scored, stored, and only then acked.

An event is acked only after the sink's `write` returned (or after its dead letter was
delivered); faust commits only acked offsets, so a crash replays the batch and the sink
drops what it already stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import faust

from evalstream.sinks import ClickHouseSink
from evalstream.streams.pipeline import DeadLetter, Pipeline, SourceRecord

log = logging.getLogger("evalstream.worker")

SHUTDOWN_FLUSH_SECONDS = 20.0  # of the 30 s a worker gets to stop after SIGTERM


@dataclass
class WorkerStats:
    consumed: int = 0
    stored: int = 0
    replayed: int = 0  # already stored by an earlier run, skipped
    dead_lettered: int = 0
    batches: int = 0
    write_retries: int = 0
    # Where the time goes, summed over batches.
    score_seconds: float = 0.0
    write_seconds: float = 0.0
    publish_seconds: float = 0.0


class BatchWriter:
    """Cuts the stream into batches by count or age; scores, stores, and only then acks."""

    def __init__(
        self,
        pipeline: Pipeline,
        sink: ClickHouseSink,
        send_dead_letter: Callable[[DeadLetter], Awaitable[Any]],
        publish_scores: Callable[[list[dict[str, Any]]], Awaitable[Any]],
        *,
        max_events: int,
        max_seconds: float,
    ) -> None:
        self.pipeline = pipeline
        self.sink = sink
        self.send_dead_letter = send_dead_letter
        self.publish_scores = publish_scores
        self.max_events = max_events
        self.max_seconds = max_seconds
        self.stats = WorkerStats()
        self.stopping = False
        self._buffer: list[faust.types.EventT] = []
        self._oldest: float = 0.0
        self._stream: faust.types.StreamT | None = None
        self._lock = asyncio.Lock()
        self._timed_flush: asyncio.Future[None] | None = None
        # One thread for CPU work keeps the event loop free for Kafka heartbeats.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch")

    async def add(self, stream: faust.types.StreamT, event: faust.types.EventT) -> None:
        self._stream = stream
        if not self._buffer:
            self._oldest = time.monotonic()
        self._buffer.append(event)
        self.stats.consumed += 1
        if len(self._buffer) >= self.max_events:
            await self.flush()

    def flush_if_due(self) -> None:
        """Called by a timer: starts a flush of an old enough batch without making the timer wait."""
        due = self._buffer and time.monotonic() - self._oldest >= self.max_seconds
        if due and not self._lock.locked() and (self._timed_flush is None or self._timed_flush.done()):
            self._timed_flush = asyncio.ensure_future(self.flush())

    async def flush(self) -> None:
        async with self._lock:
            events, self._buffer = self._buffer, []
            if not events:
                return
            loop = asyncio.get_running_loop()
            records = [
                SourceRecord(e.message.topic, e.message.partition, e.message.offset, e.message.value, e.message.key)
                for e in events
            ]
            started = time.perf_counter()
            result = await loop.run_in_executor(self._pool, self.pipeline.process, records)
            self.stats.score_seconds += time.perf_counter() - started
            for dead in result.dead_letters:
                log.warning(
                    "dead-lettered %s[%d]@%d: %s", dead.record.topic, dead.record.partition, dead.record.offset, dead.invalid.reason
                )
                await self.send_dead_letter(dead)
            started = time.perf_counter()
            if not await self._write_until_stored(result.rows):
                return  # stopping with storage down: leave unacked, the next run replays them
            self.stats.write_seconds += time.perf_counter() - started
            started = time.perf_counter()
            await self.publish_scores(result.rows)
            self.stats.publish_seconds += time.perf_counter() - started
            assert self._stream is not None
            for event in events:
                await self._stream.ack(event)
            self.stats.dead_lettered += len(result.dead_letters)
            self.stats.batches += 1

    async def _write_until_stored(self, rows: list[dict[str, Any]]) -> bool:
        loop = asyncio.get_running_loop()
        delay, deadline = 0.5, None
        while True:
            try:
                written = await loop.run_in_executor(self._pool, self.sink.write, rows)
                self.stats.stored += written
                self.stats.replayed += len(rows) - written
                return True
            except Exception as exc:  # storage down or refusing: retry, never drop
                self.stats.write_retries += 1
                if self.stopping:
                    deadline = deadline or time.monotonic() + SHUTDOWN_FLUSH_SECONDS / 2
                    if time.monotonic() > deadline:
                        log.error("giving up writing %d rows while stopping; they will be replayed: %s", len(rows), exc)
                        return False
                log.warning("write of %d rows failed (%s: %s); retrying in %.1fs", len(rows), type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
