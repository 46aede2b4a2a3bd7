"""The fault matrix (issue 13): the broker stopped for 30 s and restarted while a worker consumes.

The broker is this test's own (conftest.Broker), stopped by its PID and started again on the same
port and log dir; events keep being produced during the outage (the thin producer queues them).
Expected: every event stored once, the same worker alive throughout, its memory bounded.
"""

from __future__ import annotations

import json
import time

import pytest

from conftest import Broker, Flow
from evalstream.producer import EventProducer
from reliability_support import machine_load, now_event, peak_rss_mib
from test_pipeline_end_to_end import produce
from test_reliability_broker import counts

N = 2_000
OUTAGE_SECONDS = 30.0
SETTINGS = {"scorers": json.dumps(["cost"]), "batch_max_events": 200}  # delivery is measured, not scoring


@pytest.mark.slow
def test_the_broker_stopped_for_30s_and_restarted_mid_stream_loses_and_duplicates_nothing(private_broker: Broker, tmp_path) -> None:
    flow = Flow(private_broker.bootstrap, tmp_path)
    try:
        events = [now_event(i) for i in range(N)]
        worker = flow.start_worker(**SETTINGS)  # starting while a fresh broker readies its coordinators
        produce(flow, events[: N // 2])
        flow.wait_committed(N // 4)

        committed_before = flow.committed()
        stopping_at = time.monotonic()
        private_broker.stop()
        stopped_at = time.monotonic()
        log_lines_before = len(flow.worker_log().splitlines())
        producer = EventProducer(flow.bootstrap, topic=flow.events_topic)
        for event in events[N // 2 :]:  # a service keeps sending: its producer queues them
            assert producer.send(event)
        while time.monotonic() - stopped_at < OUTAGE_SECONDS:  # the outage is the fault's own length
            assert worker.poll() is None, f"the worker died with the broker down:\n{flow.worker_log()[-3000:]}"
            time.sleep(0.5)

        outage_log = flow.worker_log().splitlines()[log_lines_before:]
        private_broker.resume()
        resumed_at = time.monotonic()
        down_for = resumed_at - stopping_at  # with the broker's own shutdown and start
        assert producer.flush(120) == 0 and producer.stats.delivered == N - N // 2, producer.stats
        flow.wait_committed(committed_before + 1)
        first_commit_after = time.monotonic() - resumed_at
        flow.wait_committed(N)
        all_stored_after = time.monotonic() - resumed_at
        rss = peak_rss_mib(worker.pid)
        assert worker.poll() is None, "the same worker finishes the stream"
        assert flow.stop_worker(worker) == 0
        assert counts(flow) == {"n": N, "ids": N, "offsets": N}
        # An operator reads the log of an outage: a client retrying in a tight loop once flooded it
        # (21,486 lines in 40 s). A few lines a second at most.
        assert len(outage_log) < 5 * OUTAGE_SECONDS, f"{len(outage_log)} log lines while the broker was down:\n" + "\n".join(outage_log[-40:])
        print(
            f"\nbroker restart: stopped {OUTAGE_SECONDS:.0f}s, unreachable {down_for:.0f}s in all, {committed_before} of {N} committed before; "
            f"first commit {first_commit_after:.1f}s after the broker accepted connections again, all {N} stored "
            f"{all_stored_after:.1f}s after; {len(outage_log)} log lines in the outage; worker peak RSS {rss:.0f} MiB; {machine_load()}"
        )
    finally:
        flow.close()

