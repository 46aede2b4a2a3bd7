"""Delivery mechanics shared by the channels: HTTP POST (httpx), retries with backoff (tenacity), rate limits."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

import httpx
import tenacity

from evalstream.notifiers.config import RetryConfig

# httpx logs every request with its URL at INFO, and a Slack URL is a secret.
logging.getLogger("httpx").setLevel(logging.WARNING)


class Cancelled(Exception):
    """The notifier is stopping: a delivery gives up between two attempts (its alert stays uncommitted)."""


class DeliveryError(Exception):
    """A failed delivery; `retryable` False for answers that another try cannot change (a 400)."""

    def __init__(self, reason: str, *, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after


def http_client(timeout_s: float) -> httpx.Client:
    # Redirects are not followed: a followed POST arrives elsewhere as a GET without its body.
    return httpx.Client(timeout=timeout_s, follow_redirects=False)


def post(http: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST; returns the 2xx status or raises DeliveryError (network errors, 429 and 5xx retryable)."""
    try:
        response = http.post(url, content=body, headers={"Content-Type": "application/json", **headers})
    except httpx.InvalidURL:
        raise DeliveryError("invalid URL", retryable=False) from None
    except httpx.HTTPError as exc:
        # Only the kind of failure: an exception's text can hold the URL (a Slack URL is a secret).
        raise DeliveryError(type(exc).__name__) from None
    status = response.status_code
    if response.is_success:
        return status
    if 300 <= status < 400:
        raise DeliveryError(f"HTTP {status} redirect refused", retryable=False)
    retry_after = _seconds(response.headers.get("Retry-After"))
    raise DeliveryError(f"HTTP {status} {response.reason_phrase}", retryable=status == 429 or status >= 500, retry_after=retry_after)


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
    retryable: bool = False  # failed for now (5xx, 429, no connection): the channel may take it later


def with_retries(send: Callable[[], object], retry: RetryConfig, *, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Calls `send` until it succeeds, fails for good, or runs out of attempts (jittered exponential backoff)."""
    attempts = 0

    def attempt() -> None:
        nonlocal attempts
        attempts += 1
        send()

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(lambda exc: isinstance(exc, DeliveryError) and exc.retryable),
        stop=tenacity.stop_after_attempt(retry.max_attempts) | tenacity.stop_after_delay(retry.worst_case_s()),
        wait=_backoff(retry),
        sleep=sleep,
        reraise=True,
    )
    try:
        retrying(attempt)
        return Outcome(True, attempts)
    except DeliveryError as exc:
        return Outcome(False, attempts, str(exc), retryable=exc.retryable)
    except Cancelled:
        raise
    except Exception as exc:  # a bug in building the message: another try cannot fix it
        # The kind only: an exception's text can hold a URL, and a Slack URL is a secret.
        return Outcome(False, attempts, type(exc).__name__)


def _backoff(retry: RetryConfig) -> Callable[[tenacity.RetryCallState], float]:
    """Between half and all of a doubling backoff (capped), and at least the receiver's Retry-After (capped too)."""
    half_initial, half_cap = retry.initial_backoff_s / 2, retry.max_backoff_s / 2
    jittered = tenacity.wait_exponential(multiplier=half_initial, max=half_cap) + tenacity.wait_random_exponential(multiplier=half_initial, max=half_cap)

    def wait(state: tenacity.RetryCallState) -> float:
        seconds = jittered(state)
        retry_after = getattr(state.outcome.exception() if state.outcome else None, "retry_after", None)
        return seconds if retry_after is None else max(seconds, min(retry_after, retry.max_backoff_s))

    return wait


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
