"""Kafka over TLS without SASL, with client certificates (mTLS), for every client including the
faust workers; secrets from the environment or files, never on a command line or in a DSN."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
from confluent_kafka import Producer

from conftest import REPO, Flow, make_event
from evalstream.config.settings import ClickHouseSettings, KafkaSettings, Settings


@pytest.fixture(scope="module")
def mtls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    run_dir = tmp_path_factory.mktemp("kafka-tls")
    env = {**os.environ, "EVALSTREAM_KAFKA_RUN_DIR": str(run_dir)}
    started = subprocess.run([str(REPO / "infra/kafka/start.sh"), "--tls"], capture_output=True, text=True, env=env)
    assert started.returncode == 0, started.stderr
    bootstrap = started.stdout.strip().splitlines()[-1]
    certs = run_dir / bootstrap.rsplit(":", 1)[1]
    yield {
        "EVALSTREAM_KAFKA_BOOTSTRAP": bootstrap,
        "EVALSTREAM_KAFKA_SECURITY_PROTOCOL": "SSL",
        "EVALSTREAM_KAFKA_SSL_CAFILE": str(certs / "ca.pem"),
        "EVALSTREAM_KAFKA_SSL_CERTFILE": str(certs / "client.pem"),
        "EVALSTREAM_KAFKA_SSL_KEYFILE": str(certs / "client.key"),
    }
    subprocess.run([str(REPO / "infra/kafka/stop.sh"), bootstrap.rsplit(":", 1)[1]], env=env, check=False)


def kafka_settings(env: dict[str, str]) -> KafkaSettings:
    return KafkaSettings(**{name.removeprefix("EVALSTREAM_KAFKA_").lower(): value for name, value in env.items()})


def test_the_faust_worker_reads_and_writes_over_tls_with_a_client_certificate(mtls_broker: dict[str, str], tmp_path: Path) -> None:
    from evalstream.kafka.progress import GroupProgress

    kafka = kafka_settings(mtls_broker)
    flow = Flow(kafka.bootstrap, tmp_path)
    flow.env.update({**mtls_broker, "EVALSTREAM_SCORERS": '["cost"]'})
    events = [make_event(i) for i in range(5)]
    producer = Producer({**kafka.librdkafka(), "log_level": 3})
    delivered: list[object] = []
    for event in events:
        producer.produce(flow.events_topic, json.dumps(event).encode(), on_delivery=lambda err, _: delivered.append(err))
    producer.flush(30)
    assert delivered == [None] * len(events)
    try:
        worker = flow.start_worker()
        progress = GroupProgress(kafka, flow.group_id, flow.events_topic)
        deadline = time.monotonic() + 180
        try:
            while progress.committed() < len(events):
                assert worker.poll() is None, flow.worker_log()[-3000:]
                assert time.monotonic() < deadline, flow.worker_log()[-3000:]
                time.sleep(0.5)
        finally:
            progress.close()
        assert flow.stop_worker(worker) == 0
        rows = flow.query("SELECT toString(event_id) AS event_id FROM scored_events")
        assert {r["event_id"] for r in rows} == {e["event_id"] for e in events}
    finally:
        flow.close()


def test_the_broker_refuses_a_client_without_a_certificate(mtls_broker: dict[str, str]) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    without_cert = {k: v for k, v in mtls_broker.items() if not k.endswith(("CERTFILE", "KEYFILE"))}
    admin = AdminClient({**kafka_settings(without_cert).librdkafka(), "log_level": 0})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=5)


def test_faust_uses_tls_without_sasl_and_the_client_certificate() -> None:
    import faust

    from evalstream.kafka.app import faust_credentials

    assert faust_credentials(KafkaSettings()) is None
    credentials = faust_credentials(KafkaSettings(security_protocol="SSL"))
    assert isinstance(credentials, faust.SSLCredentials)
    sasl = faust_credentials(KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="u", sasl_password="p"))
    assert sasl.ssl_context is not None
    config = KafkaSettings(security_protocol="SSL", ssl_certfile="/c.pem", ssl_keyfile="/k.pem", ssl_key_password="kp").librdkafka()
    assert (config["ssl.certificate.location"], config["ssl.key.location"], config["ssl.key.password"]) == ("/c.pem", "/k.pem", "kp")


def test_the_clickhouse_password_comes_from_the_environment_or_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALSTREAM_CLICKHOUSE", "http://evalstream_writer@clickhouse:8123/default")
    monkeypatch.setenv("EVALSTREAM_CLICKHOUSE_PASSWORD", "s3cr:et/@x")
    assert ClickHouseSettings().dsn == "http://evalstream_writer:s3cr%3Aet%2F%40x@clickhouse:8123/default"
    assert "s3cr" not in repr(Settings())
    monkeypatch.delenv("EVALSTREAM_CLICKHOUSE_PASSWORD")
    (tmp_path / "pw").write_text("from-a-file\n")
    monkeypatch.setenv("EVALSTREAM_CLICKHOUSE_PASSWORD_FILE", str(tmp_path / "pw"))
    assert ClickHouseSettings().dsn == "http://evalstream_writer:from-a-file@clickhouse:8123/default"
    # a DSN that carries its own password, and chdb, are left as they are
    assert ClickHouseSettings(dsn="http://u:own@h:8123/d").dsn == "http://u:own@h:8123/d"
    assert ClickHouseSettings(dsn="chdb:///tmp/x").dsn == "chdb:///tmp/x"
