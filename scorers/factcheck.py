"""The offline faithfulness model: a logistic regression over claim features (claim_features.py),
trained on the team's hand-written pairs by `scorers/train_faithfulness.py`.

No entailment weights reach this machine, so this is what runs by default; an NLI
cross-encoder (nli.py) takes the same slot where one is available.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from evalstream.scorers.claim_features import FEATURES, ContextFacts, claim_features
from evalstream.scorers.embeddings import Embedder
from evalstream.scorers.sentences import split_sentences

MODEL_FILE = "models/faithfulness_factcheck.json"


def premises_of(passages: list[str]) -> list[str]:
    return [s for p in passages for s in _passage_sentences(p)] or passages


@lru_cache(maxsize=16_384)  # retrieved passages repeat across events
def _passage_sentences(passage: str) -> tuple[str, ...]:
    return tuple(split_sentences(passage))


def features_for(embedder: Embedder, items: Sequence[tuple[list[str], list[str]]]) -> list[np.ndarray]:
    """One (claims, len(FEATURES)) matrix per item; one embedding call for the whole batch."""
    premises = [premises_of(passages) for passages, _ in items]
    texts = [t for (_, claims), prem in zip(items, premises) for t in (*claims, *prem)]
    vectors = iter(embedder.encode(texts))
    out = []
    for (_, claims), prem in zip(items, premises):
        claim_vecs = np.stack([next(vectors) for _ in claims])
        premise_vecs = np.stack([next(vectors) for _ in prem])
        sims = claim_vecs @ premise_vecs.T
        facts = ContextFacts.of(prem)
        out.append(np.array([claim_features(c, facts, sims[i]) for i, c in enumerate(claims)], dtype=np.float64))
    return out


class FactCheckSupport:
    def __init__(self, embedder: Embedder, model_path: Path | None = None) -> None:
        text = model_path.read_text() if model_path else resources.files("evalstream.scorers").joinpath(MODEL_FILE).read_text()
        spec = json.loads(text)
        if tuple(spec["features"]) != FEATURES:
            raise ValueError("the faithfulness model was trained on other features; retrain it with scorers/train_faithfulness.py")
        self.embedder = embedder
        self.name = f"factcheck-{spec['version']}"
        self.threshold = spec["threshold"]
        self._mean = np.array(spec["mean"])
        self._scale = np.array(spec["scale"])
        self._coef = np.array(spec["coef"])
        self._intercept = spec["intercept"]

    def support(self, items: Sequence[tuple[list[str], list[str]]]) -> list[list[float]]:
        out = []
        for matrix in features_for(self.embedder, items):
            z = ((matrix - self._mean) / self._scale) @ self._coef + self._intercept
            out.append([float(p) for p in 1.0 / (1.0 + np.exp(-z))])
        return out
