"""Cost of each call from genai-prices, exact to the token price (Decimal).

Cached input tokens and reasoning tokens are priced as the provider prices them: genai-prices
takes `input_tokens` including the cache reads, and reasoning tokens are output tokens.
An unknown model gives no cost (None) and says so; never a silent 0.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Sequence

import genai_prices
from genai_prices import Usage, calc_price

from evalstream.contracts import GenAIEvent, TokenUsage
from evalstream.scorers.base import Scores

# Used only when an event carries no usage; the row is flagged `tokens_estimated`.
CHARS_PER_TOKEN = 4


def estimate_usage(event: GenAIEvent) -> TokenUsage:
    prompt_chars = len(event.prompt) + sum(len(p) for p in event.context or [])
    return TokenUsage(
        input_tokens=max(1, round(prompt_chars / CHARS_PER_TOKEN)),
        output_tokens=max(1, round(len(event.response) / CHARS_PER_TOKEN)),
    )


class CostScorer:
    name = "cost"
    fields = ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens", "tokens_estimated", "cost_usd", "cost_unknown_model")
    version = f"genai-prices-{genai_prices.__version__}"

    def score(self, events: Sequence[GenAIEvent]) -> list[Scores]:
        return [self._score_one(e) for e in events]

    def _score_one(self, event: GenAIEvent) -> Scores:
        usage = event.usage or estimate_usage(event)
        cost = price(
            event.provider,
            event.model,
            usage.input_tokens,
            usage.cached_input_tokens,
            usage.output_tokens,
        )
        return {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cached_input_tokens": usage.cached_input_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
            "tokens_estimated": event.usage is None,
            "cost_usd": cost,
            "cost_unknown_model": cost is None,
        }


@lru_cache(maxsize=65_536)
def price(provider: str, model: str, input_tokens: int, cached_input_tokens: int, output_tokens: int) -> Decimal | None:
    usage = Usage(input_tokens=input_tokens, cache_read_tokens=cached_input_tokens, output_tokens=output_tokens)
    for provider_id in (provider, None):  # the provider name may not match genai-prices' ids
        try:
            return calc_price(usage, model, provider_id=provider_id).total_price
        except LookupError:
            continue
    return None
