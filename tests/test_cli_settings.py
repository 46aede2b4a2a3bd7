"""Every command honours the same settings: `produce` publishes where the workers read, and the
demo keeps to a directory of its own, never the configured storage."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import EVALSTREAM, REPO, make_event

UNREACHABLE_KAFKA = "127.0.0.1:1"

# A value for every variable the README documents, as a user would set it.
DOCUMENTED = {
    "EVALSTREAM_KAFKA_BOOTSTRAP": "kafka.example:9093",
    "EVALSTREAM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "EVALSTREAM_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "EVALSTREAM_KAFKA_SASL_USERNAME": "svc",
    "EVALSTREAM_KAFKA_SASL_PASSWORD": "kafka-s3cret",
    "EVALSTREAM_KAFKA_SSL_CAFILE": "/etc/ssl/ca.pem",
    "EVALSTREAM_KAFKA_SSL_CERTFILE": "/etc/ssl/client.pem",
    "EVALSTREAM_KAFKA_SSL_KEYFILE": "/etc/ssl/client.key",
    "EVALSTREAM_CLICKHOUSE": "http://writer:pw@clickhouse:8123/evals",
    "EVALSTREAM_CLICKHOUSE_PASSWORD": "pw",
    "EVALSTREAM_CLICKHOUSE_PASSWORD_FILE": "/run/secrets/clickhouse",
    "EVALSTREAM_TENANT_TOPICS": "true",
    "EVALSTREAM_TENANTS": '["acme", "globex"]',
    "EVALSTREAM_GROUP_ID": "workers-a",
    "EVALSTREAM_DRIFT_GROUP_ID": "drift-a",
    "EVALSTREAM_DRIFT_POLICY": "/etc/evalstream/policy.yaml",
    "EVALSTREAM_EVENTS_TOPIC": "a.events",
    "EVALSTREAM_DLQ_TOPIC": "a.events.dlq",
    "EVALSTREAM_FEEDBACK_TOPIC": "a.feedback",
    "EVALSTREAM_SCORES_TOPIC": "a.scores",
    "EVALSTREAM_ALERTS_TOPIC": "a.alerts",
    "EVALSTREAM_BATCH_MAX_EVENTS": "17",
    "EVALSTREAM_BATCH_MAX_SECONDS": "0.25",
    "EVALSTREAM_MAX_EVENT_BYTES": "4096",
    "EVALSTREAM_BATCH_MAX_BYTES": "1048576",
    "EVALSTREAM_MAX_BACKFILL_DAYS": "7.5",
    "EVALSTREAM_MAX_CLOCK_SKEW_SECONDS": "60.5",
    "EVALSTREAM_REDACT_PII": "false",
    "EVALSTREAM_REDACT_POLICY": "/etc/evalstream/redaction.yaml",
    "EVALSTREAM_REDACT_SPACY_MODEL": "/models/spacy",
    "EVALSTREAM_REDACT_HMAC_KEY": "hmac-s3cret",
    "EVALSTREAM_DLQ_RAW_TOPIC": "a.events.dlq.raw",
    "EVALSTREAM_SCORERS": '["cost", "relevance"]',
    "EVALSTREAM_DEVICE": "cpu",
    "EVALSTREAM_EMBEDDING_BACKEND": "torch",
    "EVALSTREAM_FAITHFULNESS_MODEL": "cosine",
    "EVALSTREAM_DETOXIFY_CHECKPOINT": "/models/detoxify.ckpt",
    "EVALSTREAM_DETOXIFY_CONFIG_DIR": "/models/bert",
    "EVALSTREAM_DETOXIFY_CONFIRM_ABOVE": "0.3",
    "EVALSTREAM_DETOXIFY_SAMPLE_RATE": "0.1",
    "EVALSTREAM_JUDGE_URL": "http://judge:8000/v1",
    "EVALSTREAM_JUDGE_MODEL": "judge-1",
    "EVALSTREAM_JUDGE_API_KEY": "judge-s3cret",
    "EVALSTREAM_JUDGE_SAMPLE_RATE": "0.5",
    "EVALSTREAM_JUDGE_BUDGET_PER_HOUR": "9",
    "EVALSTREAM_JUDGE_TIMEOUT_S": "3.0",
    "EVALSTREAM_JUDGE_RETRIES": "2",
    "EVALSTREAM_JUDGE_CONCURRENCY": "8",
    "EVALSTREAM_JUDGE_GROUP_ID": "judge-a",
    "EVALSTREAM_REPLAY_MAX_RATE": "20.0",
    "EVALSTREAM_REPLAY_BATCH_SIZE": "16",
    "EVALSTREAM_REPLAY_NICE": "5",
    "EVALSTREAM_REPLAY_LATENESS_SECONDS": "120.0",
    "EVALSTREAM_GRAFANA_URL": "http://grafana:3000",
    "EVALSTREAM_GRAFANA_TOKEN": "glsa_token",
    "EVALSTREAM_GRAFANA_USER": "admin",
    "EVALSTREAM_GRAFANA_PASSWORD": "grafana-s3cret",
    "EVALSTREAM_GRAFANA_CLICKHOUSE": "http://reader:pw@clickhouse:8123/evals",
    "EVALSTREAM_GRAFANA_PROMETHEUS": "http://prometheus:9090",
    "EVALSTREAM_OTLP_TOPIC": "otlp_spans",
    "EVALSTREAM_OTLP_ENCODING": "otlp_json",
    "EVALSTREAM_OTLP_MAPPING": '{"tenant": ["resource:k8s.namespace.name"]}',
    "EVALSTREAM_OTLP_SCORES_TOPIC": "otlp_evaluations",
    "EVALSTREAM_METRICS_HOST": "0.0.0.0",
    "EVALSTREAM_METRICS_PORT": "9400",
    "EVALSTREAM_DRIFT_METRICS_PORT": "9401",
    "EVALSTREAM_NOTIFY_METRICS_PORT": "9402",
}


# Documented for an admin script (infra/kafka/tenant_acls.py), not read by the commands.
NOT_SETTINGS = {"EVALSTREAM_PRINCIPAL_PASSWORD"}


@pytest.fixture
def documented_environment(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in [n for n in os.environ if n.startswith("EVALSTREAM_")]:
        monkeypatch.delenv(name)
    for name, value in DOCUMENTED.items():
        monkeypatch.setenv(name, value)
    return DOCUMENTED


def test_every_documented_variable_reaches_the_one_settings_object(documented_environment: dict[str, str]) -> None:
    from evalstream.config.settings import Settings

    documented = set(re.findall(r"EVALSTREAM_[A-Z_]+[A-Z]", (REPO / "README.md").read_text())) - NOT_SETTINGS
    assert documented <= set(documented_environment), "a documented variable without a value in this test"
    settings = Settings()
    assert documented_environment.items() <= settings.environment().items()
    assert (settings.topics.events, settings.worker.batch_max_events, settings.drift_group_id) == ("a.events", 17, "drift-a")
    assert "s3cret" not in repr(settings)  # secrets stay out of logs


def test_flags_override_the_environment_and_the_children_get_the_result(
    documented_environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalstream.config.settings import Settings

    settings = Settings().override("kafka", bootstrap="flag:9092").override("worker", group_id=None, batch_max_events=3)
    assert (settings.kafka.bootstrap, settings.worker.group_id, settings.worker.batch_max_events) == ("flag:9092", "workers-a", 3)
    with pytest.raises(ValueError):
        settings.override("worker", batch_max_events=0)
    for name, value in settings.environment().items():  # what the demo hands its children
        monkeypatch.setenv(name, value)
    assert Settings() == settings


def test_topics_are_created_with_the_configuration_they_need(kafka: str) -> None:
    from confluent_kafka.admin import AdminClient, ConfigResource

    from evalstream.config.settings import KafkaSettings, TopicSettings
    from evalstream.kafka.topics import MAX_MESSAGE_BYTES, drift_topics, ensure_topics, scoring_topics

    tag = uuid.uuid4().hex[:8]
    topics = TopicSettings(events=f"t.{tag}.events", dlq=f"t.{tag}.dlq", scores=f"t.{tag}.scores", alerts=f"t.{tag}.alerts")
    changelog = f"t.{tag}-drift-keys-changelog"
    settings = KafkaSettings(bootstrap=kafka)
    assert ensure_topics(settings, scoring_topics(topics), partitions=3)
    assert ensure_topics(settings, drift_topics(topics, [changelog]), partitions=3)  # the shared ones exist already: kept

    admin = AdminClient({"bootstrap.servers": kafka})
    meta = admin.list_topics(timeout=10).topics
    assert all(len(meta[name].partitions) == 3 for name in (topics.events, topics.dlq, topics.scores, topics.alerts, changelog))
    dlq, log = (ConfigResource(ConfigResource.Type.TOPIC, name) for name in (topics.dlq, changelog))
    configs = {resource.name: future.result(10) for resource, future in admin.describe_configs([dlq, log]).items()}
    assert configs[topics.dlq]["max.message.bytes"].value == str(MAX_MESSAGE_BYTES)
    assert configs[changelog]["cleanup.policy"].value == "compact"


def _end_offsets(bootstrap: str, topic: str) -> int:
    from evalstream.config.settings import KafkaSettings
    from evalstream.kafka.progress import GroupProgress

    progress = GroupProgress(KafkaSettings(bootstrap=bootstrap), f"reader-{uuid.uuid4().hex[:8]}", topic)
    try:
        return progress.end_offsets()
    finally:
        progress.close()


def _events_file(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps(make_event(i)) + "\n" for i in range(n)))
    return path


def test_produce_publishes_to_the_events_topic_of_the_environment(kafka: str, tmp_path: Path) -> None:
    configured, flagged = f"test.{uuid.uuid4().hex[:8]}.events", f"test.{uuid.uuid4().hex[:8]}.flagged"
    events = _events_file(tmp_path / "events.jsonl", 5)
    env = {**os.environ, "EVALSTREAM_KAFKA_BOOTSTRAP": kafka, "EVALSTREAM_EVENTS_TOPIC": configured}

    out = subprocess.run([*EVALSTREAM, "produce", str(events)], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert _end_offsets(kafka, configured) == 5

    # a flag still beats the environment
    out = subprocess.run([*EVALSTREAM, "produce", str(events), "--topic", flagged], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert (_end_offsets(kafka, configured), _end_offsets(kafka, flagged)) == (5, 5)


def _demo(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    events = _events_file(tmp_path / "events.jsonl", 3)
    command = [*EVALSTREAM, "demo", "--bootstrap", UNREACHABLE_KAFKA, "--events", str(events), "--timeout", "20", *args]
    return subprocess.run(command, cwd=workdir, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=180)


def test_demo_never_deletes_the_configured_chdb_directory(tmp_path: Path) -> None:
    production = tmp_path / "production-chdb"
    production.mkdir()
    (production / "store.bin").write_text("rows someone needs")

    out = _demo(tmp_path, env={"EVALSTREAM_CLICKHOUSE": f"chdb://{production}"})

    assert out.returncode != 0  # no Kafka there
    assert (production / "store.bin").read_text() == "rows someone needs", out.stderr
    assert (tmp_path / "work" / ".data" / "demo-chdb").is_dir(), out.stderr  # the demo's own directory


def test_demo_refuses_to_wipe_a_directory_it_did_not_create(tmp_path: Path) -> None:
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    (chosen / "store.bin").write_text("rows someone needs")

    out = _demo(tmp_path, "--clickhouse", f"chdb://{chosen}")

    assert out.returncode == 2, out.stderr
    assert "not made by the demo" in " ".join(out.stderr.split())
    assert (chosen / "store.bin").read_text() == "rows someone needs"


def test_the_demo_store_is_marked_and_only_a_marked_one_is_wiped(tmp_path: Path) -> None:
    from evalstream.cli.demo import DemoStoreError, prepare_demo_store

    fresh = tmp_path / "fresh"
    prepare_demo_store(fresh)
    (fresh / "rows.bin").write_text("last run")
    prepare_demo_store(fresh)  # the demo's own: emptied for the new run
    assert not (fresh / "rows.bin").exists() and fresh.is_dir()

    empty = tmp_path / "empty"
    empty.mkdir()
    prepare_demo_store(empty)  # an empty directory holds nothing to lose: adopted

    foreign = tmp_path / "foreign"
    (foreign / "nested").mkdir(parents=True)
    (foreign / "nested" / "rows.bin").write_text("keep")
    with pytest.raises(DemoStoreError):
        prepare_demo_store(foreign)
    assert (foreign / "nested" / "rows.bin").read_text() == "keep"
