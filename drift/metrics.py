"""Prometheus /metrics of the drift workers (off unless EVALSTREAM_DRIFT_METRICS_PORT is set):
the engine's counts, read at scrape time."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any, Iterator

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from evalstream.config.settings import MetricsSettings
from evalstream.drift.engine import EngineStats

log = logging.getLogger("evalstream.drift")


class DriftCollector(Collector):
    def __init__(self, stats: EngineStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Any]:
        counts = asdict(self.stats)
        yield CounterMetricFamily("evalstream_drift_evaluations", "windows evaluated by the detectors", value=counts.pop("evaluations"))
        alerts = CounterMetricFamily("evalstream_drift_alerts", "alerts published, by state", labels=["state"])
        alerts.add_metric(["firing"], counts.pop("fired"))
        alerts.add_metric(["resolved"], counts.pop("resolved"))
        yield alerts
        records = CounterMetricFamily("evalstream_drift_records", "score records read, by what became of them", labels=["outcome"])
        for outcome, count in counts.items():  # records (folded in), replayed, late, future, invalid
            records.add_metric([outcome], count)
        yield records


def serve_drift_metrics(stats: EngineStats, settings: MetricsSettings, port: int) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DriftCollector(stats))
    start_http_server(port, addr=settings.host, registry=registry)
    log.info("metrics on http://%s:%d/metrics", settings.host, port)
    return registry
