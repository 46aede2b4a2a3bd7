"""Alert text on its way out: names come from producers, so they are made inert before they reach
Slack mrkdwn, a link or a log line (the event contract already restricts them; this holds even
for an alert written to the topic by something else).
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

MAX_URL_CHARS = 3000  # Slack refuses a button whose url is longer, and with it the whole message


def one_line(text: str) -> str:
    """Line breaks, control and format characters (bidi overrides, zero-width) replaced by a space:
    one alert stays one line, read in the order it was written."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)


def slack_escape(text: str) -> str:
    """Plain text for Slack mrkdwn: `&`, `<`, `>` escaped as Slack asks, so no `<!channel>`, `<@user>`
    or `<url|label>` can be written by a name; on one line."""
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code_span(text: str) -> str:
    """Text for inside backticks: a backtick would end the span early."""
    return slack_escape(text).replace("`", "'")


def safe_link(url: str) -> str | None:
    """The URL when it is an http(s) link Slack and PagerDuty can show, else None."""
    if not url or len(url) > MAX_URL_CHARS or one_line(url) != url or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None
