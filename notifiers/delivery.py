"""Delivery mechanics shared by the channels: HTTP POST, retries with exponential backoff, rate limits."""

from __future__ import annotations

import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable

from evalstream.notifiers.config import RetryConfig


class DeliveryError(Exception):
    """A failed delivery; `retryable` False for answers that another try cannot change (a 400)."""

    def __init__(self, reason: str, *, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST; returns the 2xx status or raises DeliveryError (network errors, 429 and 5xx retryable)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        retryable = exc.code == 429 or exc.code >= 500
        retry_after = _seconds(exc.headers.get("Retry-After")) if exc.headers else None
        raise DeliveryError(f"HTTP {exc.code} {exc.reason}", retryable=retryable, retry_after=retry_after) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        # The exception text never holds the URL (a Slack URL is a secret), only the cause.
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise DeliveryError(f"{type(exc).__name__}: {reason}") from None


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


@dataclass
class Outcome:
    delivered: bool
    attempts: int
    reason: str = ""


def with_retries(send: Callable[[], object], retry: RetryConfig, *, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Calls `send` until it succeeds, fails for good, or runs out of attempts (full-jitter backoff)."""
    backoff = retry.initial_backoff_s
    for attempt in range(1, retry.max_attempts + 1):
        try:
            send()
            return Outcome(True, attempt)
        except DeliveryError as exc:
            if not exc.retryable or attempt == retry.max_attempts:
                return Outcome(False, attempt, str(exc))
            wait = random.uniform(backoff / 2, backoff)
            if exc.retry_after is not None:
                wait = max(wait, min(exc.retry_after, retry.max_backoff_s))
            sleep(wait)
            backoff = min(backoff * 2, retry.max_backoff_s)
        except Exception as exc:  # a bug in building the message: another try cannot fix it
            return Outcome(False, attempt, f"{type(exc).__name__}: {exc}")
    raise AssertionError("unreachable")


class TokenBucket:
    """`per_minute` messages a minute on average, bursts up to the same number; None = unlimited."""

    def __init__(self, per_minute: float | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0 if per_minute else None
        self.capacity = max(per_minute or 0.0, 1.0)
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()

    def _refill(self) -> None:
        now = self.clock()
        if self.rate is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def try_acquire(self) -> bool:
        if self.rate is None:
            return True
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait_s(self) -> float:
        """Seconds until the next token (0 when one is there)."""
        if self.rate is None:
            return 0.0
        self._refill()
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate
