"""A generic webhook: JSON POST signed with HMAC-SHA256.

Headers: `X-Evalstream-Timestamp: <unix seconds>` and
`X-Evalstream-Signature: sha256=<hex of HMAC-SHA256(key, "<timestamp>." + raw body)>`.
The timestamp is inside the signature, so a receiver that also checks it is recent (see
`verify_signature`) refuses a replayed request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from evalstream.contracts import Alert
from evalstream.notifiers.channel import HttpChannel
from evalstream.notifiers.config import ChannelConfig

SIGNATURE_HEADER = "X-Evalstream-Signature"
TIMESTAMP_HEADER = "X-Evalstream-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance_s: float = 300, now: float | None = None) -> bool:
    """For receivers: a valid signature on a request no older than `tolerance_s`."""
    try:
        age = abs((now if now is not None else time.time()) - float(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


def webhook_payload(alerts: list[Alert], note: str = "") -> dict:
    payload: dict = {"version": 1, "alerts": [json.loads(a.model_dump_json()) for a in alerts]}
    if note:
        payload["fallback_for"] = note
    return payload


class WebhookChannel(HttpChannel):
    def __init__(self, config: ChannelConfig, **kwargs) -> None:
        super().__init__(config, **kwargs)
        self.secret = config.secret()

    def send(self, alerts: list[Alert], note: str = "") -> None:
        body = json.dumps(webhook_payload(alerts, note)).encode()
        timestamp = str(int(time.time()))
        headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(self.secret, timestamp, body)}
        self.post(body, headers)
