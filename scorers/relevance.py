"""Relevance: does the response address the prompt? Cosine of their embeddings, clipped to 0..1.

Measured on the sample workload, on-topic answers mostly score above 0.3 and off-topic ones below.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from evalstream.producer import GenAIEvent
from evalstream.scorers.base import Scores
from evalstream.scorers.embeddings import Embedder


class RelevanceScorer:
    name = "relevance"

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.version = f"cosine-{embedder.name}"

    def score(self, events: Sequence[GenAIEvent]) -> list[Scores]:
        prompts = self.embedder.encode_documents([e.prompt for e in events])
        responses = self.embedder.encode_documents([e.response for e in events])
        cosine = np.clip((prompts * responses).sum(axis=1), 0.0, 1.0)
        return [{"relevance": float(c) if e.response.strip() else 0.0} for c, e in zip(cosine, events)]
