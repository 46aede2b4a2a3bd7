"""The faust app both kinds of worker (scoring, drift) are built on, and its Kafka credentials."""

from __future__ import annotations

import ssl
import tempfile
from pathlib import Path
from typing import Any

import faust

from evalstream.config.settings import KafkaSettings, Settings
from evalstream.kafka.topics import MAX_MESSAGE_BYTES


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    """TLS for SSL and SASL_SSL: the CA to trust and, for mTLS, the client's certificate and key."""
    if not kafka.uses_tls:
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=kafka.ssl_cafile)
    if kafka.ssl_certfile:
        password = kafka.ssl_key_password.get_secret_value() if kafka.ssl_key_password else None
        context.load_cert_chain(kafka.ssl_certfile, kafka.ssl_keyfile, password=password)
    return context


def faust_credentials(kafka: KafkaSettings) -> Any:
    """What faust connects with: SASL (over TLS for SASL_SSL), TLS alone for SSL, else nothing (PLAINTEXT)."""
    context = ssl_context(kafka)
    if kafka.sasl_mechanism:
        return faust.SASLCredentials(
            username=kafka.sasl_username or "",
            password=kafka.sasl_password.get_secret_value() if kafka.sasl_password else "",
            mechanism=kafka.sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:  # without this faust would connect in plaintext while the other clients use TLS
        return faust.SSLCredentials(context)
    return None


def new_app(app_id: str, settings: Settings) -> faust.App:
    """A faust app (its id is its consumer group) with the settings both kinds of worker share."""
    datadirs = Path(tempfile.gettempdir()) / "evalstream-faust"
    datadirs.mkdir(mode=0o700, exist_ok=True)  # faust creates the app's own directory, not its parents
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
        # faust keeps a directory per app even with in-memory tables: in the temp dir, not the working directory.
        datadir=str(datadirs / "{conf.name}"),
    )
