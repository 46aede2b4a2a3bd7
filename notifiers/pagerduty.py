"""PagerDuty Events API v2: trigger on firing, resolve on resolved, dedup_key = the alert's fingerprint."""

from __future__ import annotations

import json

from evalstream.contracts import Alert
from evalstream.notifiers.channel import HttpChannel
from evalstream.notifiers.config import ChannelConfig
from evalstream.notifiers.text import one_line, safe_link


def pagerduty_event(alert: Alert, routing_key: str, note: str = "") -> dict:
    if not alert.firing:
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": alert.fingerprint}
    event = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": alert.fingerprint,
        "client": "evalstream",
        "payload": {
            "summary": one_line(alert.summary)[:1024],
            "source": f"evalstream/{alert.tenant}/{alert.app}/{alert.region}",
            "severity": alert.severity,  # critical | error | warning | info, as PagerDuty's
            "timestamp": alert.ts.isoformat(),
            "component": alert.app,
            "group": alert.tenant,
            "class": alert.statistic,
            "custom_details": {
                "detector": alert.detector,
                "use_case": alert.use_case,
                "model": alert.model,
                "prompt_version": alert.prompt_version,
                "region": alert.region,
                "window_value": alert.window_value,
                "baseline_value": alert.baseline_value,
                "baseline": alert.baseline_description,
                "sample_size": alert.sample_size,
                "p_value": alert.p_value,
                "window": f"{alert.window_start.isoformat()} .. {alert.window_end.isoformat()}",
                "started_at": alert.started_at.isoformat(),
                "sample_event_ids": alert.sample_event_ids,
                "policy": alert.policy,
                **({"fallback_for": note} if note else {}),
            },
        },
    }
    if link := safe_link(alert.runbook_url):
        event["links"] = [{"href": link, "text": "Runbook"}]
    return event


class PagerDutyChannel(HttpChannel):
    one_alert_per_message = True

    def __init__(self, config: ChannelConfig, **kwargs) -> None:
        super().__init__(config, **kwargs)
        self.routing_key = config.secret()

    def send(self, alerts: list[Alert], note: str = "") -> None:
        for alert in alerts:
            self.post(json.dumps(pagerduty_event(alert, self.routing_key, note)).encode())
