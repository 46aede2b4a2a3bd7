"""Faithfulness: is every claim of the response supported by the retrieved context?

The scorer takes the response's claims (sentences.py: greetings, offers of help, questions and
meta openers are not claims), asks a support model how well the context supports each, and
reports the calibrated probability that every claim is supported (0..1), the flag `unfaithful`
below the threshold (the support model's default, or the use case's), and the unsupported
claims, least supported first.

The support model is a slot. `CosineSupport` (the best embedding match among the context's
sentences) is the baseline: it measures topic, not truth, and calls a sentence with one
changed number "supported". The fact-check model (factcheck.py, the default) and the
entailment models fill the same slot; a model with a `calibrate` method maps its least
supported claim's score to a probability, the others are reported as they score.
"""

from __future__ import annotations

from typing import Mapping, Protocol, Sequence

import numpy as np

from evalstream.contracts import GenAIEvent
from evalstream.scorers.base import Scores
from evalstream.scorers.embeddings import Embedder
from evalstream.scorers.sentences import checked_sentences, checked_with_sentences, claims_of, split_sentences

__all__ = ["CosineSupport", "FaithfulnessScorer", "SupportModel", "claims_of"]


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
    fields = ("faithfulness", "unfaithful", "unsupported_sentences")

    def __init__(self, support_model: SupportModel, thresholds: Mapping[str, float] | None = None) -> None:
        """`thresholds`: per use case, the faithfulness below which an event is flagged (policy file)."""
        self.support_model = support_model
        self.version = support_model.name
        self.thresholds = dict(thresholds or {})
        self._calibrate = getattr(support_model, "calibrate", lambda support: support)
        # a model that checks silences also gets "the documents do not say X": wrong where they do say X
        self._sentences = checked_sentences if getattr(support_model, "checks_silence", False) else claims_of

    def threshold_for(self, use_case: str) -> float:
        return self.thresholds.get(use_case, self.support_model.threshold)

    def score(self, events: Sequence[GenAIEvent]) -> list[Scores]:
        results: list[Scores] = [{"faithfulness": None, "unfaithful": None, "unsupported_sentences": []} for _ in events]
        reads_event = getattr(self.support_model, "reads_event", False)
        judged, items, written = [], [], []
        for i, event in enumerate(events):
            pairs = checked_with_sentences(event.response) if reads_event else [(c, c) for c in self._sentences(event.response)]
            claims = [claim for _, claim in pairs]
            passages = [p for p in event.context or [] if p.strip()]
            if claims and passages:
                judged.append((i, claims))
                items.append((passages, claims))
                written.append([sentence for sentence, _ in pairs])
        if reads_event:  # the user's own facts ("I paid 12 days late") count as given; sentences as written are embedded already
            supports_per_item = self.support_model.support(items, [events[i].prompt for i, _ in judged], written)
        else:
            supports_per_item = self.support_model.support(items)
        for (i, claims), supports in zip(judged, supports_per_item):
            threshold = self.threshold_for(events[i].use_case)
            ranked = sorted((self._calibrate(s), claim) for s, claim in zip(supports, claims))
            faithfulness = ranked[0][0]
            results[i] = {
                "faithfulness": faithfulness,
                "unfaithful": faithfulness < threshold,
                "unsupported_sentences": [claim for p, claim in ranked if p < threshold],
            }
        return results
