"""Scoring a file offline: the workers' validation and scorers, without Kafka or storage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from evalstream.contracts import GenAIEvent
from evalstream.streams.pipeline import Pipeline, SourceRecord
from evalstream.streams.validate import Invalid


@dataclass(frozen=True)
class Skipped:
    line: int
    invalid: Invalid


@dataclass(frozen=True)
class Scored:
    line: int
    scores: dict[str, Any]  # event_id and what the scorers said


def score_lines(pipeline: Pipeline, source: str, lines: Iterable[tuple[int, bytes]], batch_size: int) -> Iterator[Scored | Skipped]:
    """One result per line, in batches of `batch_size` valid events (an invalid line is reported at once)."""
    batch: list[tuple[int, GenAIEvent]] = []
    for number, line in lines:
        parsed = pipeline.parse(SourceRecord(source, 0, number, line))
        if isinstance(parsed, Invalid):
            yield Skipped(number, parsed)
            continue
        batch.append((number, parsed))
        if len(batch) >= batch_size:
            yield from _score(pipeline, batch)
            batch = []
    yield from _score(pipeline, batch)


def _score(pipeline: Pipeline, batch: list[tuple[int, GenAIEvent]]) -> Iterator[Scored]:
    if not batch:
        return
    events = [event for _, event in batch]
    for (number, event), scores in zip(batch, pipeline.scorers.score(events)):
        yield Scored(number, {"event_id": event.event_id, **scores})
