"""Benchmark events: realistic shapes, seeded. Prompts, answers of ~200 tokens (or short ones), and
3 retrieved passages per event drawn from a shared knowledge base, so passages repeat as they
do in retrieval (or, for the cache comparison, made unique per event). Answers restate the
passages in the customer's terms (name, order, plan), so, as with a real model, an answer's
sentences rarely repeat word for word and the embedding cache cannot skip them."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone

from evalstream.producer import GenAIEvent
from evalstream.workload.generate import MODELS, PASSAGES

QUESTIONS = [
    "How long do refunds take and what do I need to send?",
    "What does the warranty cover for accidental damage?",
    "Which limits apply to the API on the free plan?",
    "How many days of leave can I carry over to next year?",
    "What happens to my data when I close my account?",
]
LINKS = ["In short, ", "Also note that ", "To be precise, ", "As the policy puts it, ", "Keep in mind that ", ""]
NAMES = ["Maria", "Jon", "Aiko", "Priya", "Lucas", "Fatima", "Wei", "Olga", "Kwame", "Sofia"]
PLANS = ["free", "team", "business", "enterprise"]


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in text.split(".") if s.strip()]


def _answer_sentence(rng: random.Random, sentence: str, name: str, order: int, plan: str) -> str:
    detail = rng.choice([f", {name}", f" for order {order}", f" on your {plan} plan", f" (ticket {rng.randint(1000, 99999)})", ""])
    link = rng.choice(LINKS)
    return f"{link}{sentence[0].lower() + sentence[1:] if link else sentence}{detail}."


def bench_events(n: int, *, long_answers: bool = True, unique_passages: bool = False, seed: int = 11, tenant: str = "acme") -> list[GenAIEvent]:
    rng = random.Random(seed)
    models = list(MODELS)
    start = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)
    events = []
    for i in range(n):
        passages = rng.sample(PASSAGES, 3)
        if unique_passages:
            passages = [f"{p} Reference {i}-{j}." for j, p in enumerate(passages)]
        pool = [s for p in passages for s in _sentences(p)]
        name, order, plan = rng.choice(NAMES), rng.randint(100000, 999999), rng.choice(PLANS)
        count = rng.randint(8, 10) if long_answers else 1  # ~200 tokens: eight to ten sentences
        response = " ".join(_answer_sentence(rng, rng.choice(pool), name, order, plan) for _ in range(count))
        model = models[i % len(models)]
        events.append(
            GenAIEvent(
                event_id=uuid.UUID(int=rng.getrandbits(128), version=4), ts=start + timedelta(seconds=i), tenant=tenant,
                app="support-bot", region="eu", use_case="rag-qa", provider=MODELS[model][0], model=model,
                prompt_version="7", prompt=rng.choice(QUESTIONS), context=passages, response=response,
                usage={"input_tokens": 900, "output_tokens": 210 if long_answers else 30},
            )
        )
    return events
