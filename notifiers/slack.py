"""Slack incoming webhook: one Block Kit message per group of alerts."""

from __future__ import annotations

import json

from evalstream.contracts import Alert
from evalstream.notifiers.channel import HttpChannel, group_label

MAX_ALERTS_PER_MESSAGE = 10  # Slack allows 50 blocks a message; an alert takes up to 4
EMOJI = {"firing": ":rotating_light:", "resolved": ":white_check_mark:"}


def slack_message(alerts: list[Alert]) -> dict:
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": group_label(alerts)[:150], "emoji": True}}]
    for alert in alerts[:MAX_ALERTS_PER_MESSAGE]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"{EMOJI[alert.state]} *{alert.state.upper()}* ({alert.severity}) {alert.summary}"[:3000]}})
        evidence = ", ".join(f"`{e}`" for e in alert.sample_event_ids[:5]) or "none"
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": (
                            f"{alert.detector} · policy `{alert.policy}` · since {alert.started_at:%Y-%m-%d %H:%M} UTC · "
                            f"fingerprint `{alert.fingerprint}` · sample events: {evidence}"
                        )[:3000],
                    }
                ],
            }
        )
        if alert.runbook_url:
            blocks.append({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Runbook"}, "url": alert.runbook_url}]})
        blocks.append({"type": "divider"})
    if len(alerts) > MAX_ALERTS_PER_MESSAGE:
        more = len(alerts) - MAX_ALERTS_PER_MESSAGE
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"... and {more} more; see the alerts board"}]})
    return {"text": "; ".join(a.summary for a in alerts[:3])[:3000], "blocks": blocks}


class SlackChannel(HttpChannel):
    def send(self, alerts: list[Alert]) -> None:
        self.post(json.dumps(slack_message(alerts)).encode())
