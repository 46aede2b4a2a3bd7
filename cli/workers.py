"""`evalstream worker` and `evalstream drift`: the two kinds of long-running worker."""

from __future__ import annotations

from typing import Optional

import typer

from evalstream.cli.common import Bootstrap, ClickHouseDsn, LogLevel, load_settings, require_clickhouse, require_kafka, scorer_set


def worker(
    bootstrap: Optional[str] = Bootstrap,
    clickhouse: Optional[str] = ClickHouseDsn,
    group_id: Optional[str] = typer.Option(None, help="consumer group \\[env EVALSTREAM_GROUP_ID]"),
    batch_max_events: Optional[int] = typer.Option(None, min=1, help="flush a batch at this many events \\[env EVALSTREAM_BATCH_MAX_EVENTS]"),
    batch_max_seconds: Optional[float] = typer.Option(None, help="... or when its oldest event is this old \\[env EVALSTREAM_BATCH_MAX_SECONDS]"),
    loglevel: str = LogLevel,
) -> None:
    """Run the stream workers until stopped (SIGTERM stores the batch in hand, commits and exits)."""
    settings = load_settings(bootstrap=bootstrap, clickhouse=clickhouse).override(
        "worker", group_id=group_id, batch_max_events=batch_max_events, batch_max_seconds=batch_max_seconds
    )
    require_clickhouse(settings.clickhouse.dsn)  # before the models load: one line, not minutes of retries
    require_kafka(settings.kafka)
    from evalstream.streams.pipeline import Pipeline
    from evalstream.streams.validate import EventTimeBounds
    from evalstream.streams.worker import run_worker

    pipeline = Pipeline(
        scorer_set(settings),  # flag thresholds per use case from the drift policy
        max_event_bytes=settings.worker.max_event_bytes,
        redact_pii=settings.worker.redact_pii,
        time_bounds=EventTimeBounds.of(settings.worker),
    )
    run_worker(settings, pipeline, loglevel=loglevel)


def drift(
    bootstrap: Optional[str] = Bootstrap,
    group_id: Optional[str] = typer.Option(
        None, help="the scoring workers' group; the drift group is GROUP-drift \\[env EVALSTREAM_GROUP_ID, EVALSTREAM_DRIFT_GROUP_ID]"
    ),
    loglevel: str = LogLevel,
) -> None:
    """Run the drift workers until stopped: score records -> windows per key -> alerts on Kafka
    (the scoring workers archive them in ClickHouse)."""
    from evalstream.drift.app import run_drift

    settings = load_settings(bootstrap=bootstrap).override("worker", group_id=group_id)
    require_kafka(settings.kafka)
    run_drift(settings, loglevel=loglevel)
