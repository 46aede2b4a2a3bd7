"""The scorer protocol and the set that runs several scorers over one batch."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

from evalstream.contracts import GenAIEvent

Scores = dict[str, Any]
SET_FIELDS = ("scorers",)  # the ScorerSet's own field: scorer name -> version


class ScorerContractError(ValueError):
    """A scorer's code breaks the protocol (fields undeclared or claimed twice): a bug, not an event."""


@runtime_checkable
class Scorer(Protocol):
    """Scores a batch of events; returns one dict of score fields per event, in order.

    `name` and `version` are stored beside every score so history can be re-scored and compared.
    `fields` declares every key a result may hold; each field belongs to one scorer only.
    Models load once, in `__init__`, never per event.
    """

    name: str
    version: str
    fields: tuple[str, ...]

    def score(self, events: Sequence[GenAIEvent]) -> list[Scores]: ...


@runtime_checkable
class Reviewer(Protocol):
    """Runs after the scorers and reads their scores (e.g. an LLM judge sampling what they flag)."""

    name: str
    version: str
    fields: tuple[str, ...]

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
        self.declared = declared_fields([*scorers, *reviewers])
        self.fields = frozenset(f for fields in self.declared.values() for f in fields)  # besides "scorers"
        self.scorers = list(scorers)
        self.reviewers = list(reviewers)
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.scorers)), thread_name_prefix="scorer")
        # Called with (scorer name, seconds) after each scorer's call on a batch: the workers export it.
        self.on_timing: Callable[[str, float], None] | None = None

    @property
    def versions(self) -> dict[str, str]:
        return {s.name: s.version for s in (*self.scorers, *self.reviewers)}

    def score(self, events: Sequence[GenAIEvent]) -> list[Scores]:
        if not events:
            return []
        futures = [self._pool.submit(self._timed, s.name, s.score, events) for s in self.scorers]
        merged: list[Scores] = [{"scorers": self.versions} for _ in events]
        for scorer, future in zip(self.scorers, futures):
            self._merge(scorer.name, merged, future.result())
        for reviewer in self.reviewers:
            self._merge(reviewer.name, merged, self._timed(reviewer.name, reviewer.review, events, merged))
        return merged

    def _timed(self, name: str, call: Callable[..., list[Scores]], *args: Any) -> list[Scores]:
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            if self.on_timing is not None:
                self.on_timing(name, time.perf_counter() - started)

    def _merge(self, name: str, merged: list[Scores], results: Sequence[Scores]) -> None:
        if len(results) != len(merged):
            raise RuntimeError(f"scorer {name} returned {len(results)} results for {len(merged)} events")
        declared = self.declared[name]
        for row, result in zip(merged, results):
            if not result.keys() <= declared:
                raise ScorerContractError(f"scorer {name} returned fields it does not declare: {sorted(result.keys() - declared)}")
            row.update(result)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def declared_fields(scorers: Sequence[Scorer | Reviewer]) -> dict[str, frozenset[str]]:
    """Each scorer's declared fields; two scorers declaring one field is an error at start."""
    owner: dict[str, str] = {field: "the scorer set" for field in SET_FIELDS}
    declared: dict[str, frozenset[str]] = {}
    for scorer in scorers:
        fields = getattr(scorer, "fields", None)
        if not isinstance(fields, tuple) or not all(isinstance(f, str) for f in fields):
            raise ScorerContractError(f"scorer {scorer.name} must declare the fields it produces: fields = ('a', 'b', ...)")
        for field in fields:
            if field in owner:
                raise ScorerContractError(f"field {field!r} is declared by both {owner[field]} and scorer {scorer.name}")
            owner[field] = f"scorer {scorer.name}"
        declared[scorer.name] = frozenset(fields)
    return declared
