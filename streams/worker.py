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
from typing import Any

import faust

from evalstream.config.settings import Settings
from evalstream.kafka.app import new_app
from evalstream.kafka.client_logs import quiet_client_retries
from evalstream.kafka.topics import DLQ_CONFIG, ensure_topics, scoring_topics
from evalstream.sinks import ClickHouseSink
from evalstream.streams.alert_archive import install_alert_archive
from evalstream.streams.batching import SHUTDOWN_FLUSH_SECONDS, BatchWriter
from evalstream.streams.dead_letters import raw_dead_letter_topic
from evalstream.streams.feedback_archive import install_feedback_archive
from evalstream.streams.otlp import otlp_source
from evalstream.streams.otlp_scores import evaluation_request
from evalstream.streams.pipeline import DeadLetter, Pipeline, score_key, score_record

log = logging.getLogger("evalstream.worker")


def build_app(settings: Settings, pipeline: Pipeline, sink: ClickHouseSink) -> tuple[faust.App, BatchWriter]:
    app = new_app(settings.worker.group_id, settings)
    topics, partitions = settings.topics, settings.topics.partitions
    # OpenTelemetry spans (EVALSTREAM_OTLP_TOPIC): the same agent reads them; the pipeline maps a record to N events.
    pipeline.otlp = otlp_source(settings.otlp.topic, settings.otlp.encoding, settings.otlp.mapping)
    otlp_topics = [pipeline.otlp.topic] if pipeline.otlp else []
    evaluations_topic = app.topic(settings.otlp.scores_topic, value_type=bytes, key_type=bytes) if settings.otlp.scores_topic else None
    # One events topic, or one per tenant (EVALSTREAM_TENANT_TOPICS): then the topic says whose event it is.
    event_topics = topics.event_topics()
    pipeline.tenant_of_topic = topics.tenant_of_topic if topics.tenant_topics else None
    events_topic = app.topic(*event_topics, *otlp_topics, value_type=bytes, key_type=bytes, partitions=partitions)
    # The same configuration as ensure_topics', should faust have to create the DLQ itself.
    dlq_topic = app.topic(topics.dlq, value_type=bytes, key_type=bytes, partitions=partitions, config=DLQ_CONFIG)
    scores_topic = app.topic(topics.scores, value_type=bytes, key_type=bytes, partitions=partitions)

    raw_dlq_topic = raw_dead_letter_topic(app, settings.kafka, partitions)  # off unless EVALSTREAM_DLQ_RAW_TOPIC

    async def send_dead_letter(dead: DeadLetter) -> None:
        delivered = await dlq_topic.send(key=dead.record.key, value=dead.to_json())
        await delivered  # the bad event is acked only once its dead letter is in Kafka
        if raw_dlq_topic is not None:
            await (await raw_dlq_topic.send(key=dead.record.key, value=dead.record.value or b""))

    async def publish_scores(rows: list[dict[str, Any]]) -> None:
        """Compact score records for the drift workers, delivered before the batch is acked."""
        pending = [await scores_topic.send(key=score_key(row), value=score_record(row)) for row in rows]
        evaluations = evaluation_request(rows) if evaluations_topic is not None else None
        if evaluations is not None:  # the scores of events that came from spans, back to their traces
            pending.append(await evaluations_topic.send(value=evaluations))
        await asyncio.gather(*pending)

    batching = settings.worker
    writer = BatchWriter(
        pipeline, sink, send_dead_letter, publish_scores,
        max_events=batching.batch_max_events, max_seconds=batching.batch_max_seconds, max_bytes=batching.batch_max_bytes,
    )

    # A revoked partition's buffered batch must not be inserted while its new owner replays it.
    @app.on_partitions_revoked.connect
    async def drop_revoked_batches(_: Any, revoked: Any, **__: Any) -> None:
        await writer.on_partitions_revoked(revoked)

    @app.on_partitions_assigned.connect
    async def accept_assigned(_: Any, assigned: Any, **__: Any) -> None:
        writer.on_partitions_assigned(assigned)

    @app.agent(events_topic, concurrency=1)
    async def score_events(stream: faust.types.StreamT) -> None:
        async for event in stream.noack().events():
            await writer.add(stream, event)

    @app.timer(interval=min(0.1, batching.batch_max_seconds / 2))
    async def flush_due_batches() -> None:
        writer.flush_if_due()

    ensure_topics(settings.kafka, {**scoring_topics(topics), **{name: {} for name in [*event_topics, *otlp_topics, settings.otlp.scores_topic] if name}}, partitions)
    install_alert_archive(app, topics, settings.clickhouse.dsn)
    install_feedback_archive(app, topics, settings.clickhouse.dsn, dlq_topic, redact=settings.worker.redact_pii)

    @app.timer(interval=10.0)
    async def report_progress() -> None:
        s = writer.stats
        log.info(
            "consumed=%d stored=%d replayed=%d dead_lettered=%d batches=%d seconds: scoring=%.1f writing=%.1f publishing=%.1f",
            s.consumed, s.stored, s.replayed, s.dead_lettered, s.batches, s.score_seconds, s.write_seconds, s.publish_seconds,
        )
        if pipeline.otlp is not None:  # spans that are not GenAI inference are counted here, stored nowhere
            log.info("%s", pipeline.otlp.progress())

    return app, writer


class Worker(faust.Worker):
    """faust's Worker, but SIGTERM/SIGINT first store and ack the batch in hand, then stop."""

    def __init__(self, app: faust.App, writer: BatchWriter, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.writer = writer

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        super().on_setup_root_logger(logger, level)
        quiet_client_retries(logger)

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


def run_worker(settings: Settings, pipeline: Pipeline, *, loglevel: str = "info") -> None:
    sink = ClickHouseSink(settings.clickhouse.dsn)
    app, writer = build_app(settings, pipeline, sink)
    if settings.metrics.worker_port:  # off unless EVALSTREAM_METRICS_PORT is set
        from evalstream.streams.metrics import WorkerMetrics

        WorkerMetrics(writer, app).serve(settings.metrics, settings.metrics.worker_port)
    Worker(app, writer, loglevel=loglevel, quiet=True).execute_from_commandline()
