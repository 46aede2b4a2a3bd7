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
from evalstream.notifiers.urls import url_problem

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
GROUPABLE_FIELDS = {"tenant", "app", "use_case", "model", "prompt_version", "region", "state", "severity", "statistic", "detector"}


REVOKE_MARGIN_S = 30.0  # room under max.poll.interval for the commit and the revoke itself


class ConfigError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryConfig(_Strict):
    max_attempts: int = Field(5, ge=1, le=20)
    initial_backoff_s: float = Field(0.5, gt=0, le=60)
    max_backoff_s: float = Field(30.0, gt=0, le=600)
    timeout_s: float = Field(10.0, gt=0, le=120, description="per phase of an HTTP request (connect, send, answer)")

    def worst_case_s(self) -> float:
        """The longest one delivery (its attempts and the waits between them) can take: each attempt
        connects, sends and reads the answer, each phase within `timeout_s`; each wait at most `max_backoff_s`."""
        return self.max_attempts * 3 * self.timeout_s + (self.max_attempts - 1) * self.max_backoff_s

    def explain_worst_case(self) -> str:
        a, t, b = self.max_attempts, self.timeout_s, self.max_backoff_s
        return f"{self.worst_case_s():,.0f} s ({a} attempts x 3 x {t:g} s timeout + {a - 1} x {b:g} s backoff)"


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
    give_up_after_s: float = Field(
        900.0, ge=0, le=86_400, description="how long the receiver may stay down (5xx, 429, no connection) before its alerts go to the DLQ and the fallback"
    )
    fallback: str | None = Field(None, description="the channel that takes the alerts this one gives up on (a revoked key, a deleted webhook, a long outage)")

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
        if self.fallback == self.name:
            raise ValueError("a channel cannot be its own fallback")
        return self

    def url_error(self) -> str | None:
        """What is wrong with the channel's URL (never any part of it), None when nothing is."""
        if self.type == "log":
            return None
        problem = url_problem(self.resolved_url())
        where = f"the URL in {self.url_env}" if self.url_env else "url"
        return f"channel {self.name!r} ({self.type}): {where}: {problem}" if problem else None

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
    max_poll_interval_s: float = Field(
        600.0, ge=60, le=3600, description="the consumer's max.poll.interval: also how long a rebalance waits for deliveries in flight"
    )

    @model_validator(mode="after")
    def _unique_names_known_fallbacks_bounded_retries(self) -> NotifierConfig:
        names = [c.name for c in self.channels]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"channel names must be unique; repeated: {dupes}")
        by_name = {c.name: c for c in self.channels}
        for channel in self.channels:
            seen, current = [channel.name], channel
            while current.fallback:
                if current.fallback not in by_name:
                    raise ValueError(f"channel {current.name!r}: fallback {current.fallback!r} is not a channel; channels: {names}")
                if current.fallback in seen:
                    raise ValueError(f"fallbacks go round in a circle: {' -> '.join([*seen, current.fallback])}")
                seen.append(current.fallback)
                current = by_name[current.fallback]
        # Refused, not clamped: fewer attempts than the file says would change delivery behind the operator's back.
        budget = self.revoke_wait_s
        for channel in self.channels:
            if channel.type != "log" and channel.retry.worst_case_s() > budget:
                raise ValueError(
                    f"channel {channel.name!r}: one delivery may retry for {channel.retry.explain_worst_case()}, more than "
                    f"max_poll_interval_s ({self.max_poll_interval_s:g} s) less {REVOKE_MARGIN_S:g} s; "
                    "lower retry.max_attempts, retry.timeout_s or retry.max_backoff_s, or raise max_poll_interval_s"
                )
        return self

    @property
    def revoke_wait_s(self) -> float:
        """How long a rebalance may wait for deliveries in flight before the group gives up on this notifier."""
        return self.max_poll_interval_s - REVOKE_MARGIN_S


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
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:  # its text quotes the line, which may hold a Slack URL: the place only
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or type(exc).__name__}") from None
    try:
        config = NotifierConfig.model_validate(data)
    except ValidationError as exc:
        if exc.error_count() == 1:
            raise ConfigError(f"{path}: invalid notifier config: {describe_validation_error(exc)}") from None
        problems = "  " + describe_validation_error(exc, limit=None, sep="\n  ")
        raise ConfigError(f"{path}: invalid notifier config:\n{problems}") from None
    for channel in config.channels:  # fail at start, not at the first page, when a secret is missing or a URL is wrong
        if problem := channel.url_error():
            raise ConfigError(f"{path}: {problem}")
        channel.secret()
    return config
