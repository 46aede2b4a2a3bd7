"""The log channel: one line per alert (firing at WARNING, resolved at INFO). It cannot fail."""

from __future__ import annotations

import logging

from evalstream.contracts import Alert
from evalstream.notifiers.channel import Channel

log = logging.getLogger("evalstream.alerts")


class LogChannel(Channel):
    def send(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            log.log(
                logging.WARNING if alert.firing else logging.INFO,
                "ALERT %s %s fingerprint=%s %s runbook=%s",
                alert.state, alert.severity, alert.fingerprint, alert.summary, alert.runbook_url or "-",
            )
