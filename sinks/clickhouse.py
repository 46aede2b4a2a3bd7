"""ClickHouse sink over clickhouse-connect: `chdb:///abs/dir` (embedded) or `http(s)://` (server)."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Mapping, Sequence

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from evalstream.contracts import StoredRow
from evalstream.sinks.columns import RowColumns
from evalstream.sinks.migrate import migrate

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
    is stored at the same offset. The insert also carries a deduplication token built from the offset range, so a
    retried insert whose first try did land (a timeout after the server took it) is dropped
    by ClickHouse itself.
    """

    def __init__(self, dsn: str, *, apply_migrations: bool = True) -> None:
        self.dsn = dsn
        self.client = connect(dsn)
        if apply_migrations:
            migrate(self.client)
        self.columns = RowColumns.read(self.client, TABLE)

    def write(self, rows: Sequence[StoredRow | Mapping[str, Any]]) -> int:
        """Store rows; returns how many were new. Raises on failure: the caller retries."""
        written = 0
        typed = [r if isinstance(r, StoredRow) else StoredRow.from_mapping(r) for r in rows]
        for (topic, partition), part_rows in _by_source(typed).items():
            fresh = self._new_event_ids(self._not_yet_stored(topic, partition, part_rows))
            if not fresh:
                continue
            token = f"{topic}:{partition}:{fresh[0].source_offset}-{fresh[-1].source_offset}:{len(fresh)}"
            names, data = self.columns.data(fresh)
            self.client.insert(TABLE, data, column_names=names, column_oriented=True, settings={"insert_deduplication_token": token})
            written += len(fresh)
        return written

    def _not_yet_stored(self, topic: str, partition: int, rows: list[StoredRow]) -> list[StoredRow]:
        # One row per offset even if the consumer delivered an event twice within a batch.
        rows = sorted({r.source_offset: r for r in rows}.values(), key=lambda r: r.source_offset)
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

        The lookup follows the sort key (tenant, hour of ts, ..., event_id), so it reads a few granules.
        """
        unique = list({str(r.event_id): r for r in reversed(rows)}.values())[::-1]
        if not unique:
            return unique
        stored = {
            str(row[0])
            for row in self.client.query(
                f"SELECT event_id FROM {TABLE} WHERE tenant IN {{tenants:Array(String)}} "
                "AND toStartOfHour(ts) IN {hours:Array(DateTime('UTC'))} AND event_id IN {ids:Array(UUID)}",
                parameters={
                    "tenants": sorted({r.tenant for r in unique}),
                    "hours": sorted({r.ts.replace(minute=0, second=0, microsecond=0) for r in unique}),
                    "ids": [str(r.event_id) for r in unique],
                },
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


def _by_source(rows: Sequence[StoredRow]) -> dict[tuple[str, int], list[StoredRow]]:
    grouped: dict[tuple[str, int], list[StoredRow]] = defaultdict(list)
    for row in rows:
        grouped[(row.source_topic, row.source_partition)].append(row)
    return grouped
