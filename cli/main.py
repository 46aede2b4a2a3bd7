"""The `evalstream` command line."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evalstream.cli.notify import notify
from evalstream.cli.dashboards import dashboards_app
from evalstream.config.settings import KafkaSettings, WorkerSettings

app = typer.Typer(help="Streaming evaluation and monitoring for GenAI applications.", no_args_is_help=True, add_completion=False)
# Piped output (logs, CI) gets room for the tables instead of the 80 columns rich assumes.
console = Console(stderr=True, width=None if sys.stderr.isatty() else 130)
stdout = Console(width=None if sys.stdout.isatty() else 130)

Bootstrap = typer.Option(None, "--bootstrap", help="Kafka bootstrap HOST:PORT [env EVALSTREAM_KAFKA_BOOTSTRAP]")
ClickHouseDsn = typer.Option(None, "--clickhouse", help="chdb:///abs/dir or http(s)://user:pass@host:8123/db [env EVALSTREAM_CLICKHOUSE]")


def _kafka(bootstrap: str | None) -> KafkaSettings:
    return KafkaSettings(bootstrap=bootstrap) if bootstrap else KafkaSettings()


def _worker_settings(clickhouse: str | None, **overrides: object) -> WorkerSettings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if clickhouse:
        values["clickhouse"] = clickhouse
    return WorkerSettings(**values)


@app.command()
def produce(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="events, one JSON object per line (.jsonl or .jsonl.gz)"),
    bootstrap: Optional[str] = Bootstrap,
    topic: str = typer.Option("genai.events", help="topic to publish to"),
    raw: bool = typer.Option(False, "--raw", help="send lines as they are, unvalidated (replays recorded traffic, malformed lines too)"),
) -> None:
    """Send events through the thin producer."""
    from evalstream.producer import EventProducer
    from evalstream.cli.jsonl import count_lines, read_lines

    kafka = _kafka(bootstrap)
    # log_level 3: librdkafka's start-up retries ("coordinator load in progress") are not news here.
    extra = {**{k: v for k, v in kafka.librdkafka().items() if k != "bootstrap.servers"}, "log_level": 3}
    producer = EventProducer(kafka.bootstrap, topic=topic, extra_config=extra)
    total = count_lines(file)
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task("producing", total=total)
        for _, line in read_lines(file):
            # Replaying a file, unlike a service's request path, may wait for room in the queue.
            if raw:
                producer.send_raw(line, key=_key_of(line), wait_s=60.0)
            else:
                producer.send(_loads_or_raw(line), wait_s=60.0)
            progress.advance(task)
        progress.update(task, description="flushing")
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
    try:
        event = json.loads(line)
        return f"{event['tenant']}/{event['app']}".encode()
    except Exception:
        return None


def _loads_or_raw(line: bytes) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return line.decode("utf-8", "replace")  # rejected by validation, counted


@app.command()
def worker(
    bootstrap: Optional[str] = Bootstrap,
    clickhouse: Optional[str] = ClickHouseDsn,
    group_id: Optional[str] = typer.Option(None, help="consumer group [env EVALSTREAM_GROUP_ID]"),
    batch_max_events: Optional[int] = typer.Option(None, help="flush a batch at this many events"),
    batch_max_seconds: Optional[float] = typer.Option(None, help="... or when its oldest event is this old"),
    loglevel: str = typer.Option("info"),
) -> None:
    """Run the stream workers until stopped (SIGTERM stores the batch in hand, commits and exits)."""
    from evalstream.streams.pipeline import Pipeline
    from evalstream.scorers.registry import default_scorers
    from evalstream.streams.worker import run_worker

    settings = _worker_settings(clickhouse, group_id=group_id, batch_max_events=batch_max_events, batch_max_seconds=batch_max_seconds)
    pipeline = Pipeline(default_scorers(), max_event_bytes=settings.max_event_bytes, redact_pii=settings.redact_pii)
    run_worker(settings, _kafka(bootstrap), pipeline, loglevel=loglevel)


@app.command()
def drift(
    bootstrap: Optional[str] = Bootstrap,
    group_id: Optional[str] = typer.Option(None, help="the scoring workers' group; the drift group is GROUP-drift [env EVALSTREAM_GROUP_ID]"),
    loglevel: str = typer.Option("info"),
) -> None:
    """Run the drift workers until stopped: score records -> windows per key -> alerts on Kafka
    (the scoring workers archive them in ClickHouse)."""
    from evalstream.drift.app import run_drift

    run_drift(_worker_settings(None, group_id=group_id), _kafka(bootstrap), loglevel=loglevel)


@app.command()
def score(
    in_path: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="IN.jsonl"),
    out_path: Path = typer.Argument(..., dir_okay=False, metavar="OUT.jsonl"),
    batch_size: int = typer.Option(256, min=1),
) -> None:
    """Score a file offline with the workers' scorers: no Kafka, no storage."""
    from evalstream.producer import GenAIEvent
    from evalstream.cli.jsonl import count_lines, dumps, open_text, read_lines
    from evalstream.streams.pipeline import Pipeline, SourceRecord
    from evalstream.scorers.registry import default_scorers
    from evalstream.streams.validate import Invalid

    settings = WorkerSettings()
    pipeline = Pipeline(default_scorers(), max_event_bytes=settings.max_event_bytes, redact_pii=settings.redact_pii)
    total, invalid, scored = count_lines(in_path), 0, 0

    def flush(batch: list[GenAIEvent], out) -> None:
        for event, scores in zip(batch, pipeline.scorers.score(batch)):
            out.write(dumps({"event_id": event.event_id, **scores}) + "\n")
        batch.clear()

    with open_text(out_path, "wt") as out, _progress() as progress:
        task = progress.add_task("scoring", total=total)
        batch: list[GenAIEvent] = []
        for number, line in read_lines(in_path):
            parsed = pipeline.parse(SourceRecord(str(in_path), 0, number, line))
            if isinstance(parsed, Invalid):
                invalid += 1
                console.print(f"[yellow]line {number} skipped ({parsed.kind}): {parsed.reason}[/]")
            else:
                batch.append(parsed)
                scored += 1
                if len(batch) >= batch_size:
                    flush(batch, out)
            progress.advance(task)
        flush(batch, out)
    console.print(f"scored {scored} events into {out_path}; {invalid} invalid lines skipped")


