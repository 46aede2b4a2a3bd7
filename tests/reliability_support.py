"""What the in-process reliability and fuzz tests share: a BatchWriter on real chdb, fed records
as faust would hand them (the ack is the only part of faust it uses; the broker tests use faust itself)."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from conftest import make_event
from evalstream.contracts import GenAIEvent
from evalstream.scorers import ScorerSet
from evalstream.scorers.cost import CostScorer
from evalstream.sinks import ClickHouseSink
from evalstream.streams.batching import BatchWriter
from evalstream.streams.pipeline import DeadLetter, Pipeline
from evalstream.streams.validate import EventTimeBounds

TOPIC = "genai.events"


def now_event(i: int, **overrides: Any) -> dict[str, Any]:
    """A valid event dated now (inside the workers' time bounds whatever the day)."""
    ts = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    return make_event(i, **{"ts": ts, **overrides})


def encoded(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    key: bytes | None = None
    acked: bool = False


@dataclass
class Event:
    message: Message


class AckingStream:
    """faust's stream as the writer uses it: `ack(event)`. Records the acks, in order."""

    def __init__(self) -> None:
        self.acked: list[tuple[int, int]] = []

    async def ack(self, event: Event) -> bool:
        event.message.acked = True
        self.acked.append((event.message.partition, event.message.offset))
        return True

    def committable(self, partition: int, first: int) -> int:
        """The offset faust would commit: the end of the contiguous run of acked offsets from `first`."""
        done = {o for p, o in self.acked if p == partition}
        offset = first
        while offset in done:
            offset += 1
        return offset


@dataclass
class Harness:
    sink: ClickHouseSink
    pipeline: Pipeline
    stream: AckingStream = field(default_factory=AckingStream)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    published: list[Any] = field(default_factory=list)
    next_offset: dict[int, int] = field(default_factory=dict)
    writer: BatchWriter | None = None
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)  # one loop for the writer's lock

    def events(self, payloads: Sequence[bytes | None], partition: int = 0) -> list[Event]:
        first = self.next_offset.get(partition, 0)
        self.next_offset[partition] = first + len(payloads)
        return [Event(Message(TOPIC, partition, first + i, value)) for i, value in enumerate(payloads)]

    def run(self, events: Sequence[Event]) -> None:
        assert self.writer is not None

        async def feed() -> None:
            for event in events:
                await self.writer.add(self.stream, event)
            await self.writer.flush()

        self.loop.run_until_complete(feed())

    def rows(self, sql: str = "SELECT count() FROM scored_events") -> Any:
        return self.sink.query(sql)[1][0][0]


def harness(database: str, scorers: ScorerSet | None = None, *, max_events: int = 1000, **writer: Any) -> Harness:
    pipeline = Pipeline(scorers or ScorerSet([CostScorer()]), max_event_bytes=1 << 20, time_bounds=EventTimeBounds())
    h = Harness(ClickHouseSink(database), pipeline)

    async def send_dead_letter(dead: DeadLetter) -> None:
        assert json.loads(dead.to_json())["error_kind"] == dead.invalid.kind  # what the worker sends
        h.dead_letters.append(dead)

    async def publish_scores(rows: list[Any]) -> None:
        h.published.extend(rows)

    h.writer = BatchWriter(pipeline, h.sink, send_dead_letter, publish_scores, max_events=max_events, max_seconds=60, **writer)
    return h


def random_id() -> str:
    return str(uuid.uuid4())


def event_of(payload: dict[str, Any]) -> GenAIEvent:
    return GenAIEvent.model_validate(payload)


# -- what the fault tests measure of a worker process -----------------------------------------


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB: read it before the process exits."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for pid {pid}")


def machine_load() -> str:
    import os

    return "load average %.2f %.2f %.2f on %d cores" % (*os.getloadavg(), os.cpu_count() or 0)


# -- storage unavailable, in a worker's process (test_fault_storage.py) ------------------------


def install_storage_outage(state_file: str) -> None:
    """While `state_file` holds "PORT", the worker's ClickHouse client fails as a client of a
    ClickHouse server behind a front at 127.0.0.1:PORT would: each call first makes a real
    clickhouse-connect HTTP request to that front (nothing listening: connection refused; a front
    answering 503: HTTP 503) and raises what clickhouse-connect raised (and appends it to
    `state_file`.errors). Removed: the embedded chdb serves again. No ClickHouse server runs here, so the calls cannot go through the front."""
    from pathlib import Path

    import clickhouse_connect
    from clickhouse_connect.driver._chdbclient import ChdbClient

    state = Path(state_file)

    def outage_error() -> Exception | None:
        port = state.read_text().strip() if state.exists() else ""
        if not port:
            return None
        try:
            clickhouse_connect.get_client(host="127.0.0.1", port=int(port), connect_timeout=2, send_receive_timeout=5)
        except Exception as exc:  # noqa: BLE001 - whatever the HTTP client raises is the point
            with open(f"{state_file}.errors", "a") as errors:  # what the worker was told, for the test to check
                errors.write(f"{type(exc).__name__}: {' '.join(str(exc).split())[:1000]}\n")
            return exc
        return RuntimeError(f"the front on port {port} answered like a server: the test's front must refuse or answer 503")

    def failing(method: Any) -> Any:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            error = outage_error()
            if error is not None:
                raise error
            return method(self, *args, **kwargs)

        return call

    for name in ("query", "insert", "command"):
        setattr(ChdbClient, name, failing(getattr(ChdbClient, name)))
