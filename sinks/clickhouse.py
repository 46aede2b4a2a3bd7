"""ClickHouse sink over clickhouse-connect: `chdb:///abs/dir` (embedded) or `http(s)://` (server)."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from typing import Any, Callable, Mapping, Sequence

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from evalstream.contracts import StoredRow
from evalstream.sinks.columns import RowColumns
from evalstream.sinks.migrate import migrate
from evalstream.sinks.storage_errors import WriteOutcome, is_transient, refusal_reason

log = logging.getLogger("evalstream.sinks")

TABLE = "scored_events"


def connect(dsn: str) -> Client:
    """A clickhouse-connect client. `chdb://` paths must be absolute; one process per chdb dir."""
    if dsn.startswith("chdb://") and not dsn.startswith("chdb:///"):
        raise ValueError(f"chdb DSN needs an absolute path, e.g. chdb:///var/lib/evalstream (got {dsn!r})")
    return clickhouse_connect.get_client(dsn=dsn)


class ClickHouseSink:
    """Writes scored rows; idempotent under replays of the same source offsets.

    Each row carries its source (topic, partition, offset). Kafka gives one partition to one
    worker at a time and a worker writes a partition's rows in offset order, so before each
    insert the sink reads the highest stored offset of the partition (a projection answers
    from a few rows); only a batch that reaches below it can hold rows stored before (by a
    worker killed before it committed), and those rows are dropped where the same event_id
    is stored at the same offset. The insert also carries a deduplication token built from the
    offset range and a hash of the event ids, so a retried insert whose first try did land (a
    timeout after the server took it) is dropped by ClickHouse itself, while new events at offsets
    seen before (a recreated topic) are not.

    The rollups (migration 003) count every row inserted into scored_events: they are right
    because the table gets each event once. Two writers inserting one partition at once (a
    revoked owner still writing) would be counted twice by them, so the workers stop writing a
    revoked partition before the revocation completes (streams/batching.py); the raw table's
    uniqExact(event_id) stays the exact count to check them against.

    `write_new` says which rows were new (the workers publish score records for those only);
    `write_isolating` finds the rows ClickHouse refuses (storage_errors.py) instead of raising.
    """

    def __init__(self, dsn: str, *, apply_migrations: bool = True) -> None:
        self.dsn = dsn
        self.client = connect(dsn)
        if apply_migrations:
            migrate(self.client)
        self.columns = RowColumns.read(self.client, TABLE)

    def write(self, rows: Sequence[StoredRow | Mapping[str, Any]]) -> int:
        """Store rows; returns how many were new. Raises on failure: the caller retries."""
        return len(self.write_new(rows))

    def write_new(
        self, rows: Sequence[StoredRow | Mapping[str, Any]], on_done: Callable[[list[StoredRow], list[StoredRow]], None] | None = None
    ) -> list[StoredRow]:
        """Store rows; returns those that were new (not stored before). Raises on failure.
        `on_done(rows, new)` is told each source partition's rows once they are stored, before a later one fails."""
        stored: list[StoredRow] = []
        typed = [r if isinstance(r, StoredRow) else StoredRow.from_mapping(r) for r in rows]
        for (topic, partition), part_rows in _by_source(typed).items():
            fresh = self._new_event_ids(self._not_yet_stored(topic, partition, part_rows))
            if fresh:
                names, data = self.columns.data(fresh)
                settings = {"insert_deduplication_token": insert_token(topic, partition, fresh)}
                self.client.insert(TABLE, data, column_names=names, column_oriented=True, settings=settings)
                stored.extend(fresh)
            if on_done is not None:
                on_done(part_rows, fresh)
        return stored

    def write_isolating(self, rows: Sequence[StoredRow], outcome: WriteOutcome | None = None) -> WriteOutcome:
        """Stores what ClickHouse accepts and names what it refuses, by bisecting a refused batch.
        Raises only errors worth a retry (connection, timeout, overload, unknown); `outcome` then
        holds what was done before, so a retry passes only the rest."""
        outcome = outcome if outcome is not None else WriteOutcome()
        if rows:
            self._write_halves(list(rows), outcome)
        return outcome

    def _write_halves(self, rows: list[StoredRow], outcome: WriteOutcome) -> None:
        def done(part_rows: list[StoredRow], fresh: list[StoredRow]) -> None:
            outcome.attempted.extend(part_rows)
            outcome.stored.extend(fresh)

        try:
            self.write_new(rows, on_done=done)
        except Exception as exc:
            if is_transient(exc):
                raise
            finished = {id(r) for r in outcome.attempted}
            rows = [r for r in rows if id(r) not in finished]
            if not rows:
                return
            if len(rows) == 1:
                outcome.refused.append((rows[0], refusal_reason(exc)))
                outcome.attempted.extend(rows)
                log.warning("ClickHouse refused the row of %s[%d]@%d: %s", rows[0].source_topic, rows[0].source_partition, rows[0].source_offset, refusal_reason(exc))
                return
            middle = len(rows) // 2
            self._write_halves(rows[:middle], outcome)
            self._write_halves(rows[middle:], outcome)

    def _not_yet_stored(self, topic: str, partition: int, rows: list[StoredRow]) -> list[StoredRow]:
        # One row per (offset, event) even if the consumer delivered a record twice within a batch
        # (an OTLP record holds several events at one offset).
        rows = sorted({(r.source_offset, str(r.event_id)): r for r in rows}.values(), key=lambda r: r.source_offset)
        source = {"t": topic, "p": partition}
        high_water, count = self.client.query(
            f"SELECT max(source_offset), count() FROM {TABLE} WHERE source_topic = {{t:String}} AND source_partition = {{p:UInt16}}",
            parameters=source,
        ).result_rows[0]
        if count == 0 or rows[0].source_offset > high_water:
            return rows  # the common case: nothing of this batch can be stored yet
        # A replay (a restarted worker) or a recreated topic whose offsets start again: skip a row
        # only where the same event is stored at the same offset.
        stored = set(
            self.client.query(
                f"SELECT source_offset, toString(event_id) FROM {TABLE} WHERE source_topic = {{t:String}} "
                "AND source_partition = {p:UInt16} AND source_offset BETWEEN {lo:UInt64} AND {hi:UInt64}",
                parameters={**source, "lo": rows[0].source_offset, "hi": min(rows[-1].source_offset, high_water)},
            ).result_rows
        )
        fresh = [r for r in rows if (r.source_offset, str(r.event_id)) not in stored]
        if len(fresh) < len(rows):
            log.info("skipped %d rows of %s[%d] stored by an earlier run", len(rows) - len(fresh), topic, partition)
        return fresh

    def _new_event_ids(self, rows: list[StoredRow]) -> list[StoredRow]:
        """Drops events a service sent twice: the same event_id (hence tenant and hour) is stored once.

        The lookup matches (tenant, hour of ts, event_id) tuples, the sort key's own columns, so it
        reads a few granules; ClickHouse computes both hours, so a `ts` past DateTime's range
        clamps alike on both sides.
        """
        unique = list({str(r.event_id): r for r in reversed(rows)}.values())[::-1]
        if not unique:
            return unique
        stored = {
            str(row[0])
            for row in self.client.query(
                f"SELECT event_id FROM {TABLE} WHERE (tenant, toStartOfHour(ts), event_id) IN "
                "(SELECT k.1, toStartOfHour(k.2), k.3 FROM (SELECT arrayJoin({keys:Array(Tuple(String, DateTime64(3, 'UTC'), UUID))}) AS k))",
                parameters={"keys": [(r.tenant, r.ts, str(r.event_id)) for r in unique]},
            ).result_rows
        }
        fresh = [r for r in unique if str(r.event_id) not in stored]
        if len(fresh) < len(rows):
            log.info("skipped %d rows whose event_id is already stored", len(rows) - len(fresh))
        return fresh

    def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
        result = self.client.query(sql, parameters=parameters)
        return list(result.column_names), [tuple(r) for r in result.result_rows]

    def close(self) -> None:
        self.client.close()


def insert_token(topic: str, partition: int, rows: Sequence[StoredRow]) -> str:
    """The insert's deduplication token: the offsets, and which events (a recreated topic repeats offsets)."""
    ids = hashlib.sha256(",".join(str(r.event_id) for r in rows).encode()).hexdigest()[:32]
    return f"{topic}:{partition}:{rows[0].source_offset}-{rows[-1].source_offset}:{len(rows)}:{ids}"


def _by_source(rows: Sequence[StoredRow]) -> dict[tuple[str, int], list[StoredRow]]:
    grouped: dict[tuple[str, int], list[StoredRow]] = defaultdict(list)
    for row in rows:
        grouped[(row.source_topic, row.source_partition)].append(row)
    return grouped
