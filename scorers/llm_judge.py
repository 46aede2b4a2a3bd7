"""An LLM judge of faithfulness over an OpenAI-compatible chat-completions API, for a sample.

It is not a scorer of the ingest path: a slow, down or babbling judge must never delay or fail
the scoring of an event. The judge stage (streams/judge.py, `evalstream judge`) reads the score
records, chooses what to judge here (`reason_to_judge`: every event the cheap scorers flag, a
share of the rest chosen by event id, so a replay chooses the same), reads the stored, redacted
texts and asks the judge; verdicts are stored as their own rows (`judge_verdicts`).

`judge` never raises: it returns a Verdict, or a JudgeFailure saying why there is none
(unavailable after its retries, refused, or a reply that is not the JSON asked for). A budget
caps the calls per rolling hour; events past it are left unjudged, never guessed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Sequence

import httpx
import tenacity

log = logging.getLogger("evalstream.scorers.llm_judge")

SYSTEM_PROMPT = (
    "You check whether an assistant's answer is faithful to the retrieved context. A claim is "
    "supported only if the context states it; a changed number, date, name, amount or negation "
    "is unsupported. Reply with JSON only: "
    '{"faithfulness": <0..1, 1 = every claim supported>, "unsupported": [<answer sentences not supported>], '
    '"reason": "<one sentence>"}'
)
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
MAX_REASON_CHARS = 1000
MAX_UNSUPPORTED = 50
# What one question may carry (a cost bound: an event may hold up to a MiB of text).
MAX_PROMPT_CHARS, MAX_CONTEXT_CHARS, MAX_RESPONSE_CHARS = 4_000, 24_000, 8_000


class JudgeUnavailable(Exception):
    """A timeout, a refused connection or a status worth another try."""


class BadReply(Exception):
    """A 200 whose body or content is not the JSON verdict asked for: asking again costs again."""


@dataclass
class JudgeSettings:
    base_url: str  # e.g. https://api.openai.com/v1 or http://vllm:8000/v1
    model: str
    api_key: str | None = None
    sample_rate: float = 0.05  # share of the unflagged events judged
    budget_per_hour: int = 500
    timeout_s: float = 20.0
    retries: int = 3
    backoff_s: float = 0.5  # before the first retry; doubles each time
    concurrency: int = 4
    relevance_below: float = 0.2  # a calibrated probability of addressing the prompt: below it, off-topic

    def worst_call_seconds(self) -> float:
        """How long one judged event can take at most: every try timing out, plus the backoffs."""
        return (self.retries + 1) * self.timeout_s + sum(self.backoff_s * 2**n for n in range(self.retries))


@dataclass(frozen=True)
class JudgeInput:
    """What the judge reads of one event: its stored (already redacted) texts."""

    event_id: str
    prompt: str
    context: list[str]
    response: str

    @property
    def judgeable(self) -> bool:
        return bool(self.context) and bool(self.response.strip())


@dataclass(frozen=True)
class Verdict:
    faithfulness: float  # 0..1, 1 = every claim supported
    unsupported: list[str] = field(default_factory=list)
    reason: str = ""
    model: str = ""


@dataclass(frozen=True)
class JudgeFailure:
    kind: str  # unavailable | refused | bad_reply
    detail: str


class HourlyBudget:
    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._spent: deque[float] = deque()
        self._lock = threading.Lock()

    def take(self) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._spent and now - self._spent[0] > 3600:
                self._spent.popleft()
            if len(self._spent) >= self.per_hour:
                return False
            self._spent.append(now)
            return True


class LLMJudge:
    name = "llm_judge"
    # The columns of scored_events its verdicts filled while it ran inside the scoring batch
    # (migration 006); rows stored since migration 009 leave them NULL and judge_verdicts holds them.
    fields = ("judge_faithfulness", "judge_unsupported", "judge_reason", "judge_model")

    def __init__(self, settings: JudgeSettings, *, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.version = settings.model
        self.budget = HourlyBudget(settings.budget_per_hour)
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self._http = httpx.Client(
            base_url=settings.base_url.rstrip("/"), headers=headers, timeout=settings.timeout_s, follow_redirects=False, transport=transport
        )
        self._pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="judge")
        self._count = threading.Lock()
        self.calls = 0
        self.failures = 0

    def reason_to_judge(
        self, event_id: str, *, unfaithful: bool | None = None, toxic: bool | None = None, relevance: float | None = None
    ) -> str | None:
        """"flagged" (the cheap scorers' own flags, or off-topic), "sampled", or None: not to judge."""
        if unfaithful or toxic or (relevance is not None and relevance < self.settings.relevance_below):
            return "flagged"
        return "sampled" if _share(event_id) < self.settings.sample_rate else None

    def judge_many(self, inputs: Sequence[JudgeInput]) -> list[Verdict | JudgeFailure]:
        """One result per input, in order; the calls run `concurrency` at a time."""
        return list(self._pool.map(self.judge, inputs))

    def judge(self, item: JudgeInput) -> Verdict | JudgeFailure:
        try:
            return self._verdict(self._post(_request_body(self.settings.model, item)))
        except JudgeUnavailable as exc:
            failure = JudgeFailure("unavailable", f"after {self.settings.retries + 1} tries: {exc}")
        except httpx.HTTPStatusError as exc:  # 4xx other than the retryable: our request is wrong
            failure = JudgeFailure("refused", f"HTTP {exc.response.status_code}")
        except BadReply as exc:
            failure = JudgeFailure("bad_reply", str(exc))
        except Exception as exc:  # whatever else: a judge's failure is never the caller's
            failure = JudgeFailure("error", type(exc).__name__)
        with self._count:
            self.failures += 1
        log.warning("judge gave no verdict for %s (%s: %s)", item.event_id, failure.kind, failure.detail[:200])
        return failure

    def _verdict(self, reply: Any) -> Verdict:
        try:
            content = reply["choices"][0]["message"]["content"]
            verdict = json.loads(content)
            value = float(verdict["faithfulness"])
            unsupported = verdict.get("unsupported") or []
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise BadReply(f"not the JSON verdict asked for ({type(exc).__name__})") from None
        if not math.isfinite(value) or not isinstance(unsupported, list):
            raise BadReply("faithfulness is not a finite number or unsupported is not a list")
        return Verdict(
            faithfulness=min(1.0, max(0.0, value)),
            unsupported=[str(s)[:MAX_REASON_CHARS] for s in unsupported[:MAX_UNSUPPORTED]],
            reason=str(verdict.get("reason", ""))[:MAX_REASON_CHARS],
            model=self.settings.model,
        )

    def _post(self, body: dict[str, Any]) -> Any:
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(JudgeUnavailable),
            stop=tenacity.stop_after_attempt(self.settings.retries + 1),
            wait=tenacity.wait_exponential(multiplier=self.settings.backoff_s, min=self.settings.backoff_s),
            reraise=True,
        )
        return retrying(self._call, body)

    def _call(self, body: dict[str, Any]) -> Any:
        with self._count:
            self.calls += 1
        try:
            response = self._http.post("/chat/completions", json=body)
        except httpx.TransportError as exc:  # timeouts, refused connections
            raise JudgeUnavailable(type(exc).__name__) from None
        if response.status_code in RETRY_STATUS:
            raise JudgeUnavailable(f"HTTP {response.status_code}")
        response.raise_for_status()
        try:
            return response.json()
        except ValueError:
            raise BadReply(f"a {response.status_code} whose body is not JSON ({len(response.content)} bytes)") from None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()


def _request_body(model: str, item: JudgeInput) -> dict[str, Any]:
    context = _cut("\n\n".join(f"[{n + 1}] {p}" for n, p in enumerate(item.context)), MAX_CONTEXT_CHARS)
    prompt, response = _cut(item.prompt, MAX_PROMPT_CHARS), _cut(item.response, MAX_RESPONSE_CHARS)
    return {
        "model": model,
        "temperature": 0,
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Context:\n{context}\n\nQuestion:\n{prompt}\n\nAnswer:\n{response}"},
        ],
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " [...]"


def _share(event_id: str) -> float:
    """A stable number in [0, 1) per event: the same events are sampled on every run."""
    return int.from_bytes(hashlib.sha256(event_id.encode()).digest()[:8], "big") / 2**64
