"""The drift worker, a faust app of its own: genai.scores -> windows per key -> genai.alerts.

It runs apart from the scoring workers (`evalstream drift`, consumer group `{group_id}-drift`):
its statistics live in three faust tables (see engine.py), backed by changelog topics,
and a restarted drift worker recovers them before it reads on, so a window's counts survive a
restart. Table recovery is also where faust-streaming 0.15.3 races (kafka/faust_recovery.py); in a
process of its own that race can delay alerts, never the storing of events.
Time is event time (the records' `ts`), so replayed traffic behaves like live traffic.
It talks to Kafka only: the notifiers page from genai.alerts, and the scoring workers, which
own the ClickHouse connection, archive the alerts for the boards (alert_archive.py).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import faust
from pydantic import ValidationError

from evalstream.config.settings import Settings
from evalstream.contracts import Alert, ScoreRecord
from evalstream.drift.engine import DriftEngine
from evalstream.drift.policy import load_policy
from evalstream.kafka import faust_recovery
from evalstream.kafka.app import new_app
from evalstream.kafka.client_logs import quiet_client_retries
from evalstream.kafka.topics import drift_topics, ensure_topics

log = logging.getLogger("evalstream.drift")


def build_drift_app(settings: Settings) -> Any:
    """The drift agent, its tables and its reports on a faust app of their own."""
    policy = load_policy(settings.drift.policy)  # a bad policy stops the worker here, with the reason
    faust_recovery.install()  # seek before resuming, on table recovery
    app = new_app(settings.drift_group_id, settings)
    topics, partitions = settings.topics, settings.topics.partitions
    scores_topic = app.topic(topics.scores, value_type=bytes, key_type=bytes, partitions=partitions)
    tables = {
        name: app.Table(f"drift-{name}", partitions=partitions, help=help_)
        for name, help_ in (
            ("buckets", "statistics per key and bucket of event time"),
            ("keys", "per key: open buckets, baseline day blocks, alert states"),
            ("families", "per tenant/app/use_case/region: prompt versions and models in order of appearance"),
        )
    }
    engine = DriftEngine(
        policy, tables["buckets"], tables["keys"], tables["families"], max_future_s=settings.worker.max_clock_skew_seconds
    )
    alerts_topic = app.topic(topics.alerts, value_type=bytes, key_type=bytes, partitions=partitions)
    ensure_topics(settings.kafka, drift_topics(topics, (t.changelog_topic_name for t in tables.values())), partitions)

    async def publish(alert: Alert) -> None:
        log.warning("drift alert %s (%s): %s", alert.state, alert.fingerprint, alert.summary)
        # Keyed by fingerprint: a problem's firing and resolve stay in order on one partition.
        delivered = await alerts_topic.send(key=alert.fingerprint.encode(), value=alert.model_dump_json().encode())
        await delivered

    @app.agent(scores_topic, concurrency=1, name="evalstream.drift.detect")
    async def detect_drift(stream: Any) -> None:
        async for event in stream.events():
            try:
                record = ScoreRecord.from_json(event.value)
            except ValidationError:
                engine.stats.invalid += 1
                continue
            for alert in engine.process(record, event.message.offset):
                await publish(alert)

    @app.task
    async def quiet_changelog_backpressure() -> None:
        # faust logs each wait for its changelog buffer (100 table writes) as a warning; for the
        # drift tables that wait is ordinary backpressure, not a problem to page anyone about.
        logging.getLogger("faust.transport.producer").setLevel(logging.ERROR)

    if settings.metrics.drift_port:  # off unless EVALSTREAM_DRIFT_METRICS_PORT is set
        from evalstream.drift.metrics import serve_drift_metrics

        serve_drift_metrics(engine.stats, settings.metrics, settings.metrics.drift_port)

    reported: dict[str, int] = {}

    @app.timer(interval=5.0)
    async def report_drift() -> None:
        now = asdict(engine.stats)
        if now != reported:
            reported.update(now)
            log.info("drift: %s", " ".join(f"{k}={v}" for k, v in now.items()))

    return app


class DriftWorker(faust.Worker):
    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        super().on_setup_root_logger(logger, level)
        quiet_client_retries(logger)


def run_drift(settings: Settings, *, loglevel: str = "info") -> None:
    DriftWorker(build_drift_app(settings), loglevel=loglevel, quiet=True).execute_from_commandline()
