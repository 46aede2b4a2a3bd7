"""`evalstream produce`: send a file of events through the thin producer."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

from evalstream.cli.common import Bootstrap, console, load_settings, progress, require_kafka


def produce(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="events, one JSON object per line (.jsonl or .jsonl.gz)"),
    bootstrap: Optional[str] = Bootstrap,
    topic: Optional[str] = typer.Option(None, help="topic to publish to \\[env EVALSTREAM_EVENTS_TOPIC, default genai.events]"),
    raw: bool = typer.Option(False, "--raw", help="send lines as they are, unvalidated (replays recorded traffic, malformed lines too)"),
) -> None:
    """Send events through the thin producer."""
    from evalstream.cli.jsonl import count_lines, read_lines
    from evalstream.producer import EventProducer

    settings = load_settings(bootstrap=bootstrap).override("topics", events=topic)
    topic = settings.topics.events
    kafka = settings.kafka
    require_kafka(kafka)
    # log_level 3: librdkafka's start-up retries ("coordinator load in progress") are not news here.
    extra = {**{k: v for k, v in kafka.librdkafka().items() if k != "bootstrap.servers"}, "log_level": 3}
    producer = EventProducer(kafka.bootstrap, topic=topic, extra_config=extra)
    total = count_lines(file)
    started = time.perf_counter()
    with progress() as bar:
        task = bar.add_task("producing", total=total)
        for _, line in read_lines(file):
            # Replaying a file, unlike a service's request path, may wait for room in the queue.
            if raw:
                producer.send_raw(line, key=_key_of(line), wait_s=60.0)
            else:
                producer.send(_loads_or_raw(line), wait_s=60.0)
            bar.advance(task)
        bar.update(task, description="flushing")
        remaining = producer.flush(60.0)
    stats = producer.stats
    elapsed = time.perf_counter() - started
    console.print(
        f"produced {stats.delivered} of {total} events to {topic} in {elapsed:.1f}s "
        f"({stats.delivered / max(elapsed, 1e-9):,.0f}/s); rejected {stats.rejected_invalid}, "
        f"failed {stats.failed}, dropped {stats.dropped_queue_full}, undelivered {remaining}"
    )
    if stats.failed or remaining:
        raise typer.Exit(1)


def _key_of(line: bytes) -> bytes | None:
    """The partition key of a raw line, when it has one; malformed lines go unkeyed."""
    from evalstream.contracts import partition_key

    try:
        event = json.loads(line)
        return partition_key(event["tenant"], event["app"])
    except Exception:
        return None


def _loads_or_raw(line: bytes) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return line.decode("utf-8", "replace")  # rejected by validation, counted