@app.command()
def query(
    sql: str = typer.Argument(..., help="a SQL query"),
    clickhouse: Optional[str] = ClickHouseDsn,
    output: str = typer.Option("table", "--format", help="table | json (one object per row)"),
) -> None:
    """Print a query's result."""
    from evalstream.sinks import connect
    from evalstream.cli.jsonl import dumps

    client = connect(_worker_settings(clickhouse).clickhouse)
    result = client.query(sql)
    columns = list(result.column_names)
    if output == "json":
        for row in result.result_rows:
            print(dumps(dict(zip(columns, row))))
        return
    table = Table(*columns)
    for row in result.result_rows:
        table.add_row(*(str(v) for v in row))
    stdout.print(table)


@app.command()
def migrate(clickhouse: Optional[str] = ClickHouseDsn) -> None:
    """Apply the SQL migrations not yet applied (idempotent)."""
    from evalstream.sinks import connect
    from evalstream.sinks.migrate import migrate as apply

    applied = apply(connect(_worker_settings(clickhouse).clickhouse))
    console.print(f"applied {len(applied)} migration(s): {', '.join(f'{m.version}_{m.name}' for m in applied) or 'none needed'}")


@app.command()
def schema(out: Path = typer.Argument(Path("producer/event.schema.json"), help="where to write the JSON Schema")) -> None:
    """Write the event contract's JSON Schema."""
    from evalstream.producer.contract import write_json_schema

    write_json_schema(out)
    console.print(f"wrote {out}")


@app.command()
def evaluate(
    toxicity_set: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, help="default: the shipped hand-labeled set"),
    faithfulness_set: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, help="default: the shipped hand-labeled set"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="also write the figures here"),
) -> None:
    """Score the hand-labeled sets: ROC-AUC and precision/recall at the default thresholds."""
    from dataclasses import asdict

    from evalstream.evaluation.quality import measure_all

    from evalstream.evaluation.quality import shipped_set

    results = measure_all(toxicity_set or shipped_set("toxicity_eval.jsonl"), faithfulness_set or shipped_set("faithfulness_eval.jsonl"))
    table = Table("scorer", "dataset", "n", "ROC-AUC", "flags", "threshold", "precision", "recall", title="scorer quality")
    for q in results:
        table.add_row(q.scorer, q.dataset, str(q.n), f"{q.roc_auc:.3f}", q.positive, f"{q.threshold:.2f}", f"{q.precision:.3f}", f"{q.recall:.3f}")
    stdout.print(table)
    if json_out:
        json_out.write_text(json.dumps([asdict(q) for q in results], indent=2) + "\n")


@app.command()
def demo(
    bootstrap: Optional[str] = Bootstrap,
    clickhouse: Optional[str] = ClickHouseDsn,
    events: Optional[Path] = typer.Option(None, help="workload to replay (default: the bundled sample)"),
    timeout: float = typer.Option(900.0, help="give up after this many seconds"),
) -> None:
    """Replay a sample workload through Kafka, the workers and ClickHouse, then summarise."""
    from evalstream.cli.demo import run_demo

    sys.exit(run_demo(_kafka(bootstrap), _worker_settings(clickhouse), events, timeout=timeout, console=console))


app.command()(notify)
app.add_typer(dashboards_app, name="dashboards")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=False
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
