"""Prometheus /metrics of the notifiers (off unless EVALSTREAM_NOTIFY_METRICS_PORT is set):
the notifier's counts, read at scrape time."""

from __future__ import annotations

import logging
from typing import Any, Iterator

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from evalstream.config.settings import MetricsSettings
from evalstream.notifiers.service import NotifyStats

log = logging.getLogger("evalstream.notify")


class NotifyCollector(Collector):
    def __init__(self, stats: NotifyStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Any]:
        s = self.stats
        for name, value, doc in (
            ("evalstream_notify_alerts_received", s.received, "alerts read from Kafka"),
            ("evalstream_notify_alerts_duplicate", s.duplicates, "alerts already delivered, skipped"),
            ("evalstream_notify_alerts_invalid", s.invalid, "unreadable alerts, dead-lettered"),
            ("evalstream_notify_dead_lettered", s.dead_lettered, "alerts sent to the alerts DLQ"),
        ):
            yield CounterMetricFamily(name, doc, value=value)
        for name, by_channel, doc in (
            ("evalstream_notify_deliveries", s.delivered_by_channel, "alerts delivered, by channel"),
            ("evalstream_notify_failures", s.failed_by_channel, "alerts a channel gave up on (dead-lettered), by channel"),
            ("evalstream_notify_retried", s.retried_by_channel, "alerts whose delivery failed for now and waits for the channel, by channel"),
            ("evalstream_notify_fallbacks", s.fallback_by_channel, "alerts handed to the fallback channel, by the channel that gave up"),
        ):
            family = CounterMetricFamily(name, doc, labels=["channel"])
            for channel, count in sorted(by_channel.items()):
                family.add_metric([channel], count)
            yield family


def serve_notify_metrics(stats: NotifyStats, settings: MetricsSettings, port: int) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NotifyCollector(stats))
    start_http_server(port, addr=settings.host, registry=registry)
    log.info("metrics on http://%s:%d/metrics", settings.host, port)
    return registry
