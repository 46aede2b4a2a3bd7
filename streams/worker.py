"""The faust-streaming worker: consume genai.events, score in batches, store, then commit
(and archive the drift workers' alerts from genai.alerts, see alert_archive.py).

Delivery is at-least-once with idempotent storage:
- the agent reads with `noack()`: faust's own `take()` would ack each event as it is buffered,
  before the batch is stored, so a crash would lose the buffer;
- an event is acked only after the sink's `write` returned (or after its dead letter was
  delivered), and faust commits only acked offsets;
- agent concurrency stays 1: above 1 faust-streaming can commit past an event still in flight
  (faust-streaming #606);
- replays after a crash are dropped by the sink (see ClickHouseSink).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import faust

from evalstream.sinks import ClickHouseSink
from evalstream.streams.alert_archive import install_alert_archive
from evalstream.streams.pipeline import DeadLetter, Pipeline, SourceRecord, score_key, score_record
from evalstream.streams.settings import KafkaSettings, WorkerSettings
from evalstream.streams.topics import ensure_topics

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


def faust_credentials(kafka: KafkaSettings) -> Any:
    if not kafka.sasl_mechanism:
        return None
    ssl_context = None
    if kafka.security_protocol.endswith("SSL"):
        import ssl

        ssl_context = ssl.create_default_context(cafile=kafka.ssl_cafile)
    return faust.SASLCredentials(
        username=kafka.sasl_username or "",
        password=kafka.sasl_password.get_secret_value() if kafka.sasl_password else "",
        mechanism=kafka.sasl_mechanism,
        ssl_context=ssl_context,
    )


def new_app(app_id: str, settings: WorkerSettings, kafka: KafkaSettings) -> faust.App:
    """A faust app (its id is its consumer group) with the settings both kinds of worker share."""
    return faust.App(
        app_id,
        broker=f"kafka://{kafka.bootstrap}",
        broker_credentials=faust_credentials(kafka),
        store="memory://",
        value_serializer="raw",
        key_serializer="raw",
        topic_partitions=settings.partitions,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        stream_wait_empty=False,
        stream_buffer_maxsize=2 * settings.batch_max_events,  # bounds memory: backpressure, not buffering
        producer_max_request_size=16 * 1024 * 1024,
        consumer_max_fetch_size=16 * 1024 * 1024,
        web_enabled=False,
    )


def build_app(settings: WorkerSettings, kafka: KafkaSettings, pipeline: Pipeline, sink: ClickHouseSink) -> tuple[faust.App, BatchWriter]:
    app = new_app(settings.group_id, settings, kafka)
    events_topic = app.topic(settings.events_topic, value_type=bytes, key_type=bytes, partitions=settings.partitions)
    dlq_topic = app.topic(
        settings.dlq_topic, value_type=bytes, key_type=bytes, partitions=settings.partitions,
        config={"max.message.bytes": str(16 * 1024 * 1024)},
    )

    scores_topic = app.topic(settings.scores_topic, value_type=bytes, key_type=bytes, partitions=settings.partitions)

    async def send_dead_letter(dead: DeadLetter) -> None:
        delivered = await dlq_topic.send(key=dead.record.key, value=dead.to_json())
        await delivered  # the bad event is acked only once its dead letter is in Kafka

    async def publish_scores(rows: list[dict[str, Any]]) -> None:
        """Compact score records for the drift workers, delivered before the batch is acked."""
        pending = [await scores_topic.send(key=score_key(row), value=score_record(row)) for row in rows]
        await asyncio.gather(*pending)

    writer = BatchWriter(
        pipeline, sink, send_dead_letter, publish_scores, max_events=settings.batch_max_events, max_seconds=settings.batch_max_seconds
    )

    @app.agent(events_topic, concurrency=1)
    async def score_events(stream: faust.types.StreamT) -> None:
        async for event in stream.noack().events():
            await writer.add(stream, event)

    @app.timer(interval=min(0.1, settings.batch_max_seconds / 2))
    async def flush_due_batches() -> None:
        writer.flush_if_due()

    @app.task
    async def declare_topics() -> None:
        await dlq_topic.maybe_declare()
        await scores_topic.maybe_declare()

    ensure_topics(app, {settings.alerts_topic: {}}, settings.partitions)
    install_alert_archive(app, settings)

    @app.timer(interval=10.0)
    async def report_progress() -> None:
        s = writer.stats
        log.info(
            "consumed=%d stored=%d replayed=%d dead_lettered=%d batches=%d seconds: scoring=%.1f writing=%.1f publishing=%.1f",
            s.consumed, s.stored, s.replayed, s.dead_lettered, s.batches, s.score_seconds, s.write_seconds, s.publish_seconds,
        )

    return app, writer


class Worker(faust.Worker):
    """faust's Worker, but SIGTERM/SIGINT first store and ack the batch in hand, then stop."""

    def __init__(self, app: faust.App, writer: BatchWriter, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.writer = writer

    def _schedule_shutdown(self, signum: signal.Signals) -> None:
        if self._signal_stop_time:
            return
        self._signal_stop_time = self.loop.time()
        self._signal_stop_future = asyncio.ensure_future(self._flush_then_stop(signum), loop=self.loop)

    async def _flush_then_stop(self, signum: signal.Signals) -> None:
        self.log.info("Signal received: %s; storing the batch in hand", signum.name)
        self.writer.stopping = True
        try:
            await asyncio.wait_for(self.writer.flush(), timeout=SHUTDOWN_FLUSH_SECONDS)
        except Exception as exc:  # the unacked events are replayed by the next worker
            self.log.error("could not store the batch in hand: %r", exc)
        await self._stop_on_signal(signum)


def run_worker(settings: WorkerSettings, kafka: KafkaSettings, pipeline: Pipeline, *, loglevel: str = "info") -> None:
    sink = ClickHouseSink(settings.clickhouse)
    app, writer = build_app(settings, kafka, pipeline, sink)
    Worker(app, writer, loglevel=loglevel, quiet=True).execute_from_commandline()
