"""A service that traces its LLM calls with OpenTelemetry, run as its own process by tests/test_otlp*.py.

The openai client calls a local OpenAI-compatible server (started here) under the OpenTelemetry
OpenAI instrumentation; the SDK collects the spans and its own OTLP encoder (encode_spans) turns
them into the bytes the Collector's Kafka exporter writes: one ExportTraceServiceRequest per record,
to a file (--out) or onto a Kafka topic (--bootstrap, --topic). Every request is wrapped in a
parent span that is not GenAI (the workers must count it and store nothing).

Prints one JSON line per call: what the server answered (the test's expectations).
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWERS = ["Paris is the capital of France.", "Items can be returned within 14 days.", "Water boils at 100 degrees Celsius."]


class ChatCompletions(BaseHTTPRequestHandler):
    """POST /v1/chat/completions: a fixed answer per call, with usage (cached tokens included)."""

    calls = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        n = ChatCompletions.calls
        ChatCompletions.calls += 1
        prompt_tokens = 20 + 3 * n
        reply = {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": 1_780_000_000,
            "model": body["model"] + "-2024-07-18",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": ANSWERS[n % len(ANSWERS)]}}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": 7 + n,
                "total_tokens": prompt_tokens + 7 + n,
                "prompt_tokens_details": {"cached_tokens": 8},
            },
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--resource", default="{}", help="resource attributes, JSON")
    parser.add_argument("--out", help="write the encoded ExportTraceServiceRequest here")
    parser.add_argument("--bootstrap")
    parser.add_argument("--topic", default="otlp_spans")
    args = parser.parse_args()

    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    server = ThreadingHTTPServer(("127.0.0.1", 0), ChatCompletions)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    spans = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create(json.loads(args.resource)))
    provider.add_span_processor(SimpleSpanProcessor(spans))
    OpenAIInstrumentor().instrument(tracer_provider=provider)

    import openai

    client = openai.OpenAI(base_url=f"http://127.0.0.1:{server.server_port}/v1", api_key="test-key", max_retries=0)
    tracer = provider.get_tracer("support-bot")
    for i in range(args.calls):
        question = f"Question {i}: what should I know?"
        with tracer.start_as_current_span("POST /ask"):
            reply = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": question}]
            )
        print(json.dumps({"prompt": question, "response": reply.choices[0].message.content, "model": reply.model}), flush=True)
    server.shutdown()

    payload = encode_spans(spans.get_finished_spans()).SerializeToString()
    if args.out:
        with open(args.out, "wb") as out:
            out.write(payload)
    if args.bootstrap:
        from confluent_kafka import Producer

        producer = Producer({"bootstrap.servers": args.bootstrap})
        producer.produce(args.topic, payload)
        assert producer.flush(30) == 0, "the spans were not delivered"


if __name__ == "__main__":
    main()
