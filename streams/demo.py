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

from evalstream.streams.settings import KafkaSettings, WorkerSettings

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


def run_demo(kafka: KafkaSettings, settings: WorkerSettings, events: Path | None, *, timeout: float, console: Console) -> int:
    events = events or bundled_workload()
    if settings.clickhouse.startswith("chdb:///"):
        data_dir = Path(settings.clickhouse.removeprefix("chdb://"))
        if data_dir.exists():
            console.print(f"removing the previous demo data in {data_dir}")
            shutil.rmtree(data_dir)
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        log_path = data_dir.parent / "demo-worker.log"
    else:
        log_path = Path("demo-worker.log")
    cli = [sys.executable, "-m", "evalstream.streams.cli"]
    env = {**os.environ, "EVALSTREAM_KAFKA_BOOTSTRAP": kafka.bootstrap, "EVALSTREAM_CLICKHOUSE": settings.clickhouse}

    console.rule("1. replaying the workload through the thin producer")
    subprocess.run([*cli, "produce", str(events), "--raw"], env=env, check=True)

    console.rule("2. workers score and store (faust-streaming -> ClickHouse)")
    with open(log_path, "w") as log_file:
        worker = subprocess.Popen([*cli, "worker"], env=env, stdout=log_file, stderr=subprocess.STDOUT)
    console.print(f"worker pid {worker.pid}, log {log_path}")
    group = GroupProgress(kafka, settings.group_id, settings.events_topic)
    started = time.monotonic()
    try:
        total = group.end_offsets()
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("committed", total=total)
            done = 0
            while done < total:
                if worker.poll() is not None:
                    console.print(f"[red]the worker exited with {worker.returncode}; see {log_path}[/]")
                    return 1
                if time.monotonic() - started > timeout:
                    console.print(f"[red]timed out after {timeout:.0f}s with {done}/{total} committed; see {log_path}[/]")
                    return 1
                time.sleep(0.5)
                done = group.committed()
                progress.update(task, completed=done)
        elapsed = time.monotonic() - started
    finally:
        group.close()
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
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
    console.print(
        f"{total} events in Kafka -> {stored} rows stored ({distinct} distinct event ids), "
        f"{dead_letters} dead-lettered to {settings.dlq_topic}; "
        f"{total / elapsed:,.0f} events/s end to end including worker start-up ({elapsed:.1f}s)"
    )
    return 0 if stored + dead_letters == total and stored == distinct else 1
