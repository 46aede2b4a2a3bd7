"""A local stand-in for an OpenAI-compatible chat-completions API, for the LLM judge's tests.

It records what it receives and answers as told: a verdict (JSON), a 200 whose content is not
JSON, a retryable 503 for the next N requests, or no answer at all until released (a hung judge).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ChatServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_next = 0
        self.delay_s = 0.0
        self.mode = "verdict"  # verdict | not_json | hang
        self.content: str | None = None  # sent verbatim as the message content, when set
        self.verdict: dict[str, Any] = {"faithfulness": 0.2, "unsupported": ["Returns take 30 days."], "reason": "The context says 14 days."}
        self.released = threading.Event()  # a hung request answers once this is set
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                    failing = server.fail_next > 0
                    server.fail_next -= failing
                if server.mode == "hang":
                    server.released.wait(120)
                elif server.delay_s:
                    server.released.wait(server.delay_s)
                if failing:
                    self._send(503, b"")
                elif server.mode == "not_json":  # a 200 whose body is not JSON at all
                    self._send(200, b"<html>Service temporarily rerouted</html>")
                else:
                    content = server.content if server.content is not None else json.dumps(server.verdict)
                    self._send(200, json.dumps(server._completion(content)).encode())

            def _send(self, status: int, data: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (its timeout): nothing to answer
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @staticmethod
    def _completion(content: str) -> dict[str, Any]:
        message = {"role": "assistant", "content": content}
        return {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()
