"""The fault matrix on the real broker (issue 13): each run counts rows and distinct event ids at the end.

Scorers: cost only, so that a worker restarts in seconds; what is measured is delivery, not scoring.
"""

from __future__ import annotations

import json
import os
import random
import time

import pytest

from conftest import Flow
from reliability_support import now_event
from test_pipeline_end_to_end import produce

N = 2_000
FAST = {"scorers": json.dumps(["cost"]), "batch_max_events": 50}


def counts(flow: Flow) -> dict[str, int]:
    (row,) = flow.query(
        "SELECT count() AS n, uniqExact(event_id) AS ids, uniqExact(source_partition, source_offset) AS offsets FROM scored_events"
    )
    return row


@pytest.mark.slow
def test_a_worker_killed_at_ten_random_points_loses_and_duplicates_nothing(flow: Flow) -> None:
    produce(flow, [now_event(i) for i in range(N)])
    rng = random.Random(13)
    for point in sorted(rng.sample(range(100, N - 100), 10)):
        worker = flow.start_worker(**FAST)
        flow.wait_committed(point)
        worker.kill()
        assert worker.wait(timeout=10) == -9
    last = flow.start_worker(**FAST)
    flow.wait_committed(N)
    assert flow.stop_worker(last) == 0
    assert counts(flow) == {"n": N, "ids": N, "offsets": N}


def wait_for_assignment(flow: Flow, index: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while "Executing _on_partitions_assigned" not in flow.worker_log(index):
        assert flow.workers[index].poll() is None, flow.worker_log(index)[-3000:]
        assert time.monotonic() < deadline, flow.worker_log(index)[-3000:]
        time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("EVALSTREAM_TEST_CLICKHOUSE_SERVER"),
    reason="two workers need a ClickHouse server to share: embedded chdb admits one process per directory",
)
def test_a_second_worker_joining_and_leaving_mid_stream_duplicates_nothing(flow: Flow) -> None:
    flow.env["EVALSTREAM_CLICKHOUSE"] = os.environ["EVALSTREAM_TEST_CLICKHOUSE_SERVER"]  # an empty database of a server
    events = [now_event(i) for i in range(N)]
    produce(flow, events[: N // 4])
    first = flow.start_worker(**FAST)
    flow.wait_committed(N // 4)
    second = flow.start_worker(**FAST)  # a rebalance while the first worker holds batches
    produce(flow, events[N // 4 : N // 2])
    wait_for_assignment(flow, 1)
    flow.wait_committed(N // 2)
    produce(flow, events[N // 2 :])
    assert flow.stop_worker(second) == 0  # and back: a second rebalance mid-stream
    flow.wait_committed(N)
    assert flow.stop_worker(first) == 0
    assert counts(flow) == {"n": N, "ids": N, "offsets": N}
