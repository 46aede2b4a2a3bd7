"""The demo: replay a workload through Kafka -> workers -> ClickHouse, watch it, summarise it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evalstream.config.settings import KafkaSettings, WorkerSettings

SUMMARY_SQL = """
SELECT model,
       count() AS events,
       round(100 * avg(toxic), 1) AS `toxic %`,
       round(avgOrNull(faithfulness), 3) AS faithfulness,
       round(avg(relevance), 3) AS relevance,
       round(quantile(0.95)(latency_ms)) AS `p95 ms`,
       if(countIf(cost_usd IS NULL) = count(), 'unknown', toString(round(sum(cost_usd), 4))) AS `cost $`,
       countIf(tokens_estimated) AS `tokens est.`
FROM scored_events
GROUP BY model
ORDER BY events DESC
"""


COORDINATOR_NOT_READY = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError._TIMED_OUT,
}


def bundled_workload() -> Path:
    return Path(str(resources.files("evalstream.workload").joinpath("sample_events.jsonl.gz")))


class GroupProgress:
    """How far the worker group has committed on a topic, read from Kafka itself."""

    def __init__(self, kafka: KafkaSettings, group_id: str, topic: str) -> None:
        self.topic = topic
        self._committed = 0
        self.consumer = Consumer({**kafka.librdkafka(), "group.id": group_id, "enable.auto.commit": False})

    def _partitions(self) -> list[TopicPartition]:
        meta = self.consumer.list_topics(self.topic, timeout=10).topics.get(self.topic)
        return [TopicPartition(self.topic, p) for p in sorted(meta.partitions)] if meta and meta.partitions else []

    def end_offsets(self) -> int:
        return sum(self.consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in self._partitions())

    def committed(self) -> int:
        """Offsets committed by the group; while the group coordinator is still loading, the last answer."""
        parts = self._partitions()
        if not parts:
            return 0
        try:
            self._committed = sum(max(tp.offset, 0) for tp in self.consumer.committed(parts, timeout=10))
        except KafkaException as exc:
            if not (exc.args[0].retriable() or exc.args[0].code() in COORDINATOR_NOT_READY):
                raise
        return self._committed

    def close(self) -> None:
        self.consumer.close()


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


def run_demo(kafka: KafkaSettings, settings: WorkerSettings, events: Path | None, *, timeout: float, console: Console) -> int:
    events = events or bundled_workload()
    if settings.clickhouse.startswith("chdb:///"):
        data_dir = Path(settings.clickhouse.removeprefix("chdb://"))
        if data_dir.exists():
            console.print(f"removing the previous demo data in {data_dir}")
            shutil.rmtree(data_dir)
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        log_dir = data_dir.parent
    else:
        log_dir = Path(".")
    cli = [sys.executable, "-m", "evalstream.cli.main"]
    env = {**os.environ, "EVALSTREAM_KAFKA_BOOTSTRAP": kafka.bootstrap, "EVALSTREAM_CLICKHOUSE": settings.clickhouse}
    drift_group = settings.drift_group_id or f"{settings.group_id}-drift"

    console.rule("1. replaying the workload through the thin producer")
    subprocess.run([*cli, "produce", str(events), "--raw"], env=env, check=True)

    console.rule("2. workers score and store (faust-streaming -> ClickHouse); drift workers watch the scores")
    processes: dict[str, subprocess.Popen] = {}
    for name, command in (("worker", "worker"), ("drift worker", "drift")):
        log_path = log_dir / f"demo-{command}.log"
        with open(log_path, "w") as log_file:
            processes[name] = subprocess.Popen([*cli, command], env=env, stdout=log_file, stderr=subprocess.STDOUT)
        console.print(f"{name} pid {processes[name].pid}, log {log_path}")
    started = time.monotonic()
    deadline = started + timeout
    events_progress = GroupProgress(kafka, settings.group_id, settings.events_topic)
    scores_progress = GroupProgress(kafka, drift_group, settings.scores_topic)
    alerts_progress = GroupProgress(kafka, settings.group_id, settings.alerts_topic)
    try:
        total = events_progress.end_offsets()
        if not wait_until(events_progress, total, deadline, processes, console, "events committed"):
            return 1
        elapsed = time.monotonic() - started
        if not wait_until(scores_progress, scores_progress.end_offsets(), deadline, processes, console, "score records checked for drift"):
            return 1
        alerts = alerts_progress.end_offsets()
        if not wait_until(alerts_progress, alerts, deadline, processes, console, "alerts archived"):
            return 1
    finally:
        for progress in (events_progress, scores_progress, alerts_progress):
            progress.close()
        for proc in processes.values():
            stop(proc)
    dlq = GroupProgress(kafka, settings.group_id, settings.dlq_topic)
    dead_letters = dlq.end_offsets()
    dlq.close()

    console.rule("3. summary, read back from ClickHouse")
    from evalstream.sinks import connect

    client = connect(settings.clickhouse)
    result = client.query(SUMMARY_SQL)
    table = Table(*result.column_names, title="scored_events by model")
    for row in result.result_rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)
    stored, distinct = client.query("SELECT count(), uniqExact(event_id) FROM scored_events").result_rows[0]
    archived = client.query("SELECT count() FROM alerts").result_rows[0][0]
    console.print(
        f"{total} events in Kafka -> {stored} rows stored ({distinct} distinct event ids), "
        f"{dead_letters} dead-lettered to {settings.dlq_topic}; "
        f"{total / elapsed:,.0f} events/s end to end including worker start-up ({elapsed:.1f}s)"
    )
    console.print(f"drift: {alerts} alerts on {settings.alerts_topic}, {archived} in the alerts table")
    return 0 if stored + dead_letters == total and stored == distinct and archived == alerts else 1
