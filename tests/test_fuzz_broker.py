"""500 generated hostile payloads through the real broker and a worker process: every one is stored
or dead-lettered, the worker stays alive, the commit reaches the end. The first batch holds a JSON
bomb among 18 valid events (the first version lost 13 of them)."""

from __future__ import annotations

import json

from confluent_kafka import Producer
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Flow
from reliability_support import encoded, now_event
from test_fuzz import payload

N_HOSTILE = 500


def hostile_payloads(n: int) -> list[bytes | None]:
    drawn: list[bytes | None] = []

    @settings(max_examples=n // 100, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(st.lists(payload, min_size=100, max_size=100))
    def draw(batch: list[bytes | None]) -> None:
        drawn.extend(batch)

    draw()
    return drawn[:n]


@pytest.mark.slow
def test_hostile_payloads_through_the_broker_are_stored_or_dead_lettered(flow: Flow) -> None:
    valid = [now_event(i) for i in range(18)]
    first_batch = [encoded(e) for e in valid[:7]] + [b"[" * 100_000 + b"]" * 100_000] + [encoded(e) for e in valid[7:]]
    payloads = first_batch + hostile_payloads(N_HOSTILE)
    producer = Producer({"bootstrap.servers": flow.bootstrap, "message.max.bytes": 16 * 1024 * 1024, "linger.ms": 20})
    for value in payloads:
        producer.produce(flow.events_topic, value=value, key=b"fuzz")  # one partition: one commit to follow
    assert producer.flush(60) == 0
    del producer  # no reconnect noise once the broker is stopped

    worker = flow.start_worker(scorers=json.dumps(["cost", "toxicity"]), batch_max_events=19)
    flow.wait_committed(len(payloads), timeout=300)
    assert worker.poll() is None, "the worker died"
    assert flow.stop_worker(worker) == 0

    (row,) = flow.query("SELECT count() AS n, uniqExact(event_id) AS ids FROM scored_events")
    # At least once: a batch in flight when partitions move (faust rebalances at start) sends its
    # dead letters again after the replay, so letters are counted by source offset.
    letters = flow.dead_letters(len(payloads) - row["n"] + 100, timeout=30)
    by_offset = {letter["source"]["offset"]: letter for letter in letters}
    stored_offsets = {r["o"] for r in flow.query("SELECT source_offset AS o FROM scored_events")}
    assert row["n"] == row["ids"] == len(stored_offsets)
    assert stored_offsets | by_offset.keys() == set(range(len(payloads))) and not stored_offsets & by_offset.keys()
    assert all(letter["reason"] and letter["error_kind"] for letter in letters)
    stored_ids = {r["id"] for r in flow.query("SELECT toString(event_id) AS id FROM scored_events")}
    assert {e["event_id"] for e in valid} <= stored_ids
    assert by_offset[7]["error_kind"] == "too_deep" and not by_offset.keys() & set(range(7)) | by_offset.keys() & set(range(8, 19))
    kinds: dict[str, int] = {}
    for letter in by_offset.values():
        kinds[letter["error_kind"]] = kinds.get(letter["error_kind"], 0) + 1
    print(f"\nbroker fuzz: {len(payloads)} payloads -> {row['n']} rows ({row['ids']} ids), {len(by_offset)} dead-lettered "
          f"({len(letters)} dead letters) {kinds}")
