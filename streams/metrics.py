"""Prometheus /metrics of the scoring workers (off unless EVALSTREAM_METRICS_PORT is set).

Counters are read from the writer's WorkerStats at scrape time, so the hot path counts once;
histograms are observed per batch (BatchWriter.on_batch) and per scorer call (ScorerSet.on_timing).
"""

from __future__ import annotations

import logging
from typing import Any, Iterable, Iterator

from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from evalstream.config.settings import MetricsSettings
from evalstream.streams.batching import BatchWriter

log = logging.getLogger("evalstream.worker")

BATCH_SIZES = (1, 4, 16, 32, 64, 128, 256, 512, 1024, 4096)
SECONDS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class WorkerCollector(Collector):
    """The writer's counts, the embedding caches' hits and misses, and the commit lag per partition."""

    def __init__(self, writer: BatchWriter, app: Any | None = None) -> None:
        self.writer = writer
        self.app = app
        self.embedders = list(_embedders(writer.pipeline.scorers))

    def collect(self) -> Iterator[Any]:
        s = self.writer.stats
        for name, value, doc in (
            ("evalstream_events_consumed", s.consumed, "events read from Kafka"),
            ("evalstream_events_stored", s.stored, "rows stored in ClickHouse"),
            ("evalstream_events_replayed", s.replayed, "events already stored by an earlier run, skipped"),
            ("evalstream_batches", s.batches, "batches stored and acked"),
            ("evalstream_write_retries", s.write_retries, "failed storage writes, retried"),
        ):
            yield CounterMetricFamily(name, doc, value=value)
        dead = CounterMetricFamily("evalstream_events_dead_lettered", "events sent to the DLQ, by reason", labels=["reason"])
        for reason, count in sorted(s.dead_letter_reasons.items()):
            dead.add_metric([reason], count)
        yield dead
        hits = CounterMetricFamily("evalstream_embedding_cache_hits", "texts whose embedding was cached", labels=["model"])
        misses = CounterMetricFamily("evalstream_embedding_cache_misses", "texts embedded anew", labels=["model"])
        for embedder in self.embedders:
            hits.add_metric([embedder.name], embedder.hits)
            misses.add_metric([embedder.name], embedder.misses)
        yield hits
        yield misses
        yield self._commit_lag()

    def _commit_lag(self) -> GaugeMetricFamily:
        lag = GaugeMetricFamily(
            "evalstream_commit_lag", "messages between the log end and the committed offset", labels=["topic", "partition"]
        )
        # Not `app.consumer`: that creates the consumer on first use, and a scrape before the worker's
        # start would create it in this thread, bound to the wrong event loop (the worker then died at start).
        consumer = getattr(self.app, "_consumer", None) if self.app is not None else None
        if consumer is None:
            return lag
        try:  # read from the scrape thread: a rebalance may change the assignment meanwhile
            for tp in sorted(consumer.assignment()):
                committed = consumer._committed_offset.get(tp)  # faust keeps no public accessor
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    lag.add_metric([tp.topic, str(tp.partition)], max(0, highwater - (committed or 0)))
        except Exception as exc:  # no consumer yet, or mid-rebalance: no lag this scrape
            log.debug("commit lag unavailable: %s", type(exc).__name__)
        return lag


class WorkerMetrics:
    """The scoring worker's metrics in a registry of their own, served on one port."""

    def __init__(self, writer: BatchWriter, app: Any | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(WorkerCollector(writer, app))
        self.batch_events = Histogram("evalstream_batch_events", "events per batch", buckets=BATCH_SIZES, registry=self.registry)
        self.batch_seconds = Histogram(
            "evalstream_batch_seconds", "a batch's time by stage", ["stage"], buckets=SECONDS, registry=self.registry
        )
        self.scorer_seconds = Histogram(
            "evalstream_scorer_seconds", "one scorer's time on one batch", ["scorer"], buckets=SECONDS, registry=self.registry
        )
        writer.on_batch = self.observe_batch
        writer.pipeline.scorers.on_timing = self.observe_scorer

    def observe_batch(self, events: int, scoring: float, writing: float, publishing: float) -> None:
        self.batch_events.observe(events)
        for stage, seconds in (("scoring", scoring), ("writing", writing), ("publishing", publishing)):
            self.batch_seconds.labels(stage).observe(seconds)

    def observe_scorer(self, scorer: str, seconds: float) -> None:
        self.scorer_seconds.labels(scorer).observe(seconds)

    def serve(self, settings: MetricsSettings, port: int) -> None:
        start_http_server(port, addr=settings.host, registry=self.registry)
        log.info("metrics on http://%s:%d/metrics", settings.host, port)


def _embedders(scorer_set: Any) -> Iterable[Any]:
    """The distinct embedders the scorers hold (the scorers share one)."""
    seen: dict[int, Any] = {}
    for scorer in [*scorer_set.scorers, *scorer_set.reviewers]:
        for holder in (scorer, getattr(scorer, "support_model", None)):
            embedder = getattr(holder, "embedder", None)
            if embedder is not None and hasattr(embedder, "hits"):
                seen.setdefault(id(embedder), embedder)
    return seen.values()
