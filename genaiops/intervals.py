"""Confidence intervals from the number of observations: what a person should trust in a number."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.stats import norm, rankdata

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20261201  # the same labels give the same interval on every run


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    n: int

    def text(self, fmt: str = "{:.3f}") -> str:
        return f"{fmt.format(self.value)} [{fmt.format(self.low)}, {fmt.format(self.high)}]"


def _z(confidence: float) -> float:
    return float(norm.ppf(0.5 + confidence / 2))


def wilson(k: int, n: int, confidence: float = CONFIDENCE) -> Estimate:
    """Wilson's score interval of a proportion: honest at small n and near 0 or 1, unlike the Wald interval."""
    if n == 0:
        return Estimate(math.nan, 0.0, 1.0, 0)
    z = _z(confidence)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n)


def rate_difference(k1: int, n1: int, k0: int, n0: int, confidence: float = CONFIDENCE) -> Estimate:
    """p1 - p0 with Newcombe's hybrid score interval (from the two Wilson intervals)."""
    a, b = wilson(k1, n1, confidence), wilson(k0, n0, confidence)
    if not n1 or not n0:
        return Estimate(math.nan, -1.0, 1.0, n1 + n0)
    d = a.value - b.value
    low = d - math.sqrt((a.value - a.low) ** 2 + (b.high - b.value) ** 2)
    high = d + math.sqrt((a.high - a.value) ** 2 + (b.value - b.low) ** 2)
    return Estimate(d, low, high, n1 + n0)


def mean(values: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
    """The mean with a t-free normal interval (n is in the hundreds where it is read)."""
    x = np.asarray(values, dtype=float)
    if not len(x):
        return Estimate(math.nan, math.nan, math.nan, 0)
    m = float(x.mean())
    if len(x) < 2:
        return Estimate(m, math.nan, math.nan, 1)
    half = _z(confidence) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return Estimate(m, m - half, m + half, len(x))


def mean_difference(x1: Sequence[float], x0: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
    """mean(x1) - mean(x0) with Welch's (unequal variances) normal interval."""
    a, b = np.asarray(x1, dtype=float), np.asarray(x0, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return Estimate(math.nan, math.nan, math.nan, len(a) + len(b))
    d = float(a.mean() - b.mean())
    half = _z(confidence) * math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return Estimate(d, d - half, d + half, len(a) + len(b))


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """ROC-AUC as the Mann-Whitney statistic (ties count half); nan without both classes."""
    s, y = np.asarray(scores, dtype=float), np.asarray(positive, dtype=bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if not n1 or not n0:
        return math.nan
    ranks = rankdata(s)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def roc_auc_interval(scores: Sequence[float], positive: Sequence[bool], confidence: float = CONFIDENCE) -> Estimate:
    """ROC-AUC with a stratified percentile bootstrap interval (resampling within each class)."""
    s, y = np.asarray(scores, dtype=float), np.asarray(positive, dtype=bool)
    value = roc_auc(s, y)
    if math.isnan(value):
        return Estimate(value, math.nan, math.nan, len(s))
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    pos, neg = s[y], s[~y]
    draws = np.empty(BOOTSTRAP_RESAMPLES)
    for i in range(BOOTSTRAP_RESAMPLES):
        p = rng.choice(pos, len(pos))
        q = rng.choice(neg, len(neg))
        draws[i] = roc_auc(np.concatenate([p, q]), np.concatenate([np.ones(len(p), bool), np.zeros(len(q), bool)]))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Estimate(value, float(low), float(high), len(s))
