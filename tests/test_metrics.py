"""The metrics, in process: off by default, the drift engine's counts served on their port,
and the scorer set timing each scorer for the workers to export."""

from __future__ import annotations

import socket

import httpx
from prometheus_client.parser import text_string_to_metric_families

from evalstream.config.settings import Settings
from evalstream.drift.engine import EngineStats
from evalstream.drift.metrics import serve_drift_metrics
from evalstream.notifiers.metrics import serve_notify_metrics
from evalstream.notifiers.service import NotifyStats
from evalstream.scorers.base import ScorerSet


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5.0).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(text) for s in f.samples}


def test_metrics_are_off_unless_a_port_is_set_and_bind_to_localhost(monkeypatch) -> None:
    for name in ("EVALSTREAM_METRICS_PORT", "EVALSTREAM_DRIFT_METRICS_PORT", "EVALSTREAM_NOTIFY_METRICS_PORT", "EVALSTREAM_METRICS_HOST"):
        monkeypatch.delenv(name, raising=False)
    metrics = Settings().metrics
    assert (metrics.worker_port, metrics.drift_port, metrics.notify_port, metrics.host) == (None, None, None, "127.0.0.1")
    monkeypatch.setenv("EVALSTREAM_DRIFT_METRICS_PORT", "9401")
    monkeypatch.setenv("EVALSTREAM_METRICS_HOST", "0.0.0.0")
    assert Settings().metrics.drift_port == 9401 and Settings().metrics.host == "0.0.0.0"


def test_the_drift_workers_counts_are_read_at_each_scrape() -> None:
    stats = EngineStats()
    port = free_port()
    serve_drift_metrics(stats, Settings().metrics, port)
    assert scrape(port)[("evalstream_drift_evaluations_total", ())] == 0
    stats.records, stats.invalid, stats.evaluations, stats.fired, stats.resolved = 40, 2, 12, 3, 1
    m = scrape(port)
    assert m[("evalstream_drift_evaluations_total", ())] == 12
    assert m[("evalstream_drift_alerts_total", (("state", "firing"),))] == 3
    assert m[("evalstream_drift_alerts_total", (("state", "resolved"),))] == 1
    assert m[("evalstream_drift_records_total", (("outcome", "invalid"),))] == 2
    assert m[("evalstream_drift_records_total", (("outcome", "records"),))] == 40


def test_the_notifiers_counts_per_channel() -> None:
    stats = NotifyStats()
    port = free_port()
    serve_notify_metrics(stats, Settings().metrics, port)
    stats.delivered_by_channel["slack"] += 3
    stats.failed_by_channel["pager"] += 1
    m = scrape(port)
    assert m[("evalstream_notify_deliveries_total", (("channel", "slack"),))] == 3
    assert m[("evalstream_notify_failures_total", (("channel", "pager"),))] == 1


class Slow:
    name, version, fields = "slow", "1", ("slow_score",)

    def score(self, events):
        import time

        time.sleep(0.05)
        return [{"slow_score": 1.0} for _ in events]


def test_the_scorer_set_reports_each_scorers_time() -> None:
    scorers = ScorerSet([Slow()])
    timings: list[tuple[str, float]] = []
    scorers.on_timing = lambda name, seconds: timings.append((name, seconds))
    try:
        assert scorers.score([object(), object()]) == [{"scorers": {"slow": "1"}, "slow_score": 1.0}] * 2
    finally:
        scorers.close()
    ((name, seconds),) = timings
    assert name == "slow" and seconds >= 0.05
