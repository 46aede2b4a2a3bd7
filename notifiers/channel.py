"""What every channel shares: which alerts it takes, how it groups them, its rate limit."""

from __future__ import annotations

from collections import defaultdict
from typing import Callable

from evalstream.contracts import Alert
from evalstream.notifiers.config import ChannelConfig, ConfigError
from evalstream.notifiers.delivery import TokenBucket, http_client, post


class Channel:
    """A destination. `send(alerts, note)` delivers one message or raises DeliveryError; `note` says
    why the alerts came here instead of their own channel (fallback), empty when they did not."""

    one_alert_per_message = False  # PagerDuty: each alert is its own incident (dedup_key)

    def __init__(self, config: ChannelConfig, *, clock: Callable[[], float] | None = None) -> None:
        self.config = config
        self.name = config.name
        self.limiter = TokenBucket(config.rate_limit_per_minute, **({"clock": clock} if clock else {}))

    def accepts(self, alert: Alert) -> bool:
        return self.config.accepts(alert)

    def messages(self, alerts: list[Alert]) -> list[list[Alert]]:
        """How a batch of alerts is cut into messages: by the channel's group_by labels."""
        if self.one_alert_per_message:
            return [[a] for a in alerts]
        groups: dict[tuple[str, ...], list[Alert]] = defaultdict(list)
        for alert in alerts:
            groups[tuple(str(getattr(alert, f)) for f in self.config.group_by)].append(alert)
        return list(groups.values())

    def send(self, alerts: list[Alert], note: str = "") -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class HttpChannel(Channel):
    """A channel that POSTs JSON to its URL, over a connection pool of its own."""

    def __init__(self, config: ChannelConfig, **kwargs) -> None:
        super().__init__(config, **kwargs)
        if problem := config.url_error():
            raise ConfigError(problem)
        self.url = config.resolved_url()
        self.http = http_client(config.retry.timeout_s)

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> None:
        post(self.http, self.url, body, headers or {})

    def close(self) -> None:
        self.http.close()


def group_label(alerts: list[Alert]) -> str:
    firing = sum(a.firing for a in alerts)
    resolved = len(alerts) - firing
    parts = [f"{firing} firing" if firing else "", f"{resolved} resolved" if resolved else ""]
    tenants = sorted({a.tenant for a in alerts})
    return f"{' and '.join(p for p in parts if p)} drift alert{'s' if len(alerts) > 1 else ''} for {', '.join(tenants)}"
