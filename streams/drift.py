"""The drift worker, a faust app of its own: genai.scores -> windows per key -> genai.alerts.

It runs apart from the scoring workers (`evalstream drift`, consumer group `{group_id}-drift`):
its statistics live in three faust tables (see drift_engine.py), backed by changelog topics,
and a restarted drift worker recovers them before it reads on, so a window's counts survive a
restart. Table recovery is also where faust-streaming 0.15.3 races (faust_recovery.py); in a
process of its own that race can delay alerts, never the storing of events.
Time is event time (the records' `ts`), so replayed traffic behaves like live traffic.
It talks to Kafka only: the notifiers page from genai.alerts, and the scoring workers, which
own the ClickHouse connection, archive the alerts for the boards (alert_archive.py).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import faust
from pydantic_settings import BaseSettings, SettingsConfigDict

from evalstream.notifiers.alert import Alert
from evalstream.streams import faust_recovery
from evalstream.streams.drift_engine import DriftEngine
from evalstream.streams.policy import load_policy
from evalstream.streams.settings import KafkaSettings, WorkerSettings
from evalstream.streams.topics import ensure_topics
from evalstream.streams.worker import new_app

log = logging.getLogger("evalstream.drift")


class DriftSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVALSTREAM_DRIFT_", extra="ignore")

    policy: Path | None = None  # EVALSTREAM_DRIFT_POLICY; default: the shipped policies/default.yaml


def build_drift_app(settings: WorkerSettings, kafka: KafkaSettings) -> Any:
    """The drift agent, its tables and its reports on a faust app of their own."""
    policy = load_policy(DriftSettings().policy)  # a bad policy stops the worker here, with the reason
    faust_recovery.install()  # seek before resuming, on table recovery
    app = new_app(settings.drift_group_id or f"{settings.group_id}-drift", settings, kafka)
    scores_topic = app.topic(settings.scores_topic, value_type=bytes, key_type=bytes, partitions=settings.partitions)
    tables = {
        name: app.Table(f"drift-{name}", partitions=settings.partitions, help=help_)
        for name, help_ in (
            ("buckets", "statistics per key and bucket of event time"),
            ("keys", "per key: open buckets, baseline day blocks, alert states"),
            ("families", "per tenant/app/use_case/region: prompt versions and models in order of appearance"),
        )
    }
    engine = DriftEngine(policy, tables["buckets"], tables["keys"], tables["families"])
    alerts_topic = app.topic(settings.alerts_topic, value_type=bytes, key_type=bytes, partitions=settings.partitions)
    compacted = {"cleanup.policy": "compact"}
    ensure_topics(
        app,
        {settings.scores_topic: {}, settings.alerts_topic: {}, **{t.changelog_topic_name: compacted for t in tables.values()}},
        settings.partitions,
    )

    async def publish(alert: Alert) -> None:
        log.warning("drift alert %s (%s): %s", alert.state, alert.fingerprint, alert.summary)
        # Keyed by fingerprint: a problem's firing and resolve stay in order on one partition.
        delivered = await alerts_topic.send(key=alert.fingerprint.encode(), value=alert.model_dump_json().encode())
        await delivered

    @app.agent(scores_topic, concurrency=1, name="evalstream.drift.detect")
    async def detect_drift(stream: Any) -> None:
        async for event in stream.events():
            try:
                record = json.loads(event.value)
            except (TypeError, ValueError):
                record = None
            if not isinstance(record, dict):
                engine.stats.invalid += 1
                continue
            for alert in engine.process(record, event.message.offset):
                await publish(alert)

    @app.task
    async def declare_alerts_topic() -> None:
        await alerts_topic.maybe_declare()
        # faust logs each wait for its changelog buffer (100 table writes) as a warning; for the
        # drift tables that wait is ordinary backpressure, not a problem to page anyone about.
        logging.getLogger("faust.transport.producer").setLevel(logging.ERROR)

    reported: dict[str, int] = {}

    @app.timer(interval=5.0)
    async def report_drift() -> None:
        now = asdict(engine.stats)
        if now != reported:
            reported.update(now)
            log.info("drift: %s", " ".join(f"{k}={v}" for k, v in now.items()))

    return app


def run_drift(settings: WorkerSettings, kafka: KafkaSettings, *, loglevel: str = "info") -> None:
    faust.Worker(build_drift_app(settings, kafka), loglevel=loglevel, quiet=True).execute_from_commandline()
