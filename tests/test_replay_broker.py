"""`evalstream replay` from Kafka on the real broker, after the workers stored the originals: it says
it reads Kafka, a SIGTERM stops it after the batch in hand, the same replay id continues where it
stopped (its own consumer group's offsets) with no duplicate and no gap, the changed threshold
moves exactly the flags it should, and scored_events is left as it was."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import EVALSTREAM, Flow
from evalstream.config.settings import KafkaSettings
from evalstream.kafka.progress import GroupProgress
from evalstream.producer import EventProducer
from evalstream.streams.replay_sources import choose_source
from test_replay import SCORERS, events, expected_moves, new_threshold, policy_file

N = 40


def replay_committed(flow: Flow, replay_id: str) -> int:
    progress = GroupProgress(KafkaSettings(bootstrap=flow.bootstrap), f"{flow.group_id}-replay-{replay_id}", flow.events_topic)
    try:
        return progress.committed()
    finally:
        progress.close()


def originals_fingerprint(flow: Flow) -> dict:
    return flow.query("SELECT count() AS n, toString(sum(cityHash64(toString(tuple(*))))) AS digest FROM scored_events")[0]


@pytest.mark.slow  # the workers start, then two replay processes load the models
def test_a_replay_from_kafka_stops_on_sigterm_and_resumes_without_duplicates_or_gaps(flow: Flow) -> None:
    flow.env.update(EVALSTREAM_SCORERS=json.dumps(SCORERS), EVALSTREAM_REDACT_PII="false")
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    sent = events(N, start)
    producer = EventProducer(flow.bootstrap, topic=flow.events_topic)
    for event in sent:
        assert producer.send(event)
    assert producer.flush(30) == 0
    producer.close()
    worker = flow.start_worker()
    flow.wait_committed(N)
    assert flow.stop_worker(worker) == 0

    originals = flow.query("SELECT toString(event_id) AS event_id, use_case, faithfulness, unfaithful FROM scored_events")
    assert len(originals) == N
    # at or above the model's default threshold: the lowest faithfulness the workers left unflagged
    default = min(r["faithfulness"] for r in originals if not r["unfaithful"])
    threshold = new_threshold(originals, default)
    should_move = expected_moves(originals, threshold)
    assert should_move
    before = originals_fingerprint(flow)

    policy = policy_file(flow.workdir / "policy.yaml", threshold)
    command = [*EVALSTREAM, "replay", "--from", start.isoformat(), "--to", (start + timedelta(minutes=2)).isoformat(),
               "--replay-id", "from-kafka", "--policy", str(policy), "--batch-size", "4", "--max-rate", "4"]
    log = open(flow.workdir / "replay-1.log", "w")
    first = subprocess.Popen(command, env=flow.env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while replay_committed(flow, "from-kafka") < 8:
        assert first.poll() is None, (flow.workdir / "replay-1.log").read_text()
        assert time.monotonic() < deadline, (flow.workdir / "replay-1.log").read_text()
        time.sleep(0.2)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 130, (flow.workdir / "replay-1.log").read_text()
    said = (flow.workdir / "replay-1.log").read_text()
    assert "from Kafka (consumer group" in said and "Kafka retains" in said and "replay from-kafka stopped" in said and "--replay-id from-kafka" in said, said
    stopped_at = replay_committed(flow, "from-kafka")
    assert 8 <= stopped_at < N, said  # stopped before the end

    second = subprocess.run([*command[:-2], "--max-rate", "1000", "--compare"], env=flow.env, capture_output=True, text=True, timeout=180)
    assert second.returncode == 0, second.stderr
    assert "replay from-kafka resumed" in second.stderr and f"({N} in all)" in second.stderr, second.stderr
    assert "original -> replay" in second.stdout and "+0/-0" in second.stdout, second.stdout

    rows = flow.query(
        "SELECT toString(event_id) AS event_id, faithfulness, unfaithful, source_topic FROM replayed_scores WHERE replay_id = 'from-kafka'"
    )
    assert len(rows) == N and {r["event_id"] for r in rows} == {e["event_id"] for e in sent}  # no duplicate, no gap
    assert {r["source_topic"] for r in rows} == {flow.events_topic}
    original = {r["event_id"]: r for r in originals}
    moved = {r["event_id"] for r in rows if bool(r["unfaithful"]) != bool(original[r["event_id"]]["unfaithful"])}
    assert moved == should_move
    assert originals_fingerprint(flow) == before
    assert replay_committed(flow, "from-kafka") == N
    assert flow.committed() == N  # the live workers' group: untouched

    # once Kafka has deleted the start of the range (retention), a new replay of it reads the stored rows
    kafka = KafkaSettings(bootstrap=flow.bootstrap)
    assert choose_source(kafka, [flow.events_topic], start, 300.0).source == "kafka"
    forget_the_oldest_records(flow)
    choice = choose_source(kafka, [flow.events_topic], start, 300.0)
    assert choice.source == "stored" and "no longer retains" in choice.why, choice


def forget_the_oldest_records(flow: Flow) -> None:
    """What retention does, now: each partition's log starts after its first record."""
    from confluent_kafka import Consumer, TopicPartition
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": flow.bootstrap})
    reader = Consumer({"bootstrap.servers": flow.bootstrap, "group.id": f"{flow.group_id}-watermarks"})
    partitions = admin.list_topics(flow.events_topic, timeout=10).topics[flow.events_topic].partitions
    holding = [TopicPartition(flow.events_topic, p, 1) for p in partitions if reader.get_watermark_offsets(TopicPartition(flow.events_topic, p), timeout=10)[1] > 0]
    reader.close()
    assert holding
    futures = admin.delete_records(holding)
    for future in futures.values():
        future.result(30)
