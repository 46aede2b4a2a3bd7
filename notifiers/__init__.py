"""Notifiers: deliver alerts from genai.alerts to Slack, PagerDuty, webhooks and the log. They know only the alert contract."""
