"""Faithfulness: is every sentence of the response supported by the retrieved context?

The scorer splits the response into claims (sentences), asks a support model how well the
context supports each, and reports the least supported claim's support as the event's score
(0..1, higher is better grounded) with the unsupported sentences, least supported first.

The support model is a slot. `CosineSupport` (the best embedding match among the context's
sentences) is the baseline: it measures topic, not truth, and calls a sentence with one
changed number "supported". The entailment models fill the same slot.
"""

from __future__ import annotations

import re
from typing import Protocol, Sequence

import numpy as np

from evalstream.producer import GenAIEvent
from evalstream.scorers.base import Scores
from evalstream.scorers.embeddings import Embedder
from evalstream.scorers.sentences import split_sentences

MAX_CLAIMS = 24  # longer answers are judged on their first sentences; bounds the work per event
# Courtesy makes no claim about the world ("Sure.", "Hope this helps!").
COURTESY = re.compile(
    r"^(sure|certainly|of course|absolutely|great question|good question|thanks|thank you|happy to help|hope (this|that) helps"
    r"|let me know|feel free|i hope|glad to help|no problem|you're welcome)\b",
    re.IGNORECASE,
)


def claims_of(response: str) -> list[str]:
    return [s for s in split_sentences(response) if not COURTESY.match(s) and len(s.split()) >= 3][:MAX_CLAIMS]


class SupportModel(Protocol):
    """For each item (context passages, claims): one support score in 0..1 per claim."""

    name: str
    threshold: float  # below it a claim is reported unsupported

    def support(self, items: Sequence[tuple[list[str], list[str]]]) -> list[list[float]]: ...


class CosineSupport:
    name = "cosine-minilm"
    threshold = 0.6

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def support(self, items: Sequence[tuple[list[str], list[str]]]) -> list[list[float]]:
        premises = [[s for p in passages for s in split_sentences(p)] or passages for passages, _ in items]
        texts = [t for (_, claims), prem in zip(items, premises) for t in (*claims, *prem)]
        vectors = iter(self.embedder.encode(texts))  # one call for the batch: the model sees full batches
        out = []
        for (_, claims), prem in zip(items, premises):
            claim_vecs = np.stack([next(vectors) for _ in claims])
            premise_vecs = np.stack([next(vectors) for _ in prem])
            out.append([float(v) for v in np.clip((claim_vecs @ premise_vecs.T).max(axis=1), 0.0, 1.0)])
        return out


class FaithfulnessScorer:
    name = "faithfulness"

    def __init__(self, support_model: SupportModel) -> None:
        self.support_model = support_model
        self.version = support_model.name

    def score(self, events: Sequence[GenAIEvent]) -> list[Scores]:
        results: list[Scores] = [{"faithfulness": None, "unsupported_sentences": []} for _ in events]
        judged, items = [], []
        for i, event in enumerate(events):
            claims = claims_of(event.response)
            passages = [p for p in event.context or [] if p.strip()]
            if claims and passages:
                judged.append((i, claims))
                items.append((passages, claims))
        for (i, claims), supports in zip(judged, self.support_model.support(items)):
            ranked = sorted(zip(supports, claims))
            results[i] = {
                "faithfulness": ranked[0][0],
                "unsupported_sentences": [claim for s, claim in ranked if s < self.support_model.threshold],
            }
        return results
