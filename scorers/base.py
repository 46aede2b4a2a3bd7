"""The scorer protocol and the set that runs several scorers over one batch."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, Sequence, runtime_checkable

from evalstream.producer import GenAIEvent

Scores = dict[str, Any]


@runtime_checkable
class Scorer(Protocol):
    """Scores a batch of events; returns one dict of score fields per event, in order.

    `name` and `version` are stored beside every score so history can be re-scored and compared.
    Models load once, in `__init__`, never per event.
    """

    name: str
    version: str

    def score(self, events: Sequence[GenAIEvent]) -> list[Scores]: ...


@runtime_checkable
class Reviewer(Protocol):
    """Runs after the scorers and reads their scores (e.g. an LLM judge sampling what they flag)."""

    name: str
    version: str

    def review(self, events: Sequence[GenAIEvent], scores: Sequence[Scores]) -> list[Scores]: ...


class ScorerSet:
    """Runs independent scorers on the same batch at the same time and merges their results.

    Threads suffice: the heavy scorers spend their time in torch / onnxruntime / numpy, which
    release the GIL.
    """

    def __init__(self, scorers: Sequence[Scorer], reviewers: Sequence[Reviewer] = ()) -> None:
        names = [s.name for s in (*scorers, *reviewers)]
        if len(set(names)) != len(names):
            raise ValueError(f"scorer names must be unique, got {names}")
        self.scorers = list(scorers)
        self.reviewers = list(reviewers)
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.scorers)), thread_name_prefix="scorer")

    @property
    def versions(self) -> dict[str, str]:
        return {s.name: s.version for s in (*self.scorers, *self.reviewers)}

    def score(self, events: Sequence[GenAIEvent]) -> list[Scores]:
        if not events:
            return []
        futures = [self._pool.submit(s.score, events) for s in self.scorers]
        merged: list[Scores] = [{"scorers": self.versions} for _ in events]
        for scorer, future in zip(self.scorers, futures):
            results = future.result()
            if len(results) != len(events):
                raise RuntimeError(f"scorer {scorer.name} returned {len(results)} results for {len(events)} events")
            for row, result in zip(merged, results):
                row.update(result)
        for reviewer in self.reviewers:
            for row, result in zip(merged, reviewer.review(events, merged)):
                row.update(result)
        return merged

    def close(self) -> None:
        self._pool.shutdown(wait=True)
