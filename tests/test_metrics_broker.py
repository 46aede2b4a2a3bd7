"""The scoring worker's /metrics against the real broker: counts by outcome and reason, batch histograms,
scorer time per scorer, embedding cache, commit lag."""

from __future__ import annotations

import json
import socket
import time

import httpx
from confluent_kafka import Producer
from prometheus_client.parser import text_string_to_metric_families

from conftest import Flow, make_event
from test_notifiers import Notify, Receiver, Topics, make_alert, notifier_config, publish, receivers, topics  # noqa: F401 (fixtures)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5.0).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def wait_for(port: int, condition, flow: Flow | None, timeout: float = 180.0, log=lambda: "") -> dict:
    deadline = time.monotonic() + timeout
    last: dict = {}
    while time.monotonic() < deadline:
        if flow is not None:
            assert flow.workers[-1].poll() is None, f"worker died:\n{flow.worker_log()[-3000:]}"
            log = flow.worker_log
        try:
            last = scrape(port)
        except httpx.TransportError:
            last = {}
        if last and condition(last):
            return last
        time.sleep(0.5)
    raise AssertionError(f"metrics never met the condition: {sorted(k for k in last if k[0].startswith('evalstream'))}\n{log()[-3000:]}")


def test_worker_metrics_count_what_became_of_each_event(flow: Flow) -> None:
    port = free_port()
    flow.start_worker(metrics_port=port)
    producer = Producer({"bootstrap.servers": flow.bootstrap})
    for i in range(5):
        producer.produce(flow.events_topic, json.dumps(make_event(i)).encode())
    producer.produce(flow.events_topic, b"{not json")
    producer.produce(flow.events_topic, json.dumps({"event_id": "x"}).encode())  # fails the schema
    assert producer.flush(30) == 0

    def done(m: dict) -> bool:
        return m.get(("evalstream_events_consumed_total", ()), 0) >= 7 and m.get(("evalstream_batches_total", ()), 0) >= 1 and (
            m.get(("evalstream_events_stored_total", ()), 0) + sum(v for (n, _), v in m.items() if n == "evalstream_events_dead_lettered_total")
        ) >= 7

    m = wait_for(port, done, flow)
    assert m[("evalstream_events_consumed_total", ())] == 7
    assert m[("evalstream_events_stored_total", ())] == 5
    assert m[("evalstream_events_dead_lettered_total", (("reason", "bad_json"),))] == 1
    assert m[("evalstream_events_dead_lettered_total", (("reason", "schema"),))] == 1
    assert m[("evalstream_batch_events_sum", ())] == 7
    for stage in ("scoring", "writing", "publishing"):
        assert m[("evalstream_batch_seconds_count", (("stage", stage),))] >= 1
    scorers = {dict(labels)["scorer"] for (name, labels) in m if name == "evalstream_scorer_seconds_count"}
    assert {"cost", "toxicity", "faithfulness", "relevance"} <= scorers
    embeddings = sum(v for (n, _), v in m.items() if n in ("evalstream_embedding_cache_hits_total", "evalstream_embedding_cache_misses_total"))
    assert embeddings > 0
    # Once committed, the lag of the events topic's partitions falls to 0.
    flow.wait_committed(7)
    lag = wait_for(
        port,
        lambda m: any(n == "evalstream_commit_lag" for n, _ in m)
        and all(v == 0 for (n, labels), v in m.items() if n == "evalstream_commit_lag" and dict(labels)["topic"] == flow.events_topic),
        flow,
        timeout=60.0,
    )
    assert {dict(labels)["topic"] for (n, labels) in lag if n == "evalstream_commit_lag"} >= {flow.events_topic}
    assert flow.stop_worker(flow.workers[-1]) == 0


def test_notify_metrics_count_deliveries_and_failures_per_channel(topics: Topics, receivers: dict[str, Receiver], tmp_path) -> None:
    receivers["hook"] = Receiver(fail_always=True)
    port = free_port()
    once = {"max_attempts": 2, "initial_backoff_s": 0.05, "max_backoff_s": 0.1}
    notify = Notify(topics.bootstrap, tmp_path, notifier_config(topics, [
        {"name": "audit-hook", "type": "webhook", "url": receivers["hook"].url, "secret_env": "NOTIFY_WEBHOOK_SECRET", "retry": once, "give_up_after_s": 0},
        {"name": "log", "type": "log"},
    ]), env={"EVALSTREAM_NOTIFY_METRICS_PORT": str(port)})
    alerts = [make_alert(minute=0), make_alert(tenant="globex", minute=1)]
    publish(topics.bootstrap, topics.alerts, [(a.fingerprint.encode(), a.model_dump_json().encode()) for a in alerts])
    try:
        proc = notify.start()
        m = wait_for(
            port, lambda m: m.get(("evalstream_notify_deliveries_total", (("channel", "log"),)), 0) >= 2
            and m.get(("evalstream_notify_failures_total", (("channel", "audit-hook"),)), 0) >= 2,
            None, timeout=90.0, log=notify.log,
        )
        assert m[("evalstream_notify_alerts_received_total", ())] == 2
        assert m[("evalstream_notify_dead_lettered_total", ())] == 2
        assert ("evalstream_notify_deliveries_total", (("channel", "audit-hook"),)) not in m
        assert notify.stop(proc) == 0
    finally:
        notify.close()
