"""Drift detection in the workers' faust app: genai.scores -> windows per key -> genai.alerts (+ ClickHouse).

The statistics live in three faust tables (see drift_engine.py), backed by changelog topics:
a restarted worker recovers them before it reads on, so a window's counts survive a restart.
Time is event time (the records' `ts`), so replayed traffic behaves like live traffic.
Alerts go to Kafka first (what pages on-call), then to the ClickHouse `alerts` table (what the
boards show); a ClickHouse outage delays the table, never the page.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from evalstream.notifiers.alert import Alert
from evalstream.streams import faust_recovery
from evalstream.streams.drift_engine import DriftEngine
from evalstream.streams.policy import load_policy
from evalstream.streams.settings import KafkaSettings

log = logging.getLogger("evalstream.drift")

ARCHIVE_ATTEMPTS = 4


class DriftSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVALSTREAM_DRIFT_", extra="ignore")

    policy: Path | None = None  # EVALSTREAM_DRIFT_POLICY; default: the shipped policies/default.yaml


class AlertArchive:
    """Writes alerts to ClickHouse on one thread of its own, retrying a few times, then logging."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._sink: Any = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alerts")

    def _write(self, row: dict[str, Any]) -> int:
        if self._sink is None:
            from evalstream.sinks.alerts import AlertSink

            self._sink = AlertSink(self.dsn)
        return self._sink.write([row])

    async def store(self, alert: Alert) -> None:
        row = alert.model_dump()
        loop = asyncio.get_running_loop()
        for attempt in range(1, ARCHIVE_ATTEMPTS + 1):
            try:
                await loop.run_in_executor(self._pool, self._write, row)
                return
            except Exception as exc:
                if attempt == ARCHIVE_ATTEMPTS:
                    log.error("alert %s not stored in ClickHouse after %d tries (it is on Kafka): %r", alert.alert_id, attempt, exc)
                    return
                await asyncio.sleep(0.5 * 2**attempt)


def ensure_topics(app: Any, topics: dict[str, dict[str, str]], partitions: int, timeout: float = 30.0) -> None:
    """Creates the drift topics before the app subscribes, and waits until they have leaders.

    faust would create them itself, but a topic created while the consumer group forms shows 0
    partitions in that group's metadata: the drift agent then stops at its first table write
    (PartitionsMismatch) or, for the scores topic, reads nothing until the next metadata refresh.
    """
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    bootstrap = ",".join(f"{url.host}:{url.port}" for url in app.conf.broker)
    admin = AdminClient({**KafkaSettings(bootstrap=bootstrap).librdkafka(), "log_level": 3})
    try:
        existing = set(admin.list_topics(timeout=10).topics)
        missing = [NewTopic(name, num_partitions=partitions, replication_factor=-1, config=config) for name, config in topics.items() if name not in existing]
        for name, future in (admin.create_topics(missing) if missing else {}).items():
            try:
                future.result(timeout)
            except KafkaException as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            meta = admin.list_topics(timeout=10).topics
            if all(name in meta and meta[name].partitions and all(p.leader >= 0 for p in meta[name].partitions.values()) for name in topics):
                return
            time.sleep(0.2)
        log.warning("drift topics %s not ready after %.0fs; faust will try to create them", sorted(topics), timeout)
    except KafkaException as exc:
        log.warning("could not check the drift topics (%s); faust will try to create them", exc)


def install_drift(app: Any, settings: Any, scores_topic: Any) -> None:
    """Registers the drift agent and its tables on the workers' faust app."""
    policy = load_policy(DriftSettings().policy)  # a bad policy stops the worker here, with the reason
    faust_recovery.install()  # tables bring faust's recovery into the workers: seek before resuming
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
    archive = AlertArchive(settings.clickhouse)
    compacted = {"cleanup.policy": "compact"}
    ensure_topics(
        app,
        {settings.scores_topic: {}, settings.alerts_topic: {}, **{t.changelog_topic_name: compacted for t in tables.values()}},
        settings.partitions,
    )

    async def publish(alert: Alert) -> None:
        log.warning("drift alert %s (%s): %s", alert.state, alert.fingerprint, alert.summary)
        # Keyed by fingerprint: a problem's firing and resolve stay in order on one partition.
        await alerts_topic.send(key=alert.fingerprint.encode(), value=alert.model_dump_json().encode())
        await archive.store(alert)

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

    _debug_acks(app)

    @app.task
    async def declare_alerts_topic() -> None:
        await alerts_topic.maybe_declare()

    reported: dict[str, int] = {}

    @app.timer(interval=5.0)
    async def report_drift() -> None:
        now = asdict(engine.stats)
        if now != reported:
            reported.update(now)
            log.info("drift: %s", " ".join(f"{k}={v}" for k, v in now.items()))




def _debug_acks(app: Any) -> None:  # TEMPORARY
    @app.timer(interval=2.0)
    async def dump_acks() -> None:
        c = app.consumer
        for tp, acked in list(c._acked.items()):
            if acked:
                srt = sorted(acked)
                dups = len(srt) - len(set(srt))
                log.info("DEBUG %s committed=%s head=%s n=%d dups=%d read=%s", tp, c._committed_offset.get(tp), srt[:4], len(srt), dups, c._read_offset.get(tp))
        for tp, gap in list(c._gap.items()):
            if gap:
                log.info("DEBUG GAP %s %s", tp, gap)
