"""The log channel: one line per alert (firing at WARNING, resolved at INFO). It cannot fail."""

from __future__ import annotations

import logging

from evalstream.contracts import Alert
from evalstream.notifiers.channel import Channel
from evalstream.notifiers.text import one_line

log = logging.getLogger("evalstream.alerts")


class LogChannel(Channel):
    def send(self, alerts: list[Alert], note: str = "") -> None:
        for alert in alerts:
            log.log(
                logging.WARNING if alert.firing else logging.INFO,
                "ALERT %s %s fingerprint=%s %s runbook=%s%s",
                alert.state, alert.severity, one_line(alert.fingerprint), one_line(alert.summary), one_line(alert.runbook_url) or "-",
                f" ({one_line(note)})" if note else "",
            )
