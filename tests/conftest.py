"""Shared fixtures: a real Kafka broker for the session, and a flow (topics, group, chdb dir) per test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

REPO = Path(__file__).resolve().parents[1]
EVALSTREAM = [sys.executable, "-m", "evalstream.cli.main"]


def make_event(i: int, **overrides: Any) -> dict[str, Any]:
    event = {
        "event_id": str(uuid.uuid4()),
        "ts": "2026-11-20T10:00:00Z",
        "tenant": ["acme", "globex"][i % 2],
        "app": ["support-bot", "doc-search", "summarizer"][i % 3],
        "environment": "prod",
        "region": ["eu", "us", "apac"][i % 3],
        "use_case": "rag-qa",
        "provider": "openai",
        "model": ["gpt-4o-mini", "gpt-4.1"][i % 2],
        "prompt_id": "answer-from-docs",
        "prompt_version": "7",
        "prompt": f"How long do I have to return item {i}?",
        "context": ["Items can be returned within 14 days of delivery for a full refund."],
        "response": "You can return it within 14 days of delivery.",
        "usage": {"input_tokens": 812, "output_tokens": 143, "cached_input_tokens": 512, "reasoning_tokens": 0},
        "latency_ms": 930,
    }
    event.update(overrides)
    return event


@pytest.fixture(scope="session")
def kafka() -> Iterator[str]:
    started = subprocess.run([str(REPO / "infra/kafka/start.sh")], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    bootstrap = started.stdout.strip().splitlines()[-1]
    yield bootstrap
    subprocess.run([str(REPO / "infra/kafka/stop.sh"), bootstrap.rsplit(":", 1)[1]], check=False)


class Flow:
    """One isolated pipeline on the shared broker: its own topics, consumer group and chdb dir."""

    def __init__(self, bootstrap: str, workdir: Path) -> None:
        tag = uuid.uuid4().hex[:8]
        self.bootstrap = bootstrap
        self.workdir = workdir
        self.events_topic = f"test.{tag}.events"
        self.dlq_topic = f"test.{tag}.events.dlq"
        self.group_id = f"test-{tag}"
        self.dsn = f"chdb://{workdir / 'chdb'}"
        self.env = {
            **os.environ,
            "EVALSTREAM_KAFKA_BOOTSTRAP": bootstrap,
            "EVALSTREAM_CLICKHOUSE": self.dsn,
            "EVALSTREAM_EVENTS_TOPIC": self.events_topic,
            "EVALSTREAM_DLQ_TOPIC": self.dlq_topic,
            "EVALSTREAM_GROUP_ID": self.group_id,
            # The fixtures are dated 2026-11-20: inside the workers' backfill bound whatever the day.
            "EVALSTREAM_MAX_BACKFILL_DAYS": "36500",
        }
        self.workers: list[subprocess.Popen] = []

    def start_worker(self, command: str = "worker", *, preload: str | None = None, **settings: Any) -> subprocess.Popen:
        """`evalstream worker` (or `drift`) with these EVALSTREAM_* settings on top of the flow's.
        `preload`: Python run in the worker's process before the command (a fault test's injection)."""
        env = {**self.env, **{f"EVALSTREAM_{k.upper()}": str(v) for k, v in settings.items()}}
        log = open(self.workdir / f"worker-{len(self.workers)}.log", "w")
        argv = [*EVALSTREAM, command]
        if preload is not None:
            argv = [sys.executable, "-c", f"{preload}\nimport sys; sys.argv = ['evalstream', {command!r}]\nfrom evalstream.cli.main import main; main()"]
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def worker_log(self, index: int = -1) -> str:
        return (self.workdir / f"worker-{index % len(self.workers)}.log").read_text()

    def committed(self) -> int:
        from evalstream.config.settings import KafkaSettings
        from evalstream.kafka.progress import GroupProgress

        progress = GroupProgress(KafkaSettings(bootstrap=self.bootstrap), self.group_id, self.events_topic)
        try:
            return progress.committed()
        finally:
            progress.close()

    def wait_committed(self, n: int, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while (done := self.committed()) < n:
            for proc in self.workers:
                assert proc.poll() is None or proc.returncode in (0, -9), f"worker died:\n{self.worker_log()[-3000:]}"
            assert time.monotonic() < deadline, f"only {done}/{n} committed after {timeout}s:\n{self.worker_log()[-3000:]}"
            time.sleep(0.5)

    def stop_worker(self, proc: subprocess.Popen, timeout: float = 30.0, ready_timeout: float = 180.0) -> int:
        """SIGTERM once the worker is ready: one still loading has no handler yet and dies of the
        signal (-15). A worker with nothing left to do can be ready within the caller's last wait."""
        log = self.workdir / f"worker-{self.workers.index(proc)}.log"
        deadline = time.monotonic() + ready_timeout
        while "Worker ready" not in log.read_text() and proc.poll() is None:
            assert time.monotonic() < deadline, f"worker not ready after {ready_timeout}s:\n{log.read_text()[-3000:]}"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=timeout)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Through the `evalstream query` command: chdb allows one data dir per process."""
        out = subprocess.run([*EVALSTREAM, "query", "--format", "json", sql], env=self.env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]

    def dead_letters(self, expected: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        from confluent_kafka import Consumer

        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"{self.group_id}-reader", "auto.offset.reset": "earliest", "fetch.message.max.bytes": 32 * 1024 * 1024})
        consumer.subscribe([self.dlq_topic])
        letters: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        try:
            while len(letters) < expected and time.monotonic() < deadline:
                msg = consumer.poll(0.5)
                if msg is not None and not msg.error():
                    letters.append(json.loads(msg.value()))
            extra = consumer.poll(1.0)  # nothing more should be there
            if extra is not None and not extra.error():
                letters.append(json.loads(extra.value()))
        finally:
            consumer.close()
        return letters

    def close(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def flow(kafka: str, tmp_path: Path) -> Iterator[Flow]:
    f = Flow(kafka, tmp_path)
    yield f
    f.close()


class Broker:
    """A broker of its own for a test that stops and restarts it (infra/kafka/start.sh, stop.sh):
    the same port, configuration and log dir across a restart, so committed offsets and events survive."""

    def __init__(self) -> None:
        started = subprocess.run([str(REPO / "infra/kafka/start.sh")], capture_output=True, text=True)
        assert started.returncode == 0, started.stderr
        self.bootstrap = started.stdout.strip().splitlines()[-1]
        self.port = self.bootstrap.rsplit(":", 1)[1]

    def stop(self) -> None:
        """SIGTERM by its PID (stop.sh), keeping its data for `resume`."""
        subprocess.run([str(REPO / "infra/kafka/stop.sh"), "--keep", self.port], check=True, capture_output=True)

    def resume(self) -> None:
        """Back on the same port and log dir; returns once it accepts connections."""
        started = subprocess.run([str(REPO / "infra/kafka/start.sh"), "--resume", self.port], capture_output=True, text=True)
        assert started.returncode == 0, started.stderr

    def close(self) -> None:
        subprocess.run([str(REPO / "infra/kafka/stop.sh"), self.port], check=False, capture_output=True)


@pytest.fixture
def private_broker() -> Iterator[Broker]:
    """A broker for this test alone (the session's `kafka` is shared: never stop that one)."""
    broker = Broker()
    yield broker
    broker.close()
