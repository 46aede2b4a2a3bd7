"""Entailment (NLI) or hallucination cross-encoders as the faithfulness support model.

For users whose machines reach a model hub or hold its weights: a local directory with a
sentence-transformers CrossEncoder (e.g. an NLI model with an 'entailment' label, or a
single-output hallucination model). Each claim is paired with the context sentences it
matches best (and their neighbours) as premises; its support is the highest entailment
probability among them.

Calibrated where the directory holds CALIBRATION_FILE, which `training/calibrate_nli.py` writes
from the team's hand-written events: then `faithfulness` is the probability that every claim is
supported and the flag threshold is the one chosen there, as for the default model; without it,
the least supported claim's entailment probability is reported as it is, flagged below 0.5.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.special import expit, softmax

from evalstream.scorers.embeddings import Embedder
from evalstream.scorers.factcheck import premises_of


CALIBRATION_FILE = "evalstream_calibration.json"


class CrossEncoderSupport:
    threshold = 0.5

    def __init__(
        self, model_dir: Path, embedder: Embedder, *, device: str = "cpu", premises_per_claim: int = 3, batch_size: int = 32, raw: bool = False,
    ) -> None:
        """`raw`: ignore the directory's calibration (training/calibrate_nli.py fits it on raw scores)."""
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
        self._calibration = None if raw else read_calibration(Path(model_dir) / CALIBRATION_FILE)
        if self._calibration is not None:
            self.threshold = self._calibration["threshold"]
            self.name += f"+calibrated-{self._calibration['sha256_12']}"

    def calibrate(self, support: float) -> float:
        """The probability that the claims are all supported, given the least supported claim's entailment."""
        if self._calibration is None:
            return support
        return float(np.interp(support, self._calibration["x"], self._calibration["y"]))

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


def read_calibration(path: Path) -> dict | None:
    """The calibration beside a cross-encoder, checked: None where there is none."""
    if not path.exists():
        return None
    text = path.read_bytes()
    spec = json.loads(text)
    x, y = np.asarray(spec["calibration"]["x"], dtype=float), np.asarray(spec["calibration"]["y"], dtype=float)
    if len(x) < 2 or len(x) != len(y) or np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0) or y.min() < 0 or y.max() > 1:
        raise ValueError(f"{path}: the calibration must map increasing scores to increasing probabilities in 0..1; rerun training/calibrate_nli.py")
    if not 0.0 < spec["threshold"] < 1.0:
        raise ValueError(f"{path}: threshold {spec['threshold']} is not a probability strictly between 0 and 1")
    return {"x": x, "y": y, "threshold": float(spec["threshold"]), "sha256_12": hashlib.sha256(text).hexdigest()[:12]}
