"""Topics a faust app reads, created before it subscribes."""

from __future__ import annotations

import logging
import time
from typing import Any

from evalstream.streams.settings import KafkaSettings

log = logging.getLogger("evalstream.topics")


def ensure_topics(app: Any, topics: dict[str, dict[str, str]], partitions: int, timeout: float = 30.0) -> None:
    """Creates the topics an app reads or writes before the app subscribes, and waits until they have leaders.

    faust would create them itself, but a topic created while the consumer group forms shows 0
    partitions in that group's metadata: the drift agent then stops at its first table write
    (PartitionsMismatch) or, for the scores topic, reads nothing until the next metadata refresh.
    """
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    bootstrap = ",".join(f"{url.host}:{url.port}" for url in app.conf.broker)
    admin = AdminClient({**KafkaSettings(bootstrap=bootstrap).librdkafka(), "log_level": 3})
    try:
        existing = set(admin.list_topics(timeout=10).topics)
        missing = [NewTopic(name, num_partitions=partitions, replication_factor=-1, config=config) for name, config in topics.items() if name not in existing]
        for name, future in (admin.create_topics(missing) if missing else {}).items():
            try:
                future.result(timeout)
            except KafkaException as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            meta = admin.list_topics(timeout=10).topics
            if all(name in meta and meta[name].partitions and all(p.leader >= 0 for p in meta[name].partitions.values()) for name in topics):
                return
            time.sleep(0.2)
        log.warning("topics %s not ready after %.0fs; faust will try to create them", sorted(topics), timeout)
    except KafkaException as exc:
        log.warning("could not check the topics (%s); faust will try to create them", exc)
