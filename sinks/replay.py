"""Replayed scores (migration 010): rows re-scored by a replay, written beside the originals in
scored_events and never over them, and each replay's state (its request, scorer versions,
thresholds, and how far it got) so that a stopped replay resumes.

`ReplaySink(dsn, replay_id).write(rows)` stores the rows of one replay and returns how many were
new: an event this replay stored before (a batch read again after a stop between the insert and
the saved position) is skipped, so a resumed replay leaves no duplicate. The sink also reads the
stored rows of a time range, for replays of ranges Kafka no longer retains.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

from evalstream.contracts import SCORE_FIELDS, StoredRow
from evalstream.sinks.clickhouse import connect
from evalstream.sinks.columns import SchemaMismatch
from evalstream.sinks.migrate import migrate

TABLE = "replayed_scores"
STATE_TABLE = "replays"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
NO_EVENT = "00000000-0000-0000-0000-000000000000"
# The event's keys and source, then every score field of the stored row: a score field added to
# StoredRow without a column here stops the sink at start, with its name.
KEY_FIELDS = (
    "event_id", "ts", "tenant", "app", "environment", "region", "use_case", "provider", "model", "prompt_id", "prompt_version",
    "scorers", "source_topic", "source_partition", "source_offset",
)
# The judge_* fields hold verdicts of old rows only: the judge stage writes judge_verdicts.
REPLAY_FIELDS = KEY_FIELDS + tuple(sorted(f for f in SCORE_FIELDS if not f.startswith("judge_")))
# What the stored-rows source needs to rebuild an event: its fields as the workers stored them.
EVENT_COLUMNS = (
    "event_id", "ts", "tenant", "app", "environment", "region", "use_case", "provider", "model", "prompt_id", "prompt_version",
    "prompt", "context", "response", "has_context", "metadata", "latency_ms", "finish_reason", "error_type",
    "input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens", "tokens_estimated",
    "source_topic", "source_partition", "source_offset",
)


@dataclass
class ReplayState:
    """One replay: what was asked, with which scorers, and how far it got."""

    replay_id: str
    from_ts: datetime
    to_ts: datetime
    tenant: str  # "" for every tenant
    source: str  # kafka | stored
    scorers: dict[str, str]  # scorer name -> version
    policy: str  # the policy's name and file
    thresholds: str  # JSON: {flag threshold: {use case: value}}
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    state: str = "running"  # running | stopped | finished
    cursor_ts: datetime = EPOCH  # stored-rows source: the last stored row's (ts, event_id)
    cursor_event_id: str = NO_EVENT
    events: int = 0  # replayed rows stored
    skipped: int = 0  # read but not replayed: out of range, another tenant, invalid
    seq: int = 0


class ReplaySink:
    """`write(rows)` for one replay; its state; and the stored rows of a range (the older source)."""

    def __init__(self, dsn: str, replay_id: str, *, apply_migrations: bool = True) -> None:
        self.dsn = dsn
        self.replay_id = replay_id
        self.client = connect(dsn)
        if apply_migrations:
            migrate(self.client)
        self.columns = self._columns()

    def _columns(self) -> dict[str, bool]:
        """The table's columns the rows fill: name -> Nullable."""
        result = self.client.query(
            "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position",
            parameters={"t": TABLE},
        )
        types = dict(result.result_rows)
        missing = [f for f in REPLAY_FIELDS if f not in types]
        if missing:
            raise SchemaMismatch(f"StoredRow field(s) {missing} have no column in {TABLE}: add a migration")
        return {name: types[name].startswith("Nullable(") for name in types if name in REPLAY_FIELDS}

    def write(self, rows: Sequence[StoredRow]) -> int:
        """Stores the rows not stored by this replay before; returns how many it stored."""
        fresh = self._not_yet_replayed(rows)
        if not fresh:
            return 0
        names, data = ["replay_id"], [[self.replay_id] * len(fresh)]
        for name, nullable in self.columns.items():
            values = [getattr(r, name) for r in fresh]
            if not nullable and None in values:
                if any(v is not None for v in values):
                    raise ValueError(f"column {name} is not Nullable: the rows of one batch must all set it or all leave it None")
                continue  # ClickHouse's default
            names.append(name)
            data.append(values)
        ids = hashlib.sha256(",".join(str(r.event_id) for r in fresh).encode()).hexdigest()[:32]
        settings = {"insert_deduplication_token": f"replay:{self.replay_id}:{len(fresh)}:{ids}"}
        self.client.insert(TABLE, data, column_names=names, column_oriented=True, settings=settings)
        return len(fresh)

    def _not_yet_replayed(self, rows: Sequence[StoredRow]) -> list[StoredRow]:
        unique = list({(r.tenant, str(r.event_id)): r for r in rows}.values())
        if not unique:
            return []
        stored = set(
            self.client.query(
                f"SELECT tenant, toString(event_id) FROM {TABLE} WHERE replay_id = {{r:String}} "
                "AND (tenant, event_id) IN (SELECT k.1, k.2 FROM (SELECT arrayJoin({keys:Array(Tuple(String, UUID))}) AS k))",
                parameters={"r": self.replay_id, "keys": [(r.tenant, str(r.event_id)) for r in unique]},
            ).result_rows
        )
        return [r for r in unique if (r.tenant, str(r.event_id)) not in stored]

    # -- the replay's state --

    def load_state(self) -> ReplayState | None:
        result = self.client.query(
            f"SELECT * FROM {STATE_TABLE} WHERE replay_id = {{r:String}} ORDER BY seq DESC LIMIT 1", parameters={"r": self.replay_id}
        )
        if not result.result_rows:
            return None
        row = dict(zip(result.column_names, result.result_rows[0]))
        row.pop("updated_at")
        row["cursor_event_id"] = str(row["cursor_event_id"])
        row["scorers"] = dict(row["scorers"])
        for name in ("from_ts", "to_ts", "created_at", "cursor_ts"):
            row[name] = _utc(row[name])
        return ReplayState(**row)

    def save_state(self, state: ReplayState) -> None:
        state.seq += 1
        values = asdict(state)
        self.client.insert(STATE_TABLE, [list(values.values())], column_names=list(values))

    def replayed(self) -> tuple[int, int]:
        """(rows, distinct events) this replay stored: equal unless something wrote an event twice."""
        result = self.client.query(f"SELECT count(), uniqExact(tenant, event_id) FROM {TABLE} WHERE replay_id = {{r:String}}", parameters={"r": self.replay_id})
        rows, events = result.result_rows[0]
        return int(rows), int(events)

    # -- the stored rows of a range: the source of replays older than Kafka's retention --

    def count_stored(self, from_ts: datetime, to_ts: datetime, tenant: str, after: tuple[datetime, str] | None = None) -> int:
        where, parameters = _range(from_ts, to_ts, tenant, after)
        return int(self.client.query(f"SELECT count() FROM scored_events WHERE {where}", parameters=parameters).result_rows[0][0])

    def stored_page(self, from_ts: datetime, to_ts: datetime, tenant: str, after: tuple[datetime, str], limit: int) -> list[dict[str, Any]]:
        """The next `limit` stored rows of the range after `after` (ts, event_id), in that order."""
        where, parameters = _range(from_ts, to_ts, tenant, after)
        result = self.client.query(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM scored_events WHERE {where} ORDER BY ts, event_id LIMIT {int(limit)}",
            parameters=parameters,
        )
        rows = [dict(zip(result.column_names, r)) for r in result.result_rows]
        for row in rows:
            row["ts"] = _utc(row["ts"])
        return rows

    def close(self) -> None:
        self.client.close()


def _range(from_ts: datetime, to_ts: datetime, tenant: str, after: tuple[datetime, str] | None) -> tuple[str, dict[str, Any]]:
    where = "ts >= {lo:DateTime64(3, 'UTC')} AND ts < {hi:DateTime64(3, 'UTC')}"
    parameters: dict[str, Any] = {"lo": from_ts, "hi": to_ts}
    if tenant:
        where += " AND tenant = {tenant:String}"
        parameters["tenant"] = tenant
    if after is not None and after[0] > EPOCH:
        # ts >= the cursor's lets ClickHouse skip the granules before it; the tuple orders ties by event_id
        where += " AND ts >= {after_ts:DateTime64(3, 'UTC')} AND (ts, event_id) > ({after_ts:DateTime64(3, 'UTC')}, {after_id:UUID})"
        parameters.update(after_ts=after[0], after_id=after[1])
    return where, parameters


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
