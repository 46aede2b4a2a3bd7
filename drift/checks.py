"""The tests of one evaluation: each enabled statistic of a key's window against its own
baseline (drift) and, for a version that replaced another, against that predecessor's data
(prompt or model regression)."""

from __future__ import annotations

from dataclasses import dataclass

from evalstream.contracts import DriftKey
from evalstream.drift.detectors import STATISTICS, Comparison
from evalstream.drift.policy import EffectivePolicy
from evalstream.drift.windows import WindowStats


@dataclass(frozen=True)
class Check:
    """One test at one evaluation: a statistic of the window against a reference."""

    statistic: str
    detector: str  # drift | prompt_regression | model_regression
    comparison: Comparison | None  # None: too few samples on either side for a verdict
    reference: str  # "baseline, 7 days" or "prompt v7"
    severity: str
    baseline_model: str = ""
    baseline_prompt_version: str = ""

    @property
    def track_name(self) -> str:
        return f"{self.statistic}/{self.detector}"


def drift_checks(policy: EffectivePolicy, window: WindowStats, baseline: WindowStats, reference: str) -> list[Check]:
    checks = []
    for name, spec in STATISTICS.items():
        rule = policy.rules[name]
        if rule.enabled:
            comparison = spec.comparison(window, baseline, min_window=policy.min_window_samples, min_baseline=policy.min_baseline_samples)
            checks.append(Check(name, "drift", comparison, reference, rule.severity))
    return checks


def regression_checks(policy: EffectivePolicy, window: WindowStats, reference_data: WindowStats, key: DriftKey, predecessor: DriftKey) -> list[Check]:
    if predecessor.model != key.model:
        detector, reference = "model_regression", f"{predecessor.model} / prompt v{predecessor.prompt_version}"
    else:
        detector, reference = "prompt_regression", f"prompt v{predecessor.prompt_version}"
    checks = []
    for name in policy.regression.statistics:
        if policy.rules[name].enabled:
            comparison = STATISTICS[name].comparison(
                window, reference_data, min_window=policy.min_window_samples, min_baseline=policy.min_baseline_samples
            )
            checks.append(Check(name, detector, comparison, reference, policy.regression.severity, predecessor.model, predecessor.prompt_version))
    return checks
