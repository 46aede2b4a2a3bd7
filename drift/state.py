"""What the drift engine keeps per key between records, as JSON in its `keys` table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evalstream.drift.lifecycle import Track
from evalstream.drift.windows import WindowStats

DAY = 86_400


@dataclass
class KeyState:
    open: list[int] = field(default_factory=list)  # starts of buckets not yet folded into the baseline
    retired_offset: int = -1
    baseline_since: float | None = None
    tracks: dict[str, Track] = field(default_factory=dict)  # "<statistic>/<detector>"
    # The baseline's day blocks are parsed from their JSON when first read: every record reads
    # its key's state, only the first record of a bucket needs the baseline.
    _blocks: list[tuple[int, WindowStats]] | None = field(default_factory=list, repr=False)
    _blocks_json: list[Any] = field(default_factory=list, repr=False)

    @property
    def blocks(self) -> list[tuple[int, WindowStats]]:
        """(day start, summary) of the baseline, oldest first."""
        if self._blocks is None:
            self._blocks = [(int(day), WindowStats.from_json(stats)) for day, stats in self._blocks_json]
        return self._blocks

    @blocks.setter
    def blocks(self, blocks: list[tuple[int, WindowStats]]) -> None:
        self._blocks = blocks

    def to_json(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "blocks": self._blocks_json if self._blocks is None else [[day, stats.to_json()] for day, stats in self._blocks],
            "retired_offset": self.retired_offset,
            "baseline_since": self.baseline_since,
            "tracks": {name: [t.state, t.streak, t.since] for name, t in self.tracks.items() if t.state != "ok" or t.streak},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyState:
        return cls(
            open=[int(s) for s in data["open"]],
            retired_offset=int(data["retired_offset"]),
            baseline_since=data.get("baseline_since"),
            tracks={name: Track(t[0], int(t[1]), float(t[2])) for name, t in data.get("tracks", {}).items()},
            _blocks=None,
            _blocks_json=data["blocks"],
        )

    def baseline(self) -> WindowStats:
        return WindowStats.merged((stats for _, stats in self.blocks), exemplars=False)

    def baseline_span(self, until: float) -> float:
        """Seconds of event time the baseline covers up to `until` (0 without a baseline)."""
        return until - self.baseline_since if self.baseline_since is not None else 0

    def firing_drift(self) -> set[str]:
        """The statistics whose drift alert is firing: their buckets stay out of the baseline."""
        return {name.split("/")[0] for name, track in self.tracks.items() if track.state == "firing" and name.endswith("/drift")}
