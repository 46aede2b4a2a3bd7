"""The fault matrix (issue 13): storage unavailable for 60 s while a worker consumes.

No ClickHouse server runs here (Debian's 18.16 is too old for the migrations; chdb is embedded
only), so the storage cannot really sit behind a front. What runs: the real worker (faust, the
real broker, chdb) whose ClickHouse client, for 60 s, fails with the errors clickhouse-connect's
HTTP client really raises against a local front: 20 s with nothing listening (connection
refused), 40 s with a front answering 503 (see reliability_support.install_storage_outage).
Expected: nothing acked while storage is down, the worker alive, every event stored once after.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO, Flow
from reliability_support import machine_load, now_event, peak_rss_mib
from test_pipeline_end_to_end import produce
from test_reliability_broker import counts

N = 2_000
SETTINGS = {"scorers": json.dumps(["cost"]), "batch_max_events": 100}
# The write retries back off 0.5 s, 1 s, 2 s, 4 s, then every 5 s: both phases of the outage see several attempts.
REFUSED_SECONDS = 20.0
UNAVAILABLE_SECONDS = 40.0
SETTLE_SECONDS = 10.0


class Answers503(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's names
        body = b"Service Unavailable"
        self.send_response(503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *_: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def watch(flow: Flow, worker, seconds: float) -> None:
    """The outage's own length: the worker must live through it."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        assert worker.poll() is None, f"the worker died with storage down:\n{flow.worker_log()[-3000:]}"
        time.sleep(0.5)


@pytest.mark.slow
def test_storage_unavailable_for_60s_loses_and_duplicates_nothing(flow: Flow, tmp_path: Path) -> None:
    outage, port = tmp_path / "storage-outage", free_port()
    preload = f"import sys; sys.path.insert(0, {str(REPO / 'tests')!r})\nfrom reliability_support import install_storage_outage; install_storage_outage({str(outage)!r})"
    produce(flow, [now_event(i) for i in range(N)])
    worker = flow.start_worker(preload=preload, **SETTINGS)
    flow.wait_committed(N // 4)

    outage.write_text(str(port))  # nothing listens on the port: connection refused
    went_down = flow.committed()
    watch(flow, worker, SETTLE_SECONDS)  # a batch stored just before, and its commit, may still land
    settled = flow.committed()
    watch(flow, worker, REFUSED_SECONDS - SETTLE_SECONDS)
    front = http.server.ThreadingHTTPServer(("127.0.0.1", port), Answers503)
    threading.Thread(target=front.serve_forever, daemon=True).start()
    try:
        watch(flow, worker, UNAVAILABLE_SECONDS)
    finally:
        front.shutdown()
        front.server_close()
    assert flow.committed() == settled, "events were committed while storage was down"
    outage.unlink()  # storage serves again
    back_at = time.monotonic()
    flow.wait_committed(settled + 1)
    first_commit_after = time.monotonic() - back_at
    flow.wait_committed(N)
    all_stored_after = time.monotonic() - back_at
    rss = peak_rss_mib(worker.pid)
    assert flow.stop_worker(worker) == 0

    log = flow.worker_log()
    assert "failed (OperationalError" in log and "retrying" in log
    told = Path(f"{outage}.errors").read_text()
    assert "OperationalError" in told and "Connection refused" in told and "HTTP status 503" in told, told
    assert counts(flow) == {"n": N, "ids": N, "offsets": N}
    print(
        f"\nstorage down {REFUSED_SECONDS + UNAVAILABLE_SECONDS:.0f}s (refused, then 503): {went_down} of {N} committed before, "
        f"{settled - went_down} in its first {SETTLE_SECONDS:.0f}s (stored before), none after; first commit {first_commit_after:.1f}s after storage was back, all stored "
        f"{all_stored_after:.1f}s after; write retries logged {log.count('retrying in')}; worker peak RSS {rss:.0f} MiB; {machine_load()}"
    )
