"""Stores human feedback in the `feedback` table (migration 004): one row per label a feedback gives.

A feedback without `event_ts` gets the stored event's ts (looked up by tenant and event_id), so
the label lands in the event's partition; when the event is not stored (yet, or no longer), the
time of rating stands in: readers join on (tenant, event_id) and take argMax(value, ts), so the
row still counts. Storing the same feedback twice is harmless for the same reason, and the
ReplacingMergeTree folds the copies away.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence
from uuid import UUID

from evalstream.contracts import Feedback
from evalstream.sinks.clickhouse import connect
from evalstream.sinks.migrate import migrate

TABLE = "feedback"
COLUMNS = ("event_id", "event_ts", "ts", "tenant", "app", "label", "value", "annotator", "comment")


def feedback_rows(feedback: Feedback, event_ts: datetime) -> list[list[Any]]:
    """The table rows of one feedback: one per label, the correction as a label with its text."""
    base = [feedback.event_id, event_ts, feedback.ts, feedback.tenant, feedback.app]
    rows = [[*base, label, value, feedback.rater, feedback.comment] for label, value in feedback.labels().items()]
    if feedback.correction:
        rows.append([*base, "correction", 1.0, feedback.rater, feedback.correction])
    return rows


class FeedbackSink:
    """`write(feedbacks)`: stores them, returns how many table rows it wrote."""

    def __init__(self, dsn: str, *, apply_migrations: bool = True) -> None:
        self.client = connect(dsn)
        if apply_migrations:
            migrate(self.client)

    def write(self, feedbacks: Sequence[Feedback]) -> int:
        known = self._event_times([f for f in feedbacks if f.event_ts is None])
        rows = [row for f in feedbacks for row in feedback_rows(f, f.event_ts or known.get((f.tenant, f.event_id), f.ts))]
        if rows:
            self.client.insert(TABLE, rows, column_names=list(COLUMNS))
        return len(rows)

    def _event_times(self, feedbacks: Sequence[Feedback]) -> dict[tuple[str, UUID], datetime]:
        if not feedbacks:
            return {}
        result = self.client.query(
            "SELECT tenant, event_id, min(ts) FROM scored_events "
            "WHERE tenant IN {tenants:Array(String)} AND event_id IN {ids:Array(UUID)} GROUP BY tenant, event_id",
            parameters={"tenants": sorted({f.tenant for f in feedbacks}), "ids": sorted({str(f.event_id) for f in feedbacks})},
        )
        return {(tenant, UUID(str(event_id))): ts for tenant, event_id, ts in result.result_rows}

    def close(self) -> None:
        self.client.close()
