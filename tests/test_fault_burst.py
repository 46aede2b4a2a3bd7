"""The fault matrix (issue 13): a 10x burst after a steady trickle.

A worker keeps up with a trickle; then ten times as many events arrive at once. Expected: every
event stored once, the lag drains, and the worker's memory stays bounded: it holds a batch, not
the burst (faust's fetch buffer and the batch are bounded; the rest waits in Kafka).
"""

from __future__ import annotations

import json
import time

import pytest

from conftest import Flow
from evalstream.producer import EventProducer
from reliability_support import machine_load, now_event, peak_rss_mib
from test_reliability_broker import counts

TRICKLE = 2_000
BURST = 10 * TRICKLE
SETTINGS = {"scorers": json.dumps(["cost"]), "batch_max_events": 1000}  # DESIGN: inserts of thousands of rows
# What holding the whole burst would cost (20,000 events of ~1 KiB as Python objects is several
# hundred MiB); a worker holding a batch at a time grows by a fraction of it.
BURST_MEMORY_BOUND_MIB = 150


@pytest.mark.slow
def test_a_10x_burst_after_a_trickle_is_stored_once_with_bounded_memory(flow: Flow) -> None:
    worker = flow.start_worker(**SETTINGS)
    events = [now_event(i) for i in range(TRICKLE + BURST)]
    with EventProducer(flow.bootstrap, topic=flow.events_topic) as producer:
        for start in range(0, TRICKLE, 100):  # a steady trickle, about 100 events a second, while the worker keeps up
            for event in events[start : start + 100]:
                assert producer.send(event, wait_s=10)
            producer.flush(10)
            time.sleep(1.0)
        flow.wait_committed(TRICKLE)
        steady_rss = peak_rss_mib(worker.pid)

        burst_at = time.monotonic()
        for event in events[TRICKLE:]:
            assert producer.send(event, wait_s=10)
        assert producer.flush(60) == 0
    produced_in = time.monotonic() - burst_at
    flow.wait_committed(TRICKLE + BURST, timeout=240)
    drained_in = time.monotonic() - burst_at
    burst_rss = peak_rss_mib(worker.pid)
    assert producer.stats.delivered == TRICKLE + BURST, producer.stats
    assert flow.stop_worker(worker) == 0
    assert counts(flow) == {"n": TRICKLE + BURST, "ids": TRICKLE + BURST, "offsets": TRICKLE + BURST}
    print(
        f"\n10x burst: {BURST} events produced in {produced_in:.1f}s, lag drained in {drained_in:.1f}s "
        f"({BURST / drained_in:.0f} events/s); worker peak RSS {steady_rss:.0f} MiB after the trickle, "
        f"{burst_rss:.0f} MiB after the burst; {machine_load()}"
    )
    assert burst_rss - steady_rss < BURST_MEMORY_BOUND_MIB
