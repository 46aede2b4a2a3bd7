"""OpenTelemetry in, end to end: instrumented openai calls -> OTLP bytes on a real broker -> a worker -> rows in chdb."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from conftest import Flow, make_event
from test_notifiers import create_topics, wait_until

from evalstream.config.settings import KafkaSettings
from evalstream.kafka.progress import GroupProgress
from evalstream.streams.otlp import EVENT_ID_NAMESPACE
from test_otlp_mapping import RESOURCE, _chat_spans

SERVICE = Path(__file__).with_name("otlp_service.py")
CONTENT_ON_SPANS = {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_only"}


def run_service(flow: Flow, topic: str, resource: dict[str, Any], out: Path | None = None) -> list[dict[str, Any]]:
    command = [sys.executable, str(SERVICE), "--calls", "3", "--bootstrap", flow.bootstrap, "--topic", topic, "--resource", json.dumps(resource)]
    run = subprocess.run([*command, *(["--out", str(out)] if out else [])], env={**os.environ, **CONTENT_ON_SPANS}, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def committed(flow: Flow, topic: str) -> int:
    progress = GroupProgress(KafkaSettings(bootstrap=flow.bootstrap), flow.group_id, topic)
    try:
        return progress.committed()
    finally:
        progress.close()


def test_instrumented_calls_land_as_rows_equal_to_what_the_spans_said(flow: Flow) -> None:
    topic = f"{flow.events_topic}.otlp_spans"
    create_topics(flow.bootstrap, topic, partitions=2)  # as the Collector would have; the workers leave it as it is
    spans_file = flow.workdir / "spans.bin"
    answers = run_service(flow, topic, RESOURCE, out=spans_file)
    producer = Producer({"bootstrap.servers": flow.bootstrap})
    producer.produce(topic, spans_file.read_bytes())  # a Collector's retry: the same spans again
    producer.produce(flow.events_topic, json.dumps(make_event(0)).encode(), key=b"acme/support-bot")  # and a plain event
    assert producer.flush(30) == 0
    run_service(flow, topic, {"service.name": "support-bot"})  # no tenant: 3 dead letters

    evaluations_topic = f"{flow.events_topic}.evaluations"
    worker = flow.start_worker(otlp_topic=topic, otlp_scores_topic=evaluations_topic, batch_max_events=8)
    wait_until(lambda: committed(flow, topic) >= 3 and flow.committed() >= 1 or worker.poll() is not None, 240, lambda: flow.worker_log()[-3000:])
    wait_until(lambda: "otlp: records=3 spans=18 events=6 ignored=9 unmapped=3" in flow.worker_log(), 30, lambda: flow.worker_log()[-3000:])
    assert flow.stop_worker(worker) == 0

    rows = flow.query(
        "SELECT toString(event_id) AS event_id, tenant, app, environment, region, use_case, provider, model, prompt, response,"
        " input_tokens, output_tokens, cached_input_tokens, finish_reason, latency_ms, metadata, relevance, toxicity, cost_usd"
        f" FROM scored_events WHERE source_topic = '{topic}' ORDER BY prompt"
    )
    assert len(rows) == 3, rows  # the retried record's spans are the same events: stored once
    spans = _chat_spans(spans_file.read_bytes())
    for row, answer in zip(rows, sorted(answers, key=lambda a: a["prompt"])):
        meta = json.loads(row["metadata"])
        attrs = spans[meta["span_id"]]
        assert row["event_id"] == str(uuid.uuid5(EVENT_ID_NAMESPACE, meta["trace_id"] + meta["span_id"]))
        assert (row["tenant"], row["app"], row["environment"], row["region"], row["use_case"]) == ("acme", "support-bot", "staging", "eu-west-1", "rag-qa")
        assert (row["provider"], row["model"]) == (attrs["gen_ai.provider.name"], attrs["gen_ai.response.model"])
        assert (int(row["input_tokens"]), int(row["output_tokens"])) == (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"])
        assert int(row["cached_input_tokens"]) == attrs.get("gen_ai.usage.cache_read.input_tokens", 0)
        assert (row["prompt"], row["response"], row["model"]) == (answer["prompt"], answer["response"], answer["model"])
        assert row["finish_reason"] == "stop" and row["latency_ms"] > 0
        assert row["relevance"] is not None and row["toxicity"] is not None and row["cost_usd"] is not None  # the same pipeline as events

    (plain,) = flow.query(f"SELECT count() AS n FROM scored_events WHERE source_topic = '{flow.events_topic}'")
    assert int(plain["n"]) == 1
    letters = flow.dead_letters(expected=3)
    assert len(letters) == 3 and {letter["error_kind"] for letter in letters} == {"otlp_unmapped"}
    assert all("tenant (from resource:evalstream.tenant" in letter["reason"] and letter["payload"]["resource"]["service.name"] == "support-bot" for letter in letters)

    # Scores back to tracing: evaluation events parented to each stored span (a replayed batch may repeat them).
    stored = {(json.loads(r["metadata"])["trace_id"], json.loads(r["metadata"])["span_id"]) for r in rows}
    assert evaluation_results(flow, evaluations_topic) == {(trace, span, name) for trace, span in stored for name in ("toxicity", "relevance")}


def evaluation_results(flow: Flow, topic: str) -> set[tuple[str, str, str]]:
    from confluent_kafka import Consumer
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    from evalstream.streams.otlp import attributes

    consumer = Consumer({"bootstrap.servers": flow.bootstrap, "group.id": f"{flow.group_id}-tracing", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    results: set[tuple[str, str, str]] = set()
    try:
        for _ in range(20):  # a few seconds: the worker delivered them before it committed
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            request = ExportLogsServiceRequest.FromString(msg.value())
            for record in (r for rl in request.resource_logs for sl in rl.scope_logs for r in sl.log_records):
                assert record.event_name == "gen_ai.evaluation.result"
                results.add((record.trace_id.hex(), record.span_id.hex(), attributes(record.attributes)["gen_ai.evaluation.name"]))
    finally:
        consumer.close()
    return results
