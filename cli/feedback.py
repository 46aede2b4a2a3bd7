"""`evalstream feedback FILE`: load human labels, through Kafka (default) or straight into ClickHouse."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from evalstream.cli.common import Bootstrap, console, load_settings, require_clickhouse, require_kafka


def feedback(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="feedback, one JSON object per line (.jsonl or .jsonl.gz)"),
    bootstrap: Optional[str] = Bootstrap,
    clickhouse: Optional[str] = typer.Option(
        None, "--clickhouse", help="store straight into this ClickHouse (chdb:///dir or http(s)://...) instead of publishing to Kafka"
    ),
    topic: Optional[str] = typer.Option(None, help="topic to publish to \\[env EVALSTREAM_FEEDBACK_TOPIC, default genai.feedback]"),
) -> None:
    """Load human feedback (thumbs, toxic/faithful/relevant labels, corrections) on scored events.

    Through Kafka by default: the scoring workers validate it (dead-lettering what fails) and
    store it. With --clickhouse it is validated and redacted here and written to the feedback
    table directly (no workers needed; an invalid line is reported and skipped)."""
    from evalstream.cli.jsonl import read_lines

    lines = list(read_lines(file))
    if clickhouse:
        require_clickhouse(clickhouse)
        stored, invalid = _store_directly(lines, clickhouse)
        console.print(f"stored {stored} feedback into the feedback table of {_where(clickhouse)} (directly); {invalid} invalid lines skipped")
        raise typer.Exit(1 if invalid else 0)
    settings = load_settings(bootstrap=bootstrap).override("topics", feedback=topic)
    require_kafka(settings.kafka)
    delivered, rejected, undelivered = _publish(lines, settings)
    console.print(
        f"published {delivered} of {len(lines)} feedback to {settings.topics.feedback} (through Kafka: the workers store it); "
        f"rejected {rejected}, undelivered {undelivered}"
    )
    if rejected or undelivered:
        raise typer.Exit(1)


def _store_directly(lines: list[tuple[int, bytes]], dsn: str) -> tuple[int, int]:
    from pydantic import ValidationError

    from evalstream.contracts import Feedback, describe_validation_error
    from evalstream.sinks.feedback import FeedbackSink

    valid, invalid = [], 0
    for number, line in lines:
        try:
            valid.append(Feedback.model_validate_json(line))
        except ValidationError as exc:
            invalid += 1
            console.print(f"[yellow]line {number} skipped: {describe_validation_error(exc, root='feedback')}[/]")
    settings = load_settings(clickhouse=dsn)
    if settings.worker.redact_pii and valid:  # as the workers do: no personal data in the table
        from evalstream.streams.feedback_archive import redact_feedback
        from evalstream.streams.redact import Redactor

        redactor = Redactor()
        valid = [redact_feedback(f, redactor) for f in valid]
    sink = FeedbackSink(settings.clickhouse.dsn)
    try:
        sink.write(valid)
    finally:
        sink.close()
    return len(valid), invalid


def _publish(lines: list[tuple[int, bytes]], settings) -> tuple[int, int, int]:
    import json

    from evalstream.producer import EventProducer

    kafka = settings.kafka
    extra = {**{k: v for k, v in kafka.librdkafka().items() if k != "bootstrap.servers"}, "log_level": 3}
    producer = EventProducer(kafka.bootstrap, feedback_topic=settings.topics.feedback, extra_config=extra)
    for number, line in lines:
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            console.print(f"[yellow]line {number} is not JSON: {exc}[/]")
            producer.stats.rejected_invalid += 1
            continue
        if not producer.feedback(data if isinstance(data, dict) else {"value": data}, wait_s=60.0):
            console.print(f"[yellow]line {number} rejected (see the warning above)[/]")
    remaining = producer.flush(60.0)
    stats = producer.stats
    return stats.delivered, stats.rejected_invalid, remaining + stats.failed


def _where(dsn: str) -> str:
    return dsn.split("@")[-1]  # never print a password
