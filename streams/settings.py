"""Settings from the environment (EVALSTREAM_*), overridable by CLI flags. Secrets never reach a log."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

EVENTS_TOPIC = "genai.events"
DLQ_TOPIC = "genai.events.dlq"
SCORES_TOPIC = "genai.scores"
ALERTS_TOPIC = "genai.alerts"


class KafkaSettings(BaseSettings):
    """Connection to the user's Kafka. SASL/TLS come from the environment only."""

    model_config = SettingsConfigDict(env_prefix="EVALSTREAM_KAFKA_", extra="ignore")

    bootstrap: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"  # or SASL_SSL, SSL, SASL_PLAINTEXT
    sasl_mechanism: str | None = None  # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None

    def librdkafka(self) -> dict[str, Any]:
        """The same settings for confluent-kafka (producer, admin, the demo's lag reader)."""
        config: dict[str, Any] = {"bootstrap.servers": self.bootstrap, "security.protocol": self.security_protocol}
        if self.sasl_mechanism:
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.sasl_username or ""
            config["sasl.password"] = self.sasl_password.get_secret_value() if self.sasl_password else ""
        if self.ssl_cafile:
            config["ssl.ca.location"] = self.ssl_cafile
        return config


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVALSTREAM_", extra="ignore")

    clickhouse: str = "chdb:///var/lib/evalstream/chdb"
    group_id: str = "evalstream-workers"
    drift_group_id: str | None = None  # the drift workers' group; default: "{group_id}-drift"
    events_topic: str = EVENTS_TOPIC
    dlq_topic: str = DLQ_TOPIC
    scores_topic: str = SCORES_TOPIC
    alerts_topic: str = ALERTS_TOPIC
    partitions: int = Field(default=4, ge=1)
    batch_max_events: int = Field(default=256, ge=1)
    batch_max_seconds: float = Field(default=0.5, gt=0)
    max_event_bytes: int = Field(default=1024 * 1024, ge=1024)
    redact_pii: bool = True
