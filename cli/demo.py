"""`evalstream demo`: replay a workload through Kafka -> workers -> ClickHouse, watch it, summarise it.

The demo stores into a directory of its own (.data/demo-chdb), never into the configured
ClickHouse, and empties only a directory it made itself (it leaves a mark in it).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evalstream.cli.common import Bootstrap, console, load_settings, require_clickhouse, require_kafka
from evalstream.cli.report import write_demo_report
from evalstream.config.settings import Settings
from evalstream.kafka.progress import GroupProgress

DEMO_DIR = Path(".data") / "demo-chdb"
DEMO_MARK = ".evalstream-demo"

SUMMARY_SQL = """
SELECT model,
       count() AS events,
       round(100 * avg(toxic), 1) AS `toxic %`,
       round(avgOrNull(faithfulness), 3) AS faithfulness,
       round(100 * avgOrNull(unfaithful), 1) AS `unfaithful %`,
       round(avg(relevance), 3) AS relevance,
       round(100 * avg(refusal), 1) AS `refusal %`,
       round(quantile(0.95)(latency_ms)) AS `p95 ms`,
       if(countIf(cost_usd IS NULL) = count(), 'unknown', toString(round(sum(cost_usd), 4))) AS `cost $`,
       countIf(tokens_estimated) AS `tokens est.`
FROM scored_events
GROUP BY model
ORDER BY events DESC
"""


def demo(
    bootstrap: Optional[str] = Bootstrap,
    clickhouse: Optional[str] = typer.Option(
        None, "--clickhouse",
        help=f"where the demo stores (default: chdb://./{DEMO_DIR}, a directory of its own, emptied on each run; "
        "the demo never uses EVALSTREAM_CLICKHOUSE, and empties only a directory it made)",
    ),
    events: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, help="workload to replay (default: the bundled sample)"),
    timeout: float = typer.Option(900.0, help="give up after this many seconds"),
) -> None:
    """Replay a sample workload through Kafka, the workers and ClickHouse, then summarise."""
    settings = load_settings(bootstrap=bootstrap, clickhouse=clickhouse or f"chdb://{Path.cwd() / DEMO_DIR}")
    require_clickhouse(settings.clickhouse.dsn)
    sys.exit(run_demo(settings, events or bundled_workload(), timeout=timeout, console=console))


class DemoStoreError(Exception):
    pass


def prepare_demo_store(directory: Path) -> None:
    """An empty, marked directory for the demo's chdb; refuses a directory with data the demo did not make."""
    if directory.exists():
        if (directory / DEMO_MARK).is_file():
            shutil.rmtree(directory)
        elif any(directory.iterdir()):
            raise DemoStoreError(
                f"{directory} holds data not made by the demo; it is left as it is. "
                "Give the demo another --clickhouse directory, or remove this one yourself."
            )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / DEMO_MARK).write_text("made by `evalstream demo`, which empties this directory on each run\n")


def bundled_workload() -> Path:
    return Path(str(resources.files("evalstream.workload").joinpath("sample_events.jsonl.gz")))


def run_demo(settings: Settings, events: Path, *, timeout: float, console: Console) -> int:
    from evalstream.kafka.topics import ensure_topics, scoring_topics

    dsn = settings.clickhouse.dsn
    log_dir = Path.cwd()
    if dsn.startswith("chdb:///"):
        data_dir = Path(dsn.removeprefix("chdb://"))
        try:
            prepare_demo_store(data_dir)
        except DemoStoreError as exc:
            console.print(f"[red]{exc}[/]")
            return 2
        console.print(f"the demo stores in {data_dir}")
        log_dir = data_dir.parent
    require_kafka(settings.kafka)  # one line, not 30 s of retries
    if not ensure_topics(settings.kafka, scoring_topics(settings.topics), settings.topics.partitions, timeout=min(timeout, 30.0)):
        console.print(f"[red]Kafka at {settings.kafka.bootstrap} did not answer or could not create the topics[/]")
        return 1
    cli = [sys.executable, "-m", "evalstream.cli.main"]
    env = {**os.environ, **settings.environment()}  # the children run on exactly these settings

    console.rule("1. replaying the workload through the thin producer")
    subprocess.run([*cli, "produce", str(events), "--raw"], env=env, check=True)

    console.rule("2. workers score and store (faust-streaming -> ClickHouse); drift workers watch the scores")
    processes = {name: _start(cli, command, env, log_dir, console) for name, command in (("worker", "worker"), ("drift worker", "drift"))}
    started = time.monotonic()
    try:
        counts = _watch(settings, processes, started + timeout, console)
    finally:
        for proc in processes.values():
            stop(proc)
    if counts is None:
        return 1
    total, alerts, dead_letters = counts
    elapsed = time.monotonic() - started

    console.rule("3. summary, read back from ClickHouse")
    return _summarise(settings, total, alerts, dead_letters, elapsed, console)


