"""The walking skeleton against a real Kafka broker and real chdb: nothing lost, nothing doubled."""

from __future__ import annotations

import hashlib
import json
import time

from decimal import Decimal

from confluent_kafka import Producer

from conftest import Flow, make_event
from test_notifiers import wait_until
from evalstream.producer import EventProducer, GenAIEvent
from evalstream.scorers.cost import CostScorer

N = 2_000


def sum_cost(events: list[dict]) -> Decimal:
    scores = CostScorer().score([GenAIEvent.model_validate(e) for e in events])
    return sum((s["cost_usd"] for s in scores), Decimal(0))


def produce(flow: Flow, events: list[dict]) -> None:
    with EventProducer(flow.bootstrap, topic=flow.events_topic) as producer:
        for event in events:
            assert producer.send(event, wait_s=10)
    assert producer.stats.delivered == len(events), producer.stats


def test_every_produced_event_is_stored_exactly_once(flow: Flow) -> None:
    events = [make_event(i) for i in range(N)]
    produce(flow, events)
    worker = flow.start_worker()
    flow.wait_committed(N)
    assert flow.stop_worker(worker) == 0

    (row,) = flow.query("SELECT count() AS n, uniqExact(event_id) AS ids, countIf(cost_usd IS NULL) AS unpriced FROM scored_events")
    assert row == {"n": N, "ids": N, "unpriced": 0}
    stored_ids = {r["event_id"] for r in flow.query("SELECT toString(event_id) AS event_id FROM scored_events")}
    assert stored_ids == {e["event_id"] for e in events}
    (scores,) = flow.query(
        "SELECT countIf(faithfulness IS NULL) AS no_faithfulness, min(relevance) > 0 AS relevant, "
        "max(toxicity) < 0.5 AS polite, length(any(scorers)) AS scorers, sum(cost_usd) AS cost FROM scored_events"
    )
    assert Decimal(scores.pop("cost")) == sum_cost(events)  # exact: no float on the way
    assert scores == {"no_faithfulness": 0, "relevant": 1, "polite": 1, "scorers": 4}


def test_worker_killed_mid_stream_loses_and_duplicates_nothing(flow: Flow) -> None:
    produce(flow, [make_event(i) for i in range(N)])
    # Small batches and a slow commit cadence: when the kill lands, some stored rows are uncommitted.
    first = flow.start_worker(batch_max_events=40)
    flow.wait_committed(400)
    first.kill()
    assert first.wait(timeout=10) == -9

    second = flow.start_worker(batch_max_events=40)
    flow.wait_committed(N)
    assert flow.stop_worker(second) == 0

    (row,) = flow.query("SELECT count() AS n, uniqExact(event_id) AS ids, uniqExact(source_partition, source_offset) AS offsets FROM scored_events")
    assert row == {"n": N, "ids": N, "offsets": N}


