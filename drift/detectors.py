"""Statistical tests that compare a window with a baseline, one suited to each statistic.

Every test is one-sided, towards "worse", and works on the bounded summaries of windows.py:
- rates (toxicity, error/refusal, the unfaithful and refusal flags): Fisher's exact test on the 2x2 table (exact at small
  counts, where a z-test misleads: a 0.4% baseline has few positives);
- distributions (faithfulness, relevance): Mann-Whitney U on the binned histograms, with the
  tie correction that binning needs (rank-based: a shift of the whole distribution, not only
  of the mean);
- cost per event: Welch's t-test on the moments (unequal variances);
- latency p95: how many window events exceed the baseline's p95, against the ~5% of the
  baseline that does, by Fisher's exact test (a test of the quantile itself, not the mean).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from scipy.stats import fisher_exact, norm, ttest_ind_from_stats

from evalstream.drift.statistics import Statistic
from evalstream.drift.windows import Histogram, Moments, Proportion, WindowStats


@dataclass(frozen=True)
class Comparison:
    statistic: str
    window_value: float
    baseline_value: float
    window_n: int
    baseline_n: int
    p_value: float
    change_abs: float  # towards worse is positive (a rise in toxicity, a drop in faithfulness)
    change_rel: float  # change_abs relative to the baseline value (inf from a zero baseline)


def rate_increase_p(window: Proportion, baseline: Proportion) -> float:
    if window.k == 0:
        return 1.0
    table = [[window.k, window.n - window.k], [baseline.k, baseline.n - baseline.k]]
    return float(fisher_exact(table, alternative="greater").pvalue)


def shift_down_p(window: Histogram, baseline: Histogram) -> float:
    """Mann-Whitney U (normal approximation, tie-corrected) that the window sits lower than the baseline."""
    n1, n0 = window.n, baseline.n
    total = n1 + n0
    if not n1 or not n0:
        return 1.0
    u, below, ties = 0.0, 0, 0.0
    for a, b in zip(window.counts, baseline.counts):
        u += a * (below + b / 2.0)  # window values above baseline values, ties half
        below += b
        t = a + b
        ties += t**3 - t
    mean = n1 * n0 / 2.0
    variance = n1 * n0 / 12.0 * ((total + 1) - ties / (total * (total - 1)))
    if variance <= 0:
        return 1.0
    z = (u - mean + 0.5) / math.sqrt(variance)  # continuity correction towards the null
    return float(norm.cdf(z))


def mean_increase_p(window: Moments, baseline: Moments) -> float:
    """Welch's t-test that the window's mean is higher."""
    if window.n < 2 or baseline.n < 2:
        return 1.0
    if window.variance == 0 and baseline.variance == 0:  # scipy answers nan here: the means alone decide
        return 0.0 if window.mean > baseline.mean else 1.0
    result = ttest_ind_from_stats(
        window.mean, math.sqrt(window.variance), window.n,
        baseline.mean, math.sqrt(baseline.variance), baseline.n,
        equal_var=False, alternative="greater",
    )
    return float(result.pvalue)


def quantile_exceedance_p(window: Histogram, baseline: Histogram, q: float) -> float:
    """More window events above the baseline's q-quantile bin than the baseline's own share there?"""
    edge = baseline.quantile_bin(q)
    above_window = sum(window.counts[edge + 1 :])
    above_baseline = sum(baseline.counts[edge + 1 :])
    return rate_increase_p(Proportion(window.n, above_window), Proportion(baseline.n, above_baseline))


def _relative(change: float, base: float) -> float:
    if base:
        return change / abs(base)
    return math.inf if change > 0 else 0.0


def _percent(x: float) -> str:
    return f"{x * 100:.2f}%" if 0 < x < 0.001 else f"{x * 100:.1f}%"


def _score(x: float) -> str:
    return f"{x:.2f}"


def _dollars(x: float) -> str:
    return f"${x:.3g}" if x < 1 else f"${x:,.2f}"


def _millis(x: float) -> str:
    return f"{x:,.0f} ms" if x < 1000 else f"{x / 1000:.1f} s"


@dataclass(frozen=True)
class StatisticSpec:
    name: str
    label: str
    worse: str  # the verb of the summary: "rose" or "fell"
    sample: Callable[[WindowStats], int]
    compare: Callable[[WindowStats, WindowStats], tuple[float, float, float]]  # window value, baseline value, p
    higher_is_worse: bool
    format: Callable[[float], str]

    def comparison(self, window: WindowStats, baseline: WindowStats, *, min_window: int, min_baseline: int) -> Comparison | None:
        """None when either side has too few samples to judge."""
        n1, n0 = self.sample(window), self.sample(baseline)
        if n1 < min_window or n0 < min_baseline:
            return None
        w, b, p = self.compare(window, baseline)
        change = w - b if self.higher_is_worse else b - w
        return Comparison(self.name, w, b, n1, n0, p, change, _relative(change, b))


def _rate(attr: str) -> Callable[[WindowStats, WindowStats], tuple[float, float, float]]:
    def compare(window: WindowStats, baseline: WindowStats) -> tuple[float, float, float]:
        w, b = getattr(window, attr), getattr(baseline, attr)
        return w.rate, b.rate, rate_increase_p(w, b)

    return compare


def _distribution(attr: str) -> Callable[[WindowStats, WindowStats], tuple[float, float, float]]:
    def compare(window: WindowStats, baseline: WindowStats) -> tuple[float, float, float]:
        w, b = getattr(window, attr), getattr(baseline, attr)
        return w.mean, b.mean, shift_down_p(w, b)

    return compare


def _cost(window: WindowStats, baseline: WindowStats) -> tuple[float, float, float]:
    return window.cost.mean, baseline.cost.mean, mean_increase_p(window.cost, baseline.cost)


def _latency_p95(window: WindowStats, baseline: WindowStats) -> tuple[float, float, float]:
    return window.latency.quantile(0.95), baseline.latency.quantile(0.95), quantile_exceedance_p(window.latency, baseline.latency, 0.95)


STATISTICS: dict[Statistic, StatisticSpec] = {
    spec.name: spec
    for spec in (
        StatisticSpec(Statistic.TOXICITY_RATE, "toxicity rate", "rose", lambda s: s.toxicity.n, _rate("toxicity"), True, _percent),
        StatisticSpec(Statistic.ERROR_RATE, "error/refusal rate", "rose", lambda s: s.errors.n, _rate("errors"), True, _percent),
        StatisticSpec(Statistic.FAITHFULNESS, "mean faithfulness", "fell", lambda s: s.faithfulness.n, _distribution("faithfulness"), False, _score),
        StatisticSpec(Statistic.RELEVANCE, "mean relevance", "fell", lambda s: s.relevance.n, _distribution("relevance"), False, _score),
        StatisticSpec(Statistic.COST_PER_EVENT, "cost per event", "rose", lambda s: s.cost.n, _cost, True, _dollars),
        StatisticSpec(Statistic.LATENCY_P95, "latency p95", "rose", lambda s: s.latency.n, _latency_p95, True, _millis),
        StatisticSpec(Statistic.UNFAITHFUL_RATE, "unfaithful rate", "rose", lambda s: s.unfaithful.n, _rate("unfaithful"), True, _percent),
        StatisticSpec(Statistic.REFUSAL_RATE, "refusal rate", "rose", lambda s: s.refusals.n, _rate("refusals"), True, _percent),
    )
}
