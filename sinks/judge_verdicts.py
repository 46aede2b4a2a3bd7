"""The judge stage's storage: reads the stored texts of scored events, stores verdicts (migration 009).

Keys are (tenant, ts, event_id): the lookups match (tenant, hour of ts, event_id) tuples, the
sort keys' own columns, so they read a few granules of either table.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from evalstream.sinks.clickhouse import connect
from evalstream.sinks.migrate import migrate

TABLE = "judge_verdicts"
COLUMNS = (
    "event_id", "event_ts", "tenant", "app", "use_case", "model", "prompt_version", "region",
    "judge_model", "chosen", "faithfulness", "unsupported", "reason",
)
Key = tuple[str, Any, str]  # (tenant, ts, event_id)
_KEYS = "(SELECT k.1, toStartOfHour(k.2), k.3 FROM (SELECT arrayJoin({keys:Array(Tuple(String, DateTime64(3, 'UTC'), UUID))}) AS k))"


class JudgeVerdictSink:
    """`write(verdicts)`: mappings with at least COLUMNS. Also the reads the judge stage needs."""

    def __init__(self, dsn: str, *, apply_migrations: bool = True) -> None:
        self.client = connect(dsn)
        if apply_migrations:
            migrate(self.client)

    def write(self, verdicts: Sequence[Mapping[str, Any]]) -> int:
        if verdicts:
            self.client.insert(TABLE, [[v[c] for c in COLUMNS] for v in verdicts], column_names=list(COLUMNS))
        return len(verdicts)

    def stored_texts(self, keys: Sequence[Key]) -> dict[str, dict[str, Any]]:
        """event_id -> {prompt, context, response, metadata} of the stored (redacted) events among `keys`."""
        if not keys:
            return {}
        result = self.client.query(
            f"SELECT toString(event_id), prompt, context, response, metadata FROM scored_events "
            f"WHERE (tenant, toStartOfHour(ts), event_id) IN {_KEYS} LIMIT 1 BY event_id",
            parameters={"keys": _params(keys)},
        )
        return {row[0]: {"prompt": row[1], "context": list(row[2]), "response": row[3], "metadata": row[4]} for row in result.result_rows}

    def judged(self, keys: Sequence[Key], judge_model: str) -> set[str]:
        """The event ids among `keys` this judge model has a verdict for already (a replay)."""
        if not keys:
            return set()
        result = self.client.query(
            f"SELECT DISTINCT toString(event_id) FROM {TABLE} "
            f"WHERE judge_model = {{judge:String}} AND (tenant, toStartOfHour(event_ts), event_id) IN {_KEYS}",
            parameters={"keys": _params(keys), "judge": judge_model},
        )
        return {row[0] for row in result.result_rows}

    def close(self) -> None:
        self.client.close()


def _params(keys: Sequence[Key]) -> list[tuple[str, Any, str]]:
    return [(tenant, ts, str(event_id)) for tenant, ts, event_id in keys]
