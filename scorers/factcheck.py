"""The offline faithfulness model: the mean of a sign-constrained logistic regression and monotone
gradient-boosted trees (monotone_trees.py) over claim evidence (claim_features.py), trained on the
team's hand-written pairs by `training/train_faithfulness.py`, and an isotonic map from its least
supported claim to a calibrated probability.

Each feature's coefficient is bounded to the direction of its evidence (AGAINST <= 0, FOR >= 0), and
the trees are held to the same directions, so no data can teach either that an invented number or a
flipped negation makes a claim more supported. No entailment weights reach this machine, so this is
what runs by default; an NLI cross-encoder (nli.py) takes the same slot where one is available.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.special import expit

from evalstream.scorers.claim_features import AGAINST, FEATURES, FOR, ContextFacts, claim_features
from evalstream.scorers.embeddings import Embedder
from evalstream.scorers.monotone_trees import MonotoneTrees
from evalstream.scorers.sentences import split_sentences

MODEL_FILE = "models/faithfulness_factcheck.json"


def premises_of(passages: list[str]) -> list[str]:
    return [s for p in passages for s in _passage_sentences(p)] or passages


@lru_cache(maxsize=16_384)  # retrieved passages repeat across events
def _passage_sentences(passage: str) -> tuple[str, ...]:
    return tuple(split_sentences(passage))


def features_for(
    embedder: Embedder, items: Sequence[tuple[list[str], list[str]]], prompts: Sequence[str] | None = None,
    written: Sequence[list[str]] | None = None,
) -> list[np.ndarray]:
    """One (claims, len(FEATURES)) matrix per item; one embedding call for the whole batch. `prompts`: the
    user's question of each item, whose own facts (numbers, names, dates) an answer may restate. `written`:
    each claim's sentence as the response wrote it ("Also, ..."), which is embedded instead of the claim:
    the toxicity scorer embedded it already."""
    premises = [premises_of(passages) for passages, _ in items]
    embedded = written or [claims for _, claims in items]
    texts = [t for sentences, prem in zip(embedded, premises) for t in (*sentences, *prem)]
    vectors = iter(embedder.encode(texts))
    out = []
    for (_, claims), prem, prompt in zip(items, premises, prompts or [""] * len(items)):
        claim_vecs = np.stack([next(vectors) for _ in claims])
        premise_vecs = np.stack([next(vectors) for _ in prem])
        sims = claim_vecs @ premise_vecs.T
        facts = ContextFacts.of(prem, prompt)
        out.append(np.array([claim_features(c, facts, sims[i]) for i, c in enumerate(claims)], dtype=np.float64))
    return out


def check_directions(coef: Sequence[float]) -> None:
    """Refuses a model whose weights point against the evidence: the guard on every load."""
    for name, weight in zip(FEATURES, coef):
        if (name in AGAINST and weight > 0) or (name in FOR and weight < 0):
            raise ValueError(f"faithfulness model: {name} has weight {weight}, against the direction of its evidence")


class FactCheckSupport:
    checks_silence = True  # also given "the documents do not say X" sentences: wrong where the context does say X
    reads_event = True  # given the prompt (its facts count as given) and each claim's sentence as written

    def __init__(self, embedder: Embedder, model_path: Path | None = None) -> None:
        text = model_path.read_text() if model_path else resources.files("evalstream.scorers").joinpath(MODEL_FILE).read_text()
        spec = json.loads(text)
        if tuple(spec["features"]) != FEATURES:
            raise ValueError("the faithfulness model was trained on other features; retrain it with training/train_faithfulness.py")
        check_directions(spec["coef"])
        self.embedder = embedder
        self.name = f"factcheck-{spec['version']}"
        self.threshold = spec["threshold"]
        self._mean = np.array(spec["mean"])
        self._scale = np.array(spec["scale"])
        self._coef = np.array(spec["coef"])
        self._intercept = spec["intercept"]
        directions = [1 if name in FOR else -1 for name in FEATURES]
        self._trees = MonotoneTrees.from_spec(spec["trees"], directions) if "trees" in spec else None
        self._calibration_x = np.array(spec["calibration"]["x"])
        self._calibration_y = np.array(spec["calibration"]["y"])

    def support(
        self, items: Sequence[tuple[list[str], list[str]]], prompts: Sequence[str] | None = None, written: Sequence[list[str]] | None = None,
    ) -> list[list[float]]:
        """Each claim's uncalibrated support (the mean of the two models' probabilities)."""
        matrices = features_for(self.embedder, items, prompts, written)
        if not matrices:
            return []
        support = iter(self.claim_support(np.vstack(matrices)))  # one pass of the trees for the batch
        return [[float(next(support)) for _ in matrix] for matrix in matrices]

    def claim_support(self, matrix: np.ndarray) -> np.ndarray:
        linear = expit(((matrix - self._mean) / self._scale) @ self._coef + self._intercept)
        return linear if self._trees is None else (linear + self._trees.probability(matrix)) / 2

    def calibrate(self, support: float) -> float:
        """The probability that the claims are all supported, given the least supported claim's support."""
        return float(np.interp(support, self._calibration_x, self._calibration_y))
