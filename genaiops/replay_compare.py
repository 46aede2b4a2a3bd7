"""How a replay moved the flags and means per key (tenant, app, use case, model, prompt version).

Each replayed row is joined to its original in scored_events on (tenant, event_id); only the
original rows of the replay's range are read. A flag that moved is counted both ways: set by
the replay where the original was clear (up), and cleared where it was set (down).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KEY = ("tenant", "app", "use_case", "model", "prompt_version")
# Each flag and mean with the scorer that sets it: a row that scorer did not score (its name not in
# the row's `scorers`) holds the column's default, not a score, and is left out of that figure.
FLAGS = {"toxic": "toxicity", "unfaithful": "faithfulness", "refusal": "relevance"}
MEANS = {"toxicity": "toxicity", "faithfulness": "faithfulness", "relevance": "relevance"}


@dataclass(frozen=True)
class FlagMove:
    original: int  # events flagged in the original rows
    replay: int  # ... in the replayed rows
    up: int  # clear before, flagged now
    down: int  # flagged before, clear now


@dataclass(frozen=True)
class KeyComparison:
    key: tuple[str, ...]
    events: int
    flags: dict[str, FlagMove]
    means: dict[str, tuple[float | None, float | None]]  # (original, replay)


@dataclass
class Comparison:
    replay_id: str
    keys: list[KeyComparison] = field(default_factory=list)
    replayed: int = 0  # rows of the replay
    without_original: int = 0  # replayed events with no original row in the range (not stored, or out of it)
    original_scorers: list[dict[str, str]] = field(default_factory=list)  # the versions that scored the originals
    flags: list[str] = field(default_factory=list)  # those the replay's scorers set
    means: list[str] = field(default_factory=list)

    @property
    def moved(self) -> dict[str, tuple[int, int]]:
        """flag -> (up, down) over every key."""
        return {f: (sum(k.flags[f].up for k in self.keys), sum(k.flags[f].down for k in self.keys)) for f in self.flags}


def compare(client: Any, replay_id: str, from_ts: datetime, to_ts: datetime, tenant: str = "") -> Comparison:
    parameters: dict[str, Any] = {"r": replay_id, "lo": from_ts, "hi": to_ts, "tenant": tenant}
    comparison = Comparison(replay_id)
    replayed = client.query(
        "SELECT count(), groupUniqArrayArray(mapKeys(scorers)) FROM replayed_scores WHERE replay_id = {r:String}", parameters=parameters
    ).result_rows[0]
    comparison.replayed, ran = int(replayed[0]), set(replayed[1])
    comparison.flags = [f for f, scorer in FLAGS.items() if scorer in ran]
    comparison.means = [m for m, scorer in MEANS.items() if scorer in ran]
    originals = (
        "SELECT tenant, event_id, app, use_case, model, prompt_version, toxic, unfaithful, refusal, toxicity, faithfulness, relevance, scorers "
        "FROM scored_events WHERE ts >= {lo:DateTime64(3, 'UTC')} AND ts < {hi:DateTime64(3, 'UTC')}"
        + (" AND tenant = {tenant:String}" if tenant else "")
    )
    joined = f"FROM replayed_scores AS r INNER JOIN ({originals}) AS o ON o.tenant = r.tenant AND o.event_id = r.event_id WHERE r.replay_id = {{r:String}}"
    figures = [f"{_flag_moves(f, FLAGS[f])}" for f in comparison.flags]
    figures += [f"avgIf(o.{m}, mapContains(o.scorers, '{MEANS[m]}')), avg(r.{m})" for m in comparison.means]
    key = ", ".join(f"o.{k}" for k in KEY)
    result = client.query(f"SELECT {key}, count(), {', '.join(figures) or '1'} {joined} GROUP BY {key} ORDER BY {key}", parameters=parameters)
    for row in result.result_rows:
        values = list(row)
        rest = values[6:]
        moves = {f: FlagMove(*(int(v) for v in rest[4 * i: 4 * i + 4])) for i, f in enumerate(comparison.flags)}
        avgs = rest[4 * len(comparison.flags):]
        means = {m: (_num(avgs[2 * i]), _num(avgs[2 * i + 1])) for i, m in enumerate(comparison.means)}
        comparison.keys.append(KeyComparison(tuple(str(v) for v in values[:5]), int(values[5]), moves, means))
    comparison.without_original = comparison.replayed - sum(k.events for k in comparison.keys)
    versions = client.query(f"SELECT DISTINCT o.scorers {joined} LIMIT 5", parameters=parameters).result_rows
    comparison.original_scorers = [dict(v[0]) for v in versions]
    return comparison


def _flag_moves(flag: str, scorer: str) -> str:
    """Flagged in the originals, in the replay, and moved up and down: only where both scored it."""
    both = f"mapContains(o.scorers, '{scorer}')"
    return (
        f"countIf(o.{flag} = 1 AND {both}), countIf(r.{flag} = 1), "
        f"countIf(o.{flag} = 0 AND r.{flag} = 1 AND {both}), countIf(o.{flag} = 1 AND r.{flag} = 0 AND {both})"
    )


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # avg of nothing is NaN
