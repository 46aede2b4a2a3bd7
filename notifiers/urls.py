"""Checks a channel's URL at start, and says what is wrong without a single character of it:
a Slack incoming-webhook URL is the secret itself, and a webhook URL may carry a token."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOCAL_HOSTS = {"localhost", "ip6-localhost"}


def url_problem(url: str) -> str | None:
    """Why this URL cannot take alerts, in words that quote nothing of it; None when it can."""
    if not url:
        return "the URL is empty"
    if url != url.strip() or any(ord(c) < 33 or ord(c) == 127 for c in url):
        return "the URL holds spaces or control characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises on a port that is not a number or out of range)
    except ValueError:
        return "the URL cannot be parsed (a bad host or port)"
    if parts.scheme not in ("http", "https"):
        return "the URL must start with https://"
    if not host:
        return "the URL has no host"
    if parts.scheme == "http" and not is_local(host):
        return "the URL must use https (plain http is allowed for localhost / loopback addresses only)"
    return None


def is_local(host: str) -> bool:
    if host.lower() in LOCAL_HOSTS or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
