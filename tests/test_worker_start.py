"""A /metrics scrape that arrives while the worker is still starting must not break its start.

faust's `app.consumer` creates the consumer on first use. The metrics endpoint starts before the
worker's event loop does; a scrape that read `app.consumer` then created the consumer in the
HTTP server's thread, bound to that thread's event loop, and the worker died at start with
faust's ConsumerNotStarted (a CI run lost a worker to it). Here the worker's start is held back
3 s, with the endpoint up and scraped all along."""

from __future__ import annotations

import json
import time

import httpx
from confluent_kafka import Producer

from conftest import Flow, make_event
from test_metrics_broker import free_port, scrape, wait_for

LATE_START = """
import time
import faust
_execute = faust.Worker.execute_from_commandline
def _late(self, *args, **kwargs):
    time.sleep(3.0)
    return _execute(self, *args, **kwargs)
faust.Worker.execute_from_commandline = _late
"""


def test_a_scrape_before_the_worker_started_does_not_break_its_start(flow: Flow) -> None:
    producer = Producer({"bootstrap.servers": flow.bootstrap})
    for i in range(3):
        producer.produce(flow.events_topic, json.dumps(make_event(i)).encode())
    assert producer.flush(30) == 0

    port = free_port()
    worker = flow.start_worker(preload=LATE_START, metrics_port=port)
    scraped_while_starting = 0
    deadline = time.monotonic() + 180
    while "Starting..." not in flow.worker_log():
        assert worker.poll() is None and time.monotonic() < deadline, flow.worker_log()[-3000:]
        try:
            scrape(port)
            scraped_while_starting += 1
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    assert scraped_while_starting > 0, "no scrape reached the worker before it started"

    m = wait_for(port, lambda m: m.get(("evalstream_events_stored_total", ()), 0) >= 3, flow)
    assert m[("evalstream_events_consumed_total", ())] == 3
    flow.wait_committed(3)
    assert flow.stop_worker(worker) == 0
    assert "ConsumerNotStarted" not in flow.worker_log()