def test_malformed_events_go_to_the_dead_letter_topic_and_the_rest_is_stored(flow: Flow) -> None:
    good = [make_event(i) for i in range(300)]
    missing_fields = make_event(1000)
    del missing_fields["tenant"], missing_fields["response"]
    bad = {
        "bad_json": b'{"event_id": "abc", "tenant": ',
        "schema_missing": json.dumps(missing_fields).encode(),
        "schema_types": json.dumps(make_event(1001, latency_ms="fast", usage="lots")).encode(),
        "not_an_object": b'["an", "array"]',
        "oversized": json.dumps(make_event(1002, response="x" * (5 * 1024 * 1024))).encode(),
    }
    # A misbehaving service that skips the thin producer's validation.
    raw = Producer({"bootstrap.servers": flow.bootstrap, "message.max.bytes": 10 * 1024 * 1024})
    for i, event in enumerate(good):
        raw.produce(flow.events_topic, json.dumps(event).encode(), key=b"acme/support-bot")
        if i % 60 == 30:
            kind = list(bad)[i // 60]
            raw.produce(flow.events_topic, bad[kind], key=b"acme/support-bot")
    assert raw.flush(30) == 0

    worker = flow.start_worker(batch_max_events=64)
    flow.wait_committed(len(good) + len(bad))
    assert flow.stop_worker(worker) == 0

    (row,) = flow.query("SELECT count() AS n, uniqExact(event_id) AS ids FROM scored_events")
    assert row == {"n": len(good), "ids": len(good)}
    letters = flow.dead_letters(expected=len(bad))
    assert len(letters) == len(bad)
    by_kind = {letter["error_kind"]: letter for letter in letters}
    assert set(by_kind) == {"bad_json", "schema", "not_an_object", "oversized"}
    schema_reasons = " | ".join(l["reason"] for l in letters if l["error_kind"] == "schema")
    for field in ("tenant", "response", "latency_ms", "usage"):
        assert field in schema_reasons
    assert "over the limit" in by_kind["oversized"]["reason"]
    # The dead letter carries the event decoded and redacted (nothing to redact here), and the original's hash.
    assert by_kind["oversized"]["payload_bytes"] == len(bad["oversized"])
    # 5 MiB of text is cut to what a dead letter keeps before it is redacted, and says so
    original, kept = json.loads(bad["oversized"]), by_kind["oversized"]["payload"]
    assert by_kind["oversized"]["payload_truncated"] is True and by_kind["oversized"]["payload_kept_chars"] <= 256 * 1024
    assert {k: v for k, v in kept.items() if k != "response"} == {k: v for k, v in original.items() if k != "response"}
    assert 0 < len(kept["response"]) < len(original["response"]) and original["response"].startswith(kept["response"])
    assert by_kind["oversized"]["payload_sha256"] == hashlib.sha256(bad["oversized"]).hexdigest()
    assert by_kind["bad_json"]["payload"].encode() == bad["bad_json"]


def test_produce_returns_at_once_and_the_queue_stays_bounded_while_the_broker_is_down() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    producer = EventProducer(f"127.0.0.1:{port}", max_queued_events=1_000, delivery_timeout_ms=2_000)
    events = [make_event(i) for i in range(5_000)]
    durations = []
    for event in events:
        start = time.perf_counter()
        producer.send(event)
        durations.append(time.perf_counter() - start)
    durations.sort()
    # Validation plus an enqueue: well under a millisecond; a blocking call would take seconds.
    assert durations[len(durations) // 2] < 0.001, durations[len(durations) // 2]
    assert durations[-1] < 0.05, durations[-1]
    assert producer.queued() <= 1_000
    assert producer.stats.enqueued == 1_000
    assert producer.stats.dropped_queue_full == 4_000
    # Past the delivery timeout the queued events are reported failed, not lost silently.
    producer.flush(5.0)
    assert producer.stats.failed == 1_000
    assert producer.stats.dropped == 5_000


def test_sigterm_stores_and_commits_the_batch_in_hand_then_exits(flow: Flow) -> None:
    produce(flow, [make_event(i) for i in range(50)])
    # A batch that would not be cut for minutes: only the shutdown path can store it.
    worker = flow.start_worker(batch_max_events=10_000, batch_max_seconds=600)
    # Until the 50 events are in the batch in hand: the worker's progress line (every 10 s) counts them.
    wait_until(lambda: "consumed=50 " in flow.worker_log() or worker.poll() is not None, 120, lambda: flow.worker_log()[-2000:])
    assert worker.poll() is None, flow.worker_log()[-2000:]
    assert flow.committed() == 0
    started = time.monotonic()
    assert flow.stop_worker(worker, timeout=30) == 0
    assert time.monotonic() - started < 30
    assert flow.committed() == 50
    (row,) = flow.query("SELECT count() AS n FROM scored_events")
    assert row == {"n": 50}


def test_the_sink_stores_an_offset_and_an_event_id_once_however_often_they_arrive(tmp_path) -> None:
    import subprocess
    import sys

    # In a subprocess: chdb allows one data directory per process.
    code = f"""
import json, uuid
from datetime import datetime, timezone
from evalstream.sinks import ClickHouseSink
sink = ClickHouseSink("chdb://{tmp_path}/chdb")
def row(offset, event_id):
    return {{"event_id": event_id, "ts": datetime(2026, 11, 20, tzinfo=timezone.utc), "tenant": "acme", "app": "a", "environment": "prod",
            "region": "eu", "use_case": "rag-qa", "provider": "openai", "model": "gpt-4o-mini", "prompt": "p", "response": "r",
            "context": [], "has_context": False, "metadata": "{{}}", "source_topic": "t", "source_partition": 0, "source_offset": offset}}
ids = [uuid.uuid4() for _ in range(6)]
first = sink.write([row(i, ids[i]) for i in range(4)] + [row(2, ids[2])])      # offset 2 delivered twice
replay = sink.write([row(i, ids[i]) for i in range(2, 6)])                     # a restarted worker replays 2..5
resent = sink.write([row(6, ids[0]), row(7, ids[1]), row(8, uuid.uuid4())])  # a service sent two events again
print(json.dumps([first, replay, resent, sink.query("SELECT count(), uniqExact(event_id) FROM scored_events")[1][0]]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [4, 2, 1, [7, 7]]
