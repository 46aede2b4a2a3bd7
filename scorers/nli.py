"""Entailment (NLI) or hallucination cross-encoders as the faithfulness support model.

For users whose machines reach a model hub or hold its weights: a local directory with a
sentence-transformers CrossEncoder (e.g. an NLI model with an 'entailment' label, or a
single-output hallucination model). Each claim is paired with the context sentences it
matches best (and their neighbours) as premises; its support is the highest entailment
probability among them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.special import expit, softmax

from evalstream.scorers.embeddings import Embedder
from evalstream.scorers.factcheck import premises_of


class CrossEncoderSupport:
    threshold = 0.5

    def __init__(self, model_dir: Path, embedder: Embedder, *, device: str = "cpu", premises_per_claim: int = 3, batch_size: int = 32) -> None:
        from sentence_transformers import CrossEncoder

        if not Path(model_dir).is_dir():
            raise FileNotFoundError(f"no cross-encoder at {model_dir}: give a local directory (no hub access is assumed)")
        self.model = CrossEncoder(str(model_dir), device=device, local_files_only=True)
        self.embedder = embedder
        self.premises_per_claim = premises_per_claim
        self.batch_size = batch_size
        self.name = f"nli:{Path(model_dir).name}"
        labels = {i: str(label).lower() for i, label in self.model.config.id2label.items()}
        self.num_labels = len(labels)
        entail = [i for i, label in labels.items() if "entail" in label]
        if self.num_labels > 1 and not entail:
            raise ValueError(f"{model_dir}: no 'entailment' label among {sorted(labels.values())}")
        self.entailment_index = entail[0] if entail else 0

    def premise_windows(self, passages: list[str], claims: list[str]) -> list[list[str]]:
        """For each claim: the context sentences it matches best, each with its neighbours."""
        sentences = premises_of(passages)
        sims = self.embedder.encode(claims) @ self.embedder.encode(sentences).T
        windows = []
        for row in sims:
            best = np.argsort(-row)[: self.premises_per_claim]
            windows.append([" ".join(sentences[max(0, i - 1) : i + 2]) for i in sorted(best)])
        return windows

    def support(self, items: Sequence[tuple[list[str], list[str]]]) -> list[list[float]]:
        pairs, owners = [], []
        for item_index, (passages, claims) in enumerate(items):
            for claim_index, (claim, windows) in enumerate(zip(claims, self.premise_windows(passages, claims))):
                for premise in windows:
                    pairs.append((premise, claim))
                    owners.append((item_index, claim_index))
        if not pairs:
            return [[] for _ in items]
        entailment = self.entailment_probabilities(pairs)
        out = [[0.0] * len(claims) for _, claims in items]
        for (item_index, claim_index), p in zip(owners, entailment):
            out[item_index][claim_index] = max(out[item_index][claim_index], float(p))
        return out

    def entailment_probabilities(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        logits = np.asarray(self.model.predict(pairs, batch_size=self.batch_size, activation_fn=_identity, convert_to_numpy=True, show_progress_bar=False))
        if self.num_labels == 1:
            return expit(logits.reshape(-1))
        return softmax(logits, axis=1)[:, self.entailment_index]


def _identity(x):
    return x
