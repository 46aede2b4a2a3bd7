"""Bounded summaries of score records, mergeable and JSON-serialisable (they live in faust tables).

A `WindowStats` summarises any number of records in a fixed size: counts for the rates,
moments for cost, fixed-bin histograms for faithfulness, relevance and latency, and a few
exemplar event ids per statistic as evidence. Buckets of one minute merge into windows and
into day blocks of the baseline, so no list grows with traffic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from evalstream.contracts import ScoreRecord
from evalstream.drift.statistics import Statistic

UNIT_BINS = 20  # faithfulness and relevance on [0, 1]: 0.05 wide
LATENCY_RATIO = 1.2  # log-spaced latency bins: each 20% wider than the one before (p95 within ~10%)
LATENCY_BINS = 80  # 1 ms .. 1.2**80 ms (~35 min); slower goes to the last bin
EXEMPLARS = 5


@dataclass
class Proportion:
    n: int = 0
    k: int = 0

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else 0.0

    def merge(self, other: Proportion) -> None:
        self.n += other.n
        self.k += other.k

    def to_json(self) -> list[int]:
        return [self.n, self.k]

    @classmethod
    def from_json(cls, data: list[int]) -> Proportion:
        return cls(int(data[0]), int(data[1]))


@dataclass
class Moments:
    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    def add(self, x: float) -> None:
        self.n += 1
        self.total += x
        self.squares += x * x

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        if self.n < 2:
            return 0.0
        return max(self.squares - self.total * self.total / self.n, 0.0) / (self.n - 1)

    def merge(self, other: Moments) -> None:
        self.n += other.n
        self.total += other.total
        self.squares += other.squares

    def to_json(self) -> list[float]:
        return [self.n, self.total, self.squares]

    @classmethod
    def from_json(cls, data: list[float]) -> Moments:
        return cls(int(data[0]), float(data[1]), float(data[2]))


@dataclass
class Histogram:
    """Counts in fixed bins plus the exact sum (for the mean). Bin edges come from the subclass."""

    counts: list[int]
    total: float = 0.0

    size = 0

    @classmethod
    def empty(cls) -> Histogram:
        return cls([0] * cls.size)

    @property
    def n(self) -> int:
        return sum(self.counts)

    @property
    def mean(self) -> float:
        n = self.n
        return self.total / n if n else 0.0

    def add(self, x: float) -> None:
        self.counts[self.bin_of(x)] += 1
        self.total += x

    def merge(self, other: Histogram) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts)]
        self.total += other.total

    def quantile(self, q: float) -> float:
        """Linear interpolation inside the bin that holds the q-th quantile."""
        n = self.n
        if not n:
            return 0.0
        target, seen = q * n, 0
        for i, c in enumerate(self.counts):
            if c and seen + c >= target:
                lo, hi = self.edges(i)
                return lo + (hi - lo) * (target - seen) / c
            seen += c
        return self.edges(len(self.counts) - 1)[1]

    def quantile_bin(self, q: float) -> int:
        target, seen = q * self.n, 0
        for i, c in enumerate(self.counts):
            seen += c
            if c and seen >= target:
                return i
        return len(self.counts) - 1

    def bin_of(self, x: float) -> int:
        raise NotImplementedError

    def edges(self, i: int) -> tuple[float, float]:
        raise NotImplementedError

    def to_json(self) -> list[Any]:
        return [self.total, self.counts]

    @classmethod
    def from_json(cls, data: list[Any]) -> Histogram:
        return cls(list(map(int, data[1])), float(data[0]))


class UnitHistogram(Histogram):
    size = UNIT_BINS

    def bin_of(self, x: float) -> int:
        return min(max(int(x * UNIT_BINS), 0), UNIT_BINS - 1)

    def edges(self, i: int) -> tuple[float, float]:
        return i / UNIT_BINS, (i + 1) / UNIT_BINS


class LatencyHistogram(Histogram):
    size = LATENCY_BINS

    def bin_of(self, x: float) -> int:
        if x < 1:
            return 0
        return min(int(math.log(x) / math.log(LATENCY_RATIO)), LATENCY_BINS - 1)

    def edges(self, i: int) -> tuple[float, float]:
        return (0.0 if i == 0 else LATENCY_RATIO**i), LATENCY_RATIO ** (i + 1)


@dataclass
class Exemplars:
    """The few event ids that best show a problem (the worst `EXEMPLARS` by a badness score)."""

    items: list[tuple[float, str]] = field(default_factory=list)

    def offer(self, badness: float, event_id: str) -> None:
        if len(self.items) < EXEMPLARS or badness > self.items[-1][0]:
            self.items.append((badness, event_id))
            self.items.sort(key=lambda item: -item[0])
            del self.items[EXEMPLARS:]

    def merge(self, other: Exemplars) -> None:
        for badness, event_id in other.items:
            self.offer(badness, event_id)

    @property
    def event_ids(self) -> list[str]:
        return [event_id for _, event_id in self.items]

    def to_json(self) -> list[list[Any]]:
        return [[b, e] for b, e in self.items]

    @classmethod
    def from_json(cls, data: list[list[Any]]) -> Exemplars:
        return cls([(float(b), str(e)) for b, e in data])


def _float(value: float | Decimal | None) -> float | None:
    if value is None:
        return None
    x = float(value)
    return x if math.isfinite(x) else None


@dataclass
class WindowStats:
    """Everything the detectors need about a set of score records, in bounded space."""

    toxicity: Proportion = field(default_factory=Proportion)
    errors: Proportion = field(default_factory=Proportion)  # error_type set, or refused (content_filter)
    faithfulness: Histogram = field(default_factory=UnitHistogram.empty)  # events with context only
    relevance: Histogram = field(default_factory=UnitHistogram.empty)
    cost: Moments = field(default_factory=Moments)  # priced events only
    latency: Histogram = field(default_factory=LatencyHistogram.empty)
    unfaithful: Proportion = field(default_factory=Proportion)  # events the faithfulness scorer flagged (context only)
    refusals: Proportion = field(default_factory=Proportion)  # events the relevance scorer flagged as refusals
    exemplars: dict[str, Exemplars] = field(default_factory=dict)  # by statistic name
    last_offset: int = -1  # the highest source offset folded in: replays below it are skipped

    # statistic -> the attribute that summarises it; drift skips a statistic by name when merging
    PARTS = {
        Statistic.TOXICITY_RATE: "toxicity",
        Statistic.ERROR_RATE: "errors",
        Statistic.FAITHFULNESS: "faithfulness",
        Statistic.RELEVANCE: "relevance",
        Statistic.COST_PER_EVENT: "cost",
        Statistic.LATENCY_P95: "latency",
        Statistic.UNFAITHFUL_RATE: "unfaithful",
        Statistic.REFUSAL_RATE: "refusals",
    }

    def observe(self, record: ScoreRecord, ts_rank: float) -> None:
        """Fold one record in; `ts_rank` (its event time) ranks evidence: newer flagged events are better."""
        event_id = record.event_id
        toxic = record.toxic
        if toxic is not None:
            self.toxicity.n += 1
            if toxic:
                self.toxicity.k += 1
                self._exemplar(Statistic.TOXICITY_RATE, ts_rank, event_id)
        self.errors.n += 1
        if record.error_type or record.finish_reason == "content_filter":
            self.errors.k += 1
            self._exemplar(Statistic.ERROR_RATE, ts_rank, event_id)
        if (faithfulness := _float(record.faithfulness)) is not None:
            self.faithfulness.add(faithfulness)
            self._exemplar(Statistic.FAITHFULNESS, 1.0 - faithfulness, event_id)
        if (relevance := _float(record.relevance)) is not None:
            self.relevance.add(relevance)
            self._exemplar(Statistic.RELEVANCE, 1.0 - relevance, event_id)
        if (cost := _float(record.cost_usd)) is not None:
            self.cost.add(cost)
            self._exemplar(Statistic.COST_PER_EVENT, cost, event_id)
        if (latency := _float(record.latency_ms)) is not None:
            self.latency.add(latency)
            self._exemplar(Statistic.LATENCY_P95, latency, event_id)
        self._flag(self.unfaithful, record.unfaithful, Statistic.UNFAITHFUL_RATE, ts_rank, event_id)
        self._flag(self.refusals, record.refusal, Statistic.REFUSAL_RATE, ts_rank, event_id)

    def _flag(self, rate: Proportion, flagged: bool | None, statistic: Statistic, ts_rank: float, event_id: str) -> None:
        if flagged is None:  # not scored (no context, scorer off)
            return
        rate.n += 1
        if flagged:
            rate.k += 1
            self._exemplar(statistic, ts_rank, event_id)

    def _exemplar(self, statistic: Statistic, badness: float, event_id: str) -> None:
        self.exemplars.setdefault(statistic, Exemplars()).offer(badness, event_id)

    @property
    def events(self) -> int:
        return self.errors.n

    def merge(self, other: WindowStats, *, skip: Iterable[str] = (), exemplars: bool = True) -> WindowStats:
        skipped = set(skip)
        for statistic, attr in self.PARTS.items():
            if statistic not in skipped:
                getattr(self, attr).merge(getattr(other, attr))
        if exemplars:
            for statistic, found in other.exemplars.items():
                self.exemplars.setdefault(statistic, Exemplars()).merge(found)
        self.last_offset = max(self.last_offset, other.last_offset)
        return self

    @classmethod
    def merged(cls, parts: Iterable[WindowStats], *, exemplars: bool = True) -> WindowStats:
        total = cls()
        for part in parts:
            total.merge(part, exemplars=exemplars)
        return total

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {attr: getattr(self, attr).to_json() for attr in self.PARTS.values()}
        if self.exemplars:
            data["exemplars"] = {k: v.to_json() for k, v in self.exemplars.items()}
        data["last_offset"] = self.last_offset
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WindowStats:
        return cls(
            toxicity=Proportion.from_json(data["toxicity"]),
            errors=Proportion.from_json(data["errors"]),
            faithfulness=UnitHistogram.from_json(data["faithfulness"]),
            relevance=UnitHistogram.from_json(data["relevance"]),
            cost=Moments.from_json(data["cost"]),
            latency=LatencyHistogram.from_json(data["latency"]),
            # absent from state saved before the flags existed
            unfaithful=Proportion.from_json(data["unfaithful"]) if "unfaithful" in data else Proportion(),
            refusals=Proportion.from_json(data["refusals"]) if "refusals" in data else Proportion(),
            exemplars={k: Exemplars.from_json(v) for k, v in data.get("exemplars", {}).items()},
            last_offset=int(data.get("last_offset", -1)),
        )
