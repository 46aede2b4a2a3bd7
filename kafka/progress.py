"""How far a consumer group has committed on a topic, read from Kafka itself."""

from __future__ import annotations

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from evalstream.config.settings import KafkaSettings

COORDINATOR_NOT_READY = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError._TIMED_OUT,
}


class GroupProgress:
    """Committed offsets of `group_id` on `topic`, summed over its partitions, and the topic's end."""

    def __init__(self, kafka: KafkaSettings, group_id: str, topic: str) -> None:
        self.topic = topic
        self._committed = 0
        self.consumer = Consumer({**kafka.librdkafka(), "group.id": group_id, "enable.auto.commit": False})

    def _partitions(self) -> list[TopicPartition]:
        meta = self.consumer.list_topics(self.topic, timeout=10).topics.get(self.topic)
        return [TopicPartition(self.topic, p) for p in sorted(meta.partitions)] if meta and meta.partitions else []

    def end_offsets(self) -> int:
        return sum(self.consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in self._partitions())

    def committed(self) -> int:
        """Offsets committed by the group; while the group coordinator is still loading, the last answer."""
        parts = self._partitions()
        if not parts:
            return 0
        try:
            self._committed = sum(max(tp.offset, 0) for tp in self.consumer.committed(parts, timeout=10))
        except KafkaException as exc:
            if not (exc.args[0].retriable() or exc.args[0].code() in COORDINATOR_NOT_READY):
                raise
        return self._committed

    def close(self) -> None:
        self.consumer.close()
