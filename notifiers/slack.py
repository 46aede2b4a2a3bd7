"""Slack incoming webhook: one Block Kit message per group of alerts.

Every text from the alert is escaped for mrkdwn (notifiers/text.py): a name cannot mention
`<!channel>`, write a link or break the layout; the runbook button is shown only for an http(s) URL.
"""

from __future__ import annotations

import json

from evalstream.contracts import Alert
from evalstream.notifiers.channel import HttpChannel, group_label
from evalstream.notifiers.text import code_span, one_line, safe_link, slack_escape

MAX_ALERTS_PER_MESSAGE = 10  # Slack allows 50 blocks a message; an alert takes up to 4
EMOJI = {"firing": ":rotating_light:", "resolved": ":white_check_mark:"}


def slack_message(alerts: list[Alert], note: str = "") -> dict:
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": one_line(group_label(alerts))[:150], "emoji": True}}]
    if note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f":warning: {slack_escape(note)}"[:3000]}]})
    for alert in alerts[:MAX_ALERTS_PER_MESSAGE]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"{EMOJI[alert.state]} *{alert.state.upper()}* ({alert.severity}) {slack_escape(alert.summary)}"[:3000]}})
        evidence = ", ".join(f"`{code_span(e)}`" for e in alert.sample_event_ids[:5]) or "none"
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": (
                            f"{slack_escape(alert.detector)} · policy `{code_span(alert.policy)}` · since {alert.started_at:%Y-%m-%d %H:%M} UTC · "
                            f"fingerprint `{code_span(alert.fingerprint)}` · sample events: {evidence}"
                        )[:3000],
                    }
                ],
            }
        )
        if link := safe_link(alert.runbook_url):
            blocks.append({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Runbook"}, "url": link}]})
        blocks.append({"type": "divider"})
    if len(alerts) > MAX_ALERTS_PER_MESSAGE:
        more = len(alerts) - MAX_ALERTS_PER_MESSAGE
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"... and {more} more; see the alerts board"}]})
    return {"text": slack_escape("; ".join(a.summary for a in alerts[:3]))[:3000], "blocks": blocks}


class SlackChannel(HttpChannel):
    def send(self, alerts: list[Alert], note: str = "") -> None:
        self.post(json.dumps(slack_message(alerts, note)).encode())
