"""The scoring workers archive drift alerts: genai.alerts -> the ClickHouse `alerts` table.

The drift worker publishes alerts to Kafka only (what pages on-call); the scoring workers own
the ClickHouse connection (an embedded chdb directory admits one process), so they store the
alerts for the boards. A ClickHouse outage delays the table, never the page.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import ValidationError

from evalstream.config.settings import TopicSettings
from evalstream.contracts.alert import Alert

log = logging.getLogger("evalstream.alerts")

ARCHIVE_ATTEMPTS = 4


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
                log.error("not an alert, not archived: %s", str(exc).splitlines()[0])
                continue
            await archive.store(alert)
