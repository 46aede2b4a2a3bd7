"""The faust app both kinds of worker (scoring, drift) are built on, and its Kafka credentials."""

from __future__ import annotations

from typing import Any

import faust

from evalstream.config.settings import KafkaSettings, Settings
from evalstream.kafka.topics import MAX_MESSAGE_BYTES


def faust_credentials(kafka: KafkaSettings) -> Any:
    if not kafka.sasl_mechanism:
        return None
    ssl_context = None
    if kafka.security_protocol.endswith("SSL"):
        import ssl

        ssl_context = ssl.create_default_context(cafile=kafka.ssl_cafile)
    return faust.SASLCredentials(
        username=kafka.sasl_username or "",
        password=kafka.sasl_password.get_secret_value() if kafka.sasl_password else "",
        mechanism=kafka.sasl_mechanism,
        ssl_context=ssl_context,
    )


def new_app(app_id: str, settings: Settings) -> faust.App:
    """A faust app (its id is its consumer group) with the settings both kinds of worker share."""
    return faust.App(
        app_id,
        broker=f"kafka://{settings.kafka.bootstrap}",
        broker_credentials=faust_credentials(settings.kafka),
        store="memory://",
        value_serializer="raw",
        key_serializer="raw",
        topic_partitions=settings.topics.partitions,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        stream_wait_empty=False,
        stream_buffer_maxsize=2 * settings.worker.batch_max_events,  # bounds memory: backpressure, not buffering
        producer_max_request_size=MAX_MESSAGE_BYTES,
        consumer_max_fetch_size=MAX_MESSAGE_BYTES,
        web_enabled=False,
    )
