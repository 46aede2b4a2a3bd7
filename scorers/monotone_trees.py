"""Gradient-boosted trees held to the direction of each piece of evidence, evaluated with numpy.

The trees are trained by `training/train_faithfulness.py` (scikit-learn's HistGradientBoostingClassifier
with monotonic constraints) and stored as plain arrays in the model's JSON, so scoring needs no
scikit-learn and no pickle. Trees see what a linear model cannot: a new number matters more in a claim
that otherwise copies the context; a low cosine matters less when every number is found.

The guard on every load: at each split on a feature, every leaf on the side of more evidence against
support must be no higher than every leaf on the other side (the bound scikit-learn's constraint keeps),
so the sum of the trees can only fall as evidence against a claim grows, and only rise with evidence for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.special import expit


@dataclass(frozen=True)
class MonotoneTrees:
    baseline: float
    feature: np.ndarray  # (trees, nodes) feature index per node; -1 at a leaf
    threshold: np.ndarray  # go left when the value is <= threshold
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray  # leaf values (learning rate applied)
    depth: int

    @classmethod
    def from_spec(cls, spec: dict, directions: Sequence[int]) -> MonotoneTrees:
        """`directions`: +1 for evidence of support, -1 against, per feature; refuses trees that break them."""
        width = max(len(t["feature"]) for t in spec["trees"])

        def padded(key: str, fill: float) -> np.ndarray:
            return np.array([t[key] + [fill] * (width - len(t[key])) for t in spec["trees"]])

        trees = cls(float(spec["baseline"]), padded("feature", -1).astype(int), padded("threshold", 0.0),
                    padded("left", 0).astype(int), padded("right", 0).astype(int), padded("value", 0.0), int(spec["depth"]))
        for t in range(len(spec["trees"])):
            trees._check_tree(t, directions)
        return trees

    def probability(self, X: np.ndarray) -> np.ndarray:
        """P(supported) for each row of X (claims x features): all trees walked at once, one level per step."""
        rows = np.arange(X.shape[0])[:, None]
        trees = np.arange(self.feature.shape[0])[None, :]
        node = np.zeros((X.shape[0], self.feature.shape[0]), dtype=int)
        for _ in range(self.depth):
            feature = self.feature[trees, node]
            inner = feature >= 0
            goes_left = X[rows, np.where(inner, feature, 0)] <= self.threshold[trees, node]
            node = np.where(inner, np.where(goes_left, self.left[trees, node], self.right[trees, node]), node)
        return expit(self.baseline + self.value[trees, node].sum(axis=1))

    def _leaves(self, t: int, node: int) -> list[float]:
        if self.feature[t, node] < 0:
            return [float(self.value[t, node])]
        return self._leaves(t, self.left[t, node]) + self._leaves(t, self.right[t, node])

    def _check_tree(self, t: int, directions: Sequence[int], node: int = 0) -> None:
        feature = self.feature[t, node]
        if feature < 0:
            return
        low, high = self._leaves(t, self.left[t, node]), self._leaves(t, self.right[t, node])
        # more of the feature goes right: for support evidence the right side may not be lower, against it not higher
        if (directions[feature] > 0 and max(low) > min(high) + 1e-9) or (directions[feature] < 0 and min(low) < max(high) - 1e-9):
            raise ValueError(f"faithfulness model: tree {t} splits feature {feature} against the direction of its evidence")
        self._check_tree(t, directions, self.left[t, node])
        self._check_tree(t, directions, self.right[t, node])
