"""The scoring workers archive drift alerts: genai.alerts -> the ClickHouse `alerts` table.

The drift worker publishes alerts to Kafka only (what pages on-call); the scoring workers own
the ClickHouse connection (an embedded chdb directory admits one process), so they store the
alerts for the boards. A ClickHouse outage delays the table, never the page, and loses no alert: the archive retries until stored.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import tenacity
from pydantic import ValidationError

from evalstream.config.settings import TopicSettings
from evalstream.contracts import Alert, describe_validation_error
from evalstream.sinks.storage_errors import is_transient, refusal_reason

log = logging.getLogger("evalstream.alerts")

class AlertArchive:
    """Writes alerts to ClickHouse on one thread of its own, retrying until stored.

    It is off the ingest path (the page went out through Kafka), so it waits out any storage
    trouble worth a retry, however long; only an alert ClickHouse refuses (storage_errors.py)
    is logged and skipped, or it would hold back every alert after it.
    """

    def __init__(self, dsn: str, *, max_backoff_s: float = 30.0) -> None:
        self.dsn = dsn
        self.max_backoff_s = max_backoff_s
        self.retries = 0
        self._sink: Any = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alerts")

    def _write(self, row: dict[str, Any]) -> int:
        if self._sink is None:
            from evalstream.sinks.alerts import AlertSink

            self._sink = AlertSink(self.dsn)
        return self._sink.write([row])

    async def store(self, alert: Alert) -> bool:
        """True once stored (or stored before); False if ClickHouse refuses it."""
        row = alert.model_dump()
        loop = asyncio.get_running_loop()
        retrying = tenacity.AsyncRetrying(
            wait=tenacity.wait_exponential(multiplier=0.5, max=self.max_backoff_s),
            retry=tenacity.retry_if_exception(is_transient),
            after=self._count_retry,
            before_sleep=lambda state: log.warning(
                "alert %s not stored yet (%s); retrying in %.1fs", alert.alert_id, type(state.outcome.exception()).__name__, state.upcoming_sleep
            ),
            reraise=True,
        )

        async def write() -> int:
            return await loop.run_in_executor(self._pool, self._write, row)

        try:
            await retrying(write)
        except Exception as exc:  # only a refusal gets here
            log.error("ClickHouse refused alert %s, not archived (it is on Kafka): %s", alert.alert_id, refusal_reason(exc))
            return False
        return True

    def _count_retry(self, _: tenacity.RetryCallState) -> None:
        self.retries += 1


def install_alert_archive(app: Any, topics: TopicSettings, dsn: str) -> None:
    """An agent on the alerts topic of the scoring workers' app (no tables: nothing to recover)."""
    alerts_topic = app.topic(topics.alerts, value_type=bytes, key_type=bytes, partitions=topics.partitions)
    archive = AlertArchive(dsn)

    @app.agent(alerts_topic, concurrency=1, name="evalstream.alerts.archive")
    async def archive_alerts(stream: Any) -> None:
        async for value in stream:
            try:
                alert = Alert.model_validate_json(value)
            except ValidationError as exc:  # the notifiers dead-letter it, with the reason
                log.error("not an alert, not archived: %s", describe_validation_error(exc))
                continue
            await archive.store(alert)
