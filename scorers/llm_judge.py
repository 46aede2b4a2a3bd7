"""An LLM judge of faithfulness over an OpenAI-compatible chat-completions API, for a sample.

Score-aware sampling: every event the cheap scorers flag (unfaithful, toxic or off-topic) is
judged, and a configured share of the rest; a budget caps the calls per rolling hour, and
events past it are left unjudged (null), never guessed. Verdicts are stored beside the other
scores (`judge_*`). Calls run concurrently, with a timeout and retries with backoff.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Sequence

import httpx
import tenacity

from evalstream.contracts import GenAIEvent
from evalstream.scorers.base import Scores

log = logging.getLogger("evalstream.scorers.llm_judge")

SYSTEM_PROMPT = (
    "You check whether an assistant's answer is faithful to the retrieved context. A claim is "
    "supported only if the context states it; a changed number, date, name, amount or negation "
    "is unsupported. Reply with JSON only: "
    '{"faithfulness": <0..1, 1 = every claim supported>, "unsupported": [<answer sentences not supported>], '
    '"reason": "<one sentence>"}'
)
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class JudgeUnavailable(Exception):
    """A timeout, a refused connection or a status worth another try."""


@dataclass
class JudgeSettings:
    base_url: str  # e.g. https://api.openai.com/v1 or http://vllm:8000/v1
    model: str
    api_key: str | None = None
    sample_rate: float = 0.05  # share of the unflagged events judged
    budget_per_hour: int = 500
    timeout_s: float = 20.0
    retries: int = 3
    concurrency: int = 4
    relevance_below: float = 0.2  # a calibrated probability of addressing the prompt: below it, off-topic


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
    """A reviewer: it runs after the other scorers and reads their scores."""

    name = "llm_judge"
    fields = ("judge_faithfulness", "judge_unsupported", "judge_reason", "judge_model")

    def __init__(self, settings: JudgeSettings, *, seed: int = 0, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.version = f"{settings.model}"
        self.budget = HourlyBudget(settings.budget_per_hour)
        self._sample = random.Random(seed)
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self._http = httpx.Client(
            base_url=settings.base_url.rstrip("/"), headers=headers, timeout=settings.timeout_s, follow_redirects=False, transport=transport
        )
        self._pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="judge")
        self.calls = 0
        self.failures = 0

    def flagged(self, scores: Scores) -> bool:
        """The cheap scorers' own flags (at their thresholds, per use case), or an off-topic answer."""
        relevance = scores.get("relevance")
        return bool(scores.get("unfaithful") or scores.get("toxic") or (relevance is not None and relevance < self.settings.relevance_below))

    def review(self, events: Sequence[GenAIEvent], scores: Sequence[Scores]) -> list[Scores]:
        unjudged: Scores = {"judge_faithfulness": None, "judge_unsupported": [], "judge_reason": "", "judge_model": ""}
        chosen = [
            i for i, (event, score) in enumerate(zip(events, scores))
            if event.context and event.response.strip() and (self.flagged(score) or self._sample.random() < self.settings.sample_rate)
        ]
        chosen = [i for i in chosen if self.budget.take()]
        verdicts = dict(zip(chosen, self._pool.map(lambda i: self.judge(events[i]), chosen)))
        return [verdicts.get(i) or dict(unjudged) for i in range(len(events))]

    def judge(self, event: GenAIEvent) -> Scores | None:
        context = "\n\n".join(f"[{n + 1}] {p}" for n, p in enumerate(event.context or []))
        body = {
            "model": self.settings.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Context:\n{context}\n\nQuestion:\n{event.prompt}\n\nAnswer:\n{event.response}"},
            ],
        }
        reply = self._post(body)
        if reply is None:
            return None
        try:
            verdict = json.loads(reply["choices"][0]["message"]["content"])
            value = min(1.0, max(0.0, float(verdict["faithfulness"])))
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            self.failures += 1
            log.warning("judge reply for %s was not the JSON asked for: %s", event.event_id, exc)
            return None
        return {
            "judge_faithfulness": value,
            "judge_unsupported": [str(s) for s in verdict.get("unsupported") or []],
            "judge_reason": str(verdict.get("reason", ""))[:1000],
            "judge_model": self.settings.model,
        }

    def _post(self, body: dict[str, Any]) -> dict[str, Any] | None:
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(JudgeUnavailable),
            stop=tenacity.stop_after_attempt(self.settings.retries + 1),
            wait=tenacity.wait_exponential(multiplier=0.5),  # 0.5 s, 1 s, 2 s, ...
            reraise=True,
        )
        try:
            return retrying(self._call, body)
        except JudgeUnavailable as exc:
            self.failures += 1
            log.warning("judge unavailable after %d tries (%s); event left unjudged", self.settings.retries + 1, exc)
        except httpx.HTTPStatusError as exc:  # 4xx other than the retryable: our request is wrong
            self.failures += 1
            log.error("judge refused the request: HTTP %s", exc.response.status_code)
        return None

    def _call(self, body: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        try:
            response = self._http.post("/chat/completions", json=body)
        except httpx.TransportError as exc:  # timeouts, refused connections
            raise JudgeUnavailable(type(exc).__name__) from None
        if response.status_code in RETRY_STATUS:
            raise JudgeUnavailable(f"HTTP {response.status_code}")
        response.raise_for_status()
        return response.json()
