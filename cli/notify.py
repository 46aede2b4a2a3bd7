"""`evalstream notify`: deliver drift alerts from Kafka to Slack, PagerDuty, webhooks and the log."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Optional

import typer

from evalstream.cli.common import Bootstrap, LogLevel, load_settings, require_kafka


def notify(
    bootstrap: Optional[str] = Bootstrap,
    config: Optional[Path] = typer.Option(None, "--config", exists=True, dir_okay=False, help="notifiers YAML (default: the log only)"),
    group_id: Optional[str] = typer.Option(None, help="consumer group (default: the config's, else evalstream-notifiers)"),
    loglevel: str = LogLevel,
) -> None:
    """Deliver alerts from genai.alerts to the configured channels until SIGTERM (an alert is committed once delivered or dead-lettered)."""
    from confluent_kafka import Consumer, Producer

    from evalstream.contracts import alerts_dlq_topic
    from evalstream.kafka.topics import ensure_topics, notifier_topics
    from evalstream.notifiers.config import ConfigError, load_config
    from evalstream.notifiers.service import DeadLetters, Notifier, build_channel

    logging.getLogger().setLevel(loglevel.upper())
    for name in ("evalstream.notify", "evalstream.alerts"):
        logging.getLogger(name).setLevel(loglevel.upper())
    try:
        notifiers = load_config(config)
        channels = [build_channel(c) for c in notifiers.channels]
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2)
    settings = load_settings(bootstrap=bootstrap)
    kafka = settings.kafka
    require_kafka(kafka)
    topic = notifiers.alerts_topic or settings.topics.alerts
    dlq_topic = notifiers.dlq_topic or alerts_dlq_topic(topic)
    ensure_topics(kafka, notifier_topics(topic, dlq_topic), settings.topics.partitions)
    consumer = Consumer(
        {
            **kafka.librdkafka(),
            "group.id": group_id or notifiers.group_id or "evalstream-notifiers",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            # Deliveries run off the poll loop; a rebalance waits for those in flight, within this.
            "max.poll.interval.ms": int(notifiers.max_poll_interval_s * 1000),
            "session.timeout.ms": 10_000,  # a dead notifier's alerts move to another one within seconds
        }
    )
    producer = Producer({**kafka.librdkafka(), "enable.idempotence": True, "log_level": 3})
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    names = ", ".join(f"{c.name} ({c.config.type}{f', falls back to {c.config.fallback}' if c.config.fallback else ''})" for c in channels)
    logging.getLogger("evalstream.notify").info("notify: %s -> %s; dead letters to %s", topic, names, dlq_topic)
    notifier = Notifier(consumer, DeadLetters(producer, dlq_topic), channels, topic, revoke_wait_s=notifiers.revoke_wait_s)
    if settings.metrics.notify_port:  # off unless EVALSTREAM_NOTIFY_METRICS_PORT is set
        from evalstream.notifiers.metrics import serve_notify_metrics

        serve_notify_metrics(notifier.stats, settings.metrics, settings.metrics.notify_port)
    notifier.run(stop)
    sys.exit(0)
