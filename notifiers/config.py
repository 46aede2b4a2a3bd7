"""The notifier's configuration (YAML, validated): which channels get which alerts, and how.

Secrets never sit in the file: a channel names the environment variable that holds its secret
(PagerDuty routing key, webhook HMAC key) or its URL (a Slack incoming-webhook URL is a secret).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evalstream.contracts import SEVERITY_RANK, Alert, Severity, describe_validation_error

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
GROUPABLE_FIELDS = {"tenant", "app", "use_case", "model", "prompt_version", "region", "state", "severity", "statistic", "detector"}


class ConfigError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryConfig(_Strict):
    max_attempts: int = Field(5, ge=1, le=20)
    initial_backoff_s: float = Field(0.5, gt=0, le=60)
    max_backoff_s: float = Field(30.0, gt=0, le=600)
    timeout_s: float = Field(10.0, gt=0, le=120, description="per HTTP request")


class ChannelConfig(_Strict):
    name: str = Field(min_length=1, max_length=100)
    type: Literal["slack", "pagerduty", "webhook", "log"]
    url: str | None = None
    url_env: str | None = Field(None, description="environment variable holding the URL (Slack webhook URLs are secrets)")
    secret_env: str | None = Field(None, description="environment variable holding the PagerDuty routing key or the webhook HMAC key")
    min_severity: Severity = "info"
    group_window_s: float = Field(0.0, ge=0, le=3600, description="alerts arriving within this many seconds go out as one message")
    group_by: list[str] = Field(default_factory=lambda: ["tenant", "state"])
    rate_limit_per_minute: float | None = Field(None, gt=0, description="messages per minute; more wait (never dropped)")
    retry: RetryConfig = RetryConfig()

    @model_validator(mode="after")
    def _what_each_type_needs(self) -> ChannelConfig:
        if unknown := set(self.group_by) - GROUPABLE_FIELDS:
            raise ValueError(f"group_by: unknown fields {sorted(unknown)}; choose from {sorted(GROUPABLE_FIELDS)}")
        if self.url and self.url_env:
            raise ValueError("set url or url_env, not both")
        if self.type in ("slack", "webhook") and not (self.url or self.url_env):
            raise ValueError(f"a {self.type} channel needs url or url_env")
        if self.type in ("pagerduty", "webhook") and not self.secret_env:
            what = "routing key" if self.type == "pagerduty" else "HMAC signing key"
            raise ValueError(f"a {self.type} channel needs secret_env: the environment variable with its {what}")
        if self.type == "log" and (self.url or self.url_env or self.secret_env):
            raise ValueError("a log channel takes no url or secret")
        return self

    def resolved_url(self) -> str:
        if self.url_env:
            return _env(self.url_env, self.name)
        return self.url or (PAGERDUTY_EVENTS_URL if self.type == "pagerduty" else "")

    def secret(self) -> str:
        return _env(self.secret_env, self.name) if self.secret_env else ""

    def accepts(self, alert: Alert) -> bool:
        return SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[self.min_severity]


class NotifierConfig(_Strict):
    group_id: str | None = None  # default: evalstream-notifiers
    alerts_topic: str | None = None  # default: EVALSTREAM_ALERTS_TOPIC or genai.alerts
    dlq_topic: str | None = None  # default: <alerts_topic>.dlq
    channels: list[ChannelConfig] = Field(default_factory=lambda: [ChannelConfig(name="log", type="log")], min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> NotifierConfig:
        names = [c.name for c in self.channels]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"channel names must be unique; repeated: {dupes}")
        return self


def _env(variable: str, channel: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(f"channel {channel!r}: environment variable {variable} is not set")
    return value


def load_config(path: str | Path | None) -> NotifierConfig:
    if path is None:
        return NotifierConfig()
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        config = NotifierConfig.model_validate(data)
    except ValidationError as exc:
        problems = "  " + describe_validation_error(exc, limit=None, sep="\n  ")
        raise ConfigError(f"{path}: invalid notifier config:\n{problems}") from None
    for channel in config.channels:  # fail at start, not at the first page, when a secret is missing
        channel.resolved_url()
        channel.secret()
    return config
