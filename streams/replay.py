"""Replay: re-score a time range with the scorers as configured now, beside the originals.

Reads the range from Kafka while it is retained, else from the stored rows (replay_sources.py);
scores each batch with the workers' pipeline (validate -> redact -> score -> rows); stores the
rows in replayed_scores under the replay's id (sinks/replay.py); then commits its position and
saves its state. A stop between two of those steps is harmless: the next run reads the batch
again and the sink skips what this replay already stored, so a resumed replay has neither
duplicates nor gaps.

It runs beside the live workers without taking their share: its own consumer group, a bounded
rate (events/s, on average since the run started), and the command lowers its CPU priority.
A stop (Ctrl-C, SIGTERM) is honoured between batches.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol

from evalstream.config.settings import Settings
from evalstream.sinks.replay import ReplaySink, ReplayState
from evalstream.streams.pipeline import Pipeline
from evalstream.streams.replay_sources import Batch, KafkaRange, StoredRange


class ReplayError(ValueError):
    """A replay that cannot run as asked: the message says why in one line."""


class Source(Protocol):
    source: str

    def remaining(self) -> int: ...
    def batches(self, size: int): ...
    def commit(self, batch: Batch) -> None: ...
    def close(self) -> None: ...


@dataclass
class Progress:
    read: int = 0
    replayed: int = 0  # rows stored by this run
    skipped: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.replayed / self.seconds if self.seconds > 0 else 0.0


class Pace:
    """At most `max_rate` events per second on average since the start; waits wake on a stop."""

    def __init__(self, max_rate: float, stop: threading.Event) -> None:
        self.max_rate, self.stop = max_rate, stop
        self.started = time.monotonic()
        self.events = 0

    def took(self, events: int) -> None:
        self.events += events
        due = self.started + self.events / self.max_rate
        self.stop.wait(max(0.0, due - time.monotonic()))


def replay_group(settings: Settings, replay_id: str) -> str:
    """The replay's own consumer group: never the live workers', so it neither joins nor moves them."""
    return f"{settings.worker.group_id}-replay-{replay_id}"


def thresholds_json(thresholds: dict[str, dict[str, float]]) -> str:
    return json.dumps({name: values for name, values in thresholds.items() if values}, sort_keys=True, separators=(",", ":"))


def check_resumable(state: ReplayState, scorers: dict[str, str], thresholds: str, requested: tuple[datetime | None, datetime | None, str | None]) -> None:
    """A replay continues only as it started: the same range, tenant, scorer versions and thresholds."""
    from_ts, to_ts, tenant = requested
    asked = {"--from": (from_ts, state.from_ts), "--to": (to_ts, state.to_ts), "--tenant": (tenant, state.tenant)}
    differ = [f"{flag} {theirs} (it has {ours})" for flag, (theirs, ours) in asked.items() if theirs not in (None, ours)]
    if differ:
        raise ReplayError(f"replay {state.replay_id} was started with other options: {', '.join(differ)}; leave them out to resume it, or start a new replay")
    if state.scorers != scorers or state.thresholds != thresholds:
        raise ReplayError(
            f"replay {state.replay_id} was started with scorers {state.scorers} and thresholds {state.thresholds}; now "
            f"{scorers} and {thresholds}: start a new replay (a replay holds one scorer configuration)"
        )


def open_source(settings: Settings, sink: ReplaySink, state: ReplayState, topics: list[str]) -> Source:
    if state.source == "kafka":
        return KafkaRange(
            settings.kafka, topics, replay_group(settings, state.replay_id), state.from_ts, state.to_ts, state.tenant,
            max_event_bytes=settings.worker.max_event_bytes, clock_skew_s=settings.worker.max_clock_skew_seconds,
            lateness_s=settings.replay.lateness_seconds,
        )
    return StoredRange(sink, state.from_ts, state.to_ts, state.tenant, (state.cursor_ts, state.cursor_event_id))


class Replay:
    """One run of a replay: batches from the source, scored, stored, then the position saved."""

    def __init__(
        self, state: ReplayState, source: Source, pipeline: Pipeline, sink: ReplaySink, *, max_rate: float, batch_size: int,
        stop: threading.Event | None = None, on_batch: Callable[[Progress, Batch], None] | None = None,
    ) -> None:
        self.state, self.source, self.pipeline, self.sink = state, source, pipeline, sink
        self.batch_size = batch_size
        self.stop = stop or threading.Event()
        self.pace = Pace(max_rate, self.stop)
        self.on_batch = on_batch
        self.progress = Progress()

    def run(self) -> ReplayState:
        """Runs to the end of the range or until `stop` is set; returns the state saved last."""
        started = time.monotonic()
        self._save("running")
        for batch in self.source.batches(self.batch_size):
            result = self.pipeline.process(batch.records)
            stored = self.sink.write(result.rows)
            self.source.commit(batch)
            if self.state.source == "stored":
                self.state.cursor_ts, self.state.cursor_event_id = batch.position
            self.state.events += stored
            self.state.skipped += batch.skipped + len(result.dead_letters)
            self._save("running")
            self.progress.read += batch.read
            self.progress.replayed += stored
            self.progress.skipped += batch.skipped + len(result.dead_letters)
            self.progress.seconds = time.monotonic() - started
            if self.on_batch is not None:
                self.on_batch(self.progress, batch)
            if self.stop.is_set():
                return self._save("stopped")
            self.pace.took(len(batch.records))
            if self.stop.is_set():
                return self._save("stopped")
        return self._save("finished")

    def _save(self, state: str) -> ReplayState:
        self.state.state = state
        if state != "running":  # counted in the table: a batch stored by a run that died before saving counts too
            self.state.events = self.sink.replayed()[1]
        self.sink.save_state(self.state)
        return self.state
