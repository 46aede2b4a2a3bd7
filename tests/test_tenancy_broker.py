"""Write-side tenancy on a real SASL/SCRAM broker with ACLs (infra/kafka/start.sh --sasl):
a tenant's principal cannot write another tenant's topic, and an event on its own topic that
claims another tenant is dead-lettered with the reason while its own events are stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from confluent_kafka import Consumer, KafkaError, Producer

from conftest import REPO, Flow, make_event

TENANTS = ["acme", "globex"]


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The broker's admin (super user) settings, as EVALSTREAM_KAFKA_* variables."""
    run_dir = tmp_path_factory.mktemp("kafka-sasl")
    env = {**os.environ, "EVALSTREAM_KAFKA_RUN_DIR": str(run_dir), "EVALSTREAM_KAFKA_ADMIN_PASSWORD": "admin-secret-3b1f"}
    started = subprocess.run([str(REPO / "infra/kafka/start.sh"), "--sasl"], capture_output=True, text=True, env=env)
    assert started.returncode == 0, started.stderr
    bootstrap = started.stdout.strip().splitlines()[-1]
    yield {
        "EVALSTREAM_KAFKA_BOOTSTRAP": bootstrap,
        "EVALSTREAM_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "EVALSTREAM_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "EVALSTREAM_KAFKA_SASL_USERNAME": "admin",
        "EVALSTREAM_KAFKA_SASL_PASSWORD": "admin-secret-3b1f",
    }
    subprocess.run([str(REPO / "infra/kafka/stop.sh"), bootstrap.rsplit(":", 1)[1]], env=env, check=False)


def client(bootstrap: str, user: str, password: str, **extra: Any) -> dict[str, Any]:
    return {"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": user, "sasl.password": password, "log_level": 3, **extra}


def add_producer(flow: Flow, tenant: str, principal: str, password: str) -> None:
    env = {**flow.env, "EVALSTREAM_PRINCIPAL_PASSWORD": password}
    done = subprocess.run([sys.executable, str(REPO / "infra/kafka/tenant_acls.py"), "add-producer", "--tenant", tenant, "--principal", principal],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert password not in done.stdout + done.stderr


def produce(bootstrap: str, principal: str, password: str, topic: str, events: list[dict[str, Any]]) -> list[KafkaError | None]:
    outcomes: list[KafkaError | None] = []
    producer = Producer(client(bootstrap, principal, password, **{"enable.idempotence": True, "message.timeout.ms": 20000}))
    for event in events:
        producer.produce(topic, json.dumps(event).encode(), on_delivery=lambda err, _msg: outcomes.append(err))
    producer.flush(30)
    return outcomes


def read_all(bootstrap: str, admin: dict[str, str], topic: str, expected: int, timeout: float = 60.0) -> list[dict[str, Any]]:
    consumer = Consumer(client(bootstrap, admin["EVALSTREAM_KAFKA_SASL_USERNAME"], admin["EVALSTREAM_KAFKA_SASL_PASSWORD"],
                               **{"group.id": f"reader-{time.monotonic_ns()}", "auto.offset.reset": "earliest"}))
    consumer.subscribe([topic])
    letters: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(letters) < expected and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                letters.append(json.loads(msg.value()))
    finally:
        consumer.close()
    return letters


def wait_committed(flow: Flow, admin: dict[str, str], expected: dict[str, int], timeout: float = 180.0) -> None:
    """Until the workers' group has committed `expected` offsets on each topic (then the rows are stored)."""
    from evalstream.config.settings import KafkaSettings
    from evalstream.kafka.progress import GroupProgress

    kafka = KafkaSettings(**{name.removeprefix("EVALSTREAM_KAFKA_").lower(): value for name, value in admin.items()})
    progress = {topic: GroupProgress(kafka, flow.group_id, topic) for topic in expected}
    deadline = time.monotonic() + timeout
    try:
        while (done := {topic: p.committed() for topic, p in progress.items()}) != expected:
            for proc in flow.workers:
                assert proc.poll() is None, f"worker died:\n{flow.worker_log()[-3000:]}"
            assert time.monotonic() < deadline, f"committed {done}, expected {expected}:\n{flow.worker_log()[-3000:]}"
            time.sleep(0.5)
    finally:
        for p in progress.values():
            p.close()


def test_a_tenant_writes_only_its_topic_and_cannot_claim_another_tenant(sasl_broker: dict[str, str], tmp_path: Path) -> None:
    bootstrap = sasl_broker["EVALSTREAM_KAFKA_BOOTSTRAP"]
    flow = Flow(bootstrap, tmp_path)
    flow.env.update(sasl_broker)
    flow.env.update({"EVALSTREAM_TENANT_TOPICS": "true", "EVALSTREAM_TENANTS": json.dumps(TENANTS), "EVALSTREAM_SCORERS": '["cost"]'})
    acme_topic, globex_topic = (f"{flow.events_topic}.{t}" for t in TENANTS)
    add_producer(flow, "acme", "acme-support-bot", "acme-pw-51c2")
    add_producer(flow, "globex", "globex-search", "globex-pw-9e07")
    try:
        # Tenant A's credentials cannot write tenant B's topic: the broker refuses it.
        (refused,) = produce(bootstrap, "acme-support-bot", "acme-pw-51c2", globex_topic, [make_event(1, tenant="globex")])
        assert refused is not None and refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, refused
        # ... nor the shared events topic, nor the dead-letter topic.
        for topic in (flow.events_topic, flow.dlq_topic):
            (refused,) = produce(bootstrap, "acme-support-bot", "acme-pw-51c2", topic, [make_event(0, tenant="acme")])
            assert refused is not None and refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, (topic, refused)

        own = [make_event(i, tenant="acme") for i in range(0, 6, 2)]
        claims_globex = make_event(1, tenant="globex")
        assert produce(bootstrap, "acme-support-bot", "acme-pw-51c2", acme_topic, [*own, claims_globex]) == [None] * 4
        globex_own = make_event(3, tenant="globex")
        assert produce(bootstrap, "globex-search", "globex-pw-9e07", globex_topic, [globex_own]) == [None]

        worker = flow.start_worker()
        wait_committed(flow, sasl_broker, {acme_topic: 4, globex_topic: 1})
        assert flow.stop_worker(worker) == 0
        rows = flow.query("SELECT toString(event_id) AS event_id, tenant, source_topic FROM scored_events")
        stored = {(r["event_id"], r["tenant"], r["source_topic"]) for r in rows}
        assert stored == {(e["event_id"], "acme", acme_topic) for e in own} | {(globex_own["event_id"], "globex", globex_topic)}
        (letter,) = read_all(bootstrap, sasl_broker, flow.dlq_topic, 1)
        assert letter["error_kind"] == "tenant_mismatch"
        assert "'globex'" in letter["reason"] and "'acme'" in letter["reason"] and acme_topic in letter["reason"]
        assert letter["source"]["topic"] == acme_topic
        assert "acme-pw-51c2" not in flow.worker_log() and "admin-secret-3b1f" not in flow.worker_log()
    finally:
        flow.close()
