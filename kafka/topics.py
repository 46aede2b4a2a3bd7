"""Every topic evalstream uses, with the configuration it needs, created in this one place.

The apps create what they read or write before they subscribe: faust would create them itself,
but a topic created while the consumer group forms shows 0 partitions in that group's metadata:
the drift agent then stops at its first table write (PartitionsMismatch) or, for the scores
topic, reads nothing until the next metadata refresh. Existing topics are left as they are.
"""

from __future__ import annotations

import logging
import time
from typing import Iterable, Mapping

from evalstream.config.settings import MAX_MESSAGE_BYTES, KafkaSettings, TopicSettings

log = logging.getLogger("evalstream.topics")

# Producers and consumers are configured for MAX_MESSAGE_BYTES (kafka/app.py); a dead letter
# carries the whole offending event, so the DLQ must accept what the events topic did.
DLQ_CONFIG = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}
# A changelog keeps the latest value per key: what a restarted drift worker recovers its tables from.
CHANGELOG_CONFIG = {"cleanup.policy": "compact"}

TopicConfigs = Mapping[str, Mapping[str, str]]


def scoring_topics(topics: TopicSettings) -> dict[str, dict[str, str]]:
    """What the scoring workers read (events, alerts to archive, human feedback) and write (dead letters, score records)."""
    return {topics.events: {}, topics.dlq: dict(DLQ_CONFIG), topics.scores: {}, topics.alerts: {}, topics.feedback: {}}


def drift_topics(topics: TopicSettings, changelogs: Iterable[str]) -> dict[str, dict[str, str]]:
    """What the drift workers read (score records) and write (alerts, their tables' changelogs)."""
    return {topics.scores: {}, topics.alerts: {}, **{name: dict(CHANGELOG_CONFIG) for name in changelogs}}


def notifier_topics(alerts: str, dead_letters: str) -> dict[str, dict[str, str]]:
    """What the notifiers read (alerts) and write (alerts they could not deliver)."""
    return {alerts: {}, dead_letters: dict(DLQ_CONFIG)}


def ensure_topics(kafka: KafkaSettings, topics: TopicConfigs, partitions: int, timeout: float = 30.0) -> bool:
    """Creates the missing `topics` and waits until all of them have leaders (True once they do).
    Logs, never raises, when Kafka cannot tell: faust then creates what it needs itself."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({**kafka.librdkafka(), "log_level": 3})
    try:
        existing = set(admin.list_topics(timeout=10).topics)
        missing = [
            NewTopic(name, num_partitions=partitions, replication_factor=-1, config=dict(config))
            for name, config in topics.items()
            if name not in existing
        ]
        for future in (admin.create_topics(missing) if missing else {}).values():
            try:
                future.result(timeout)
            except KafkaException as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise
        if _wait_for_leaders(admin, list(topics), timeout):
            return True
        log.warning("topics %s not ready after %.0fs; faust will try to create them", sorted(topics), timeout)
    except KafkaException as exc:
        log.warning("could not check the topics (%s); faust will try to create them", exc)
    return False


def _wait_for_leaders(admin: object, names: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        meta = admin.list_topics(timeout=10).topics  # type: ignore[attr-defined]
        if all(name in meta and meta[name].partitions and all(p.leader >= 0 for p in meta[name].partitions.values()) for name in names):
            return True
        time.sleep(0.2)
    return False