def _start(cli: list[str], command: str, env: dict[str, str], log_dir: Path, console: Console) -> subprocess.Popen:
    log_path = log_dir / f"demo-{command}.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen([*cli, command], env=env, stdout=log_file, stderr=subprocess.STDOUT)
    console.print(f"{command} pid {proc.pid}, log {log_path}")
    return proc


def _watch(settings: Settings, processes: dict[str, subprocess.Popen], deadline: float, console: Console) -> tuple[int, int, int] | None:
    """Until the workers have committed every event, the drift workers every score record and the
    workers every alert: (events, alerts, dead letters), or None on a dead process or the deadline."""
    kafka, topics, group = settings.kafka, settings.topics, settings.worker.group_id
    events = GroupProgress(kafka, group, topics.events)
    scores = GroupProgress(kafka, settings.drift_group_id, topics.scores)
    alerts = GroupProgress(kafka, group, topics.alerts)
    dlq = GroupProgress(kafka, group, topics.dlq)
    try:
        total = events.end_offsets()
        if not wait_until(events, total, deadline, processes, console, "events committed"):
            return None
        if not wait_until(scores, scores.end_offsets(), deadline, processes, console, "score records checked for drift"):
            return None
        alert_count = alerts.end_offsets()
        if not wait_until(alerts, alert_count, deadline, processes, console, "alerts archived"):
            return None
        return total, alert_count, dlq.end_offsets()
    finally:
        for progress in (events, scores, alerts, dlq):
            progress.close()


def _summarise(settings: Settings, total: int, alerts: int, dead_letters: int, elapsed: float, console: Console) -> int:
    from evalstream.sinks import connect

    client = connect(settings.clickhouse.dsn)
    result = client.query(SUMMARY_SQL)
    table = Table(*result.column_names, title="scored_events by model")
    for row in result.result_rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)
    stored, distinct = client.query("SELECT count(), uniqExact(event_id) FROM scored_events").result_rows[0]
    archived = client.query("SELECT count() FROM alerts").result_rows[0][0]
    console.print(
        f"{total} events in Kafka -> {stored} rows stored ({distinct} distinct event ids), "
        f"{dead_letters} dead-lettered to {settings.topics.dlq}; "
        f"{total / elapsed:,.0f} events/s end to end including worker start-up ({elapsed:.1f}s)"
    )
    console.print(f"drift: {alerts} alerts on {settings.topics.alerts}, {archived} in the alerts table")
    console.print(f"report with charts: {write_demo_report(client)}")
    return 0 if stored + dead_letters == total and stored == distinct and archived == alerts else 1


def wait_until(group: GroupProgress, total: int, deadline: float, processes: dict[str, subprocess.Popen], console: Console, label: str) -> bool:
    """Until `group` has committed `total` offsets, with a progress bar; False on a dead process or the deadline."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task(label, total=total)
        done = group.committed()
        while done < total:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    console.print(f"[red]the {name} exited with {proc.returncode}[/]")
                    return False
            if time.monotonic() > deadline:
                console.print(f"[red]timed out with {done}/{total} committed ({label})[/]")
                return False
            time.sleep(0.5)
            done = group.committed()
            progress.update(task, completed=done)
    return True


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
