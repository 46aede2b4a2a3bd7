"""Stores drift alerts in the `alerts` table (migration 005), one row per state change."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from evalstream.contracts import Alert
from evalstream.sinks.clickhouse import connect
from evalstream.sinks.migrate import migrate

TABLE = "alerts"
COLUMNS = (
    "fingerprint", "ts", "state", "severity", "tenant", "app", "use_case", "model", "prompt_version", "region",
    "statistic", "detector", "window_value", "baseline_value", "sample_size", "p_value", "sample_event_ids",
    "policy", "runbook_url", "summary",
)


class AlertSink:
    """`write(alerts)`: alerts (or mappings with at least COLUMNS). One already stored is skipped,
    so an alert re-sent after a worker restart is stored once."""

    def __init__(self, dsn: str, *, apply_migrations: bool = True) -> None:
        self.client = connect(dsn)
        if apply_migrations:
            migrate(self.client)

    def write(self, alerts: Sequence[Alert | Mapping[str, Any]]) -> int:
        rows = [a.model_dump() if isinstance(a, Alert) else a for a in alerts]
        fresh = [row for row in rows if not self._stored(row)]
        if fresh:
            self.client.insert(TABLE, [[row[c] for c in COLUMNS] for row in fresh], column_names=list(COLUMNS))
        return len(fresh)

    def _stored(self, row: Mapping[str, Any]) -> bool:
        return bool(
            self.client.query(
                f"SELECT count() FROM {TABLE} WHERE tenant = {{tenant:String}} AND ts = {{ts:DateTime64(3, 'UTC')}} "
                "AND fingerprint = {fp:String} AND state = {state:String}",
                parameters={"tenant": row["tenant"], "ts": row["ts"], "fp": row["fingerprint"], "state": row["state"]},
            ).result_rows[0][0]
        )

    def close(self) -> None:
        self.client.close()
