"""The drift policy: windows, thresholds and severities, inherited global -> region -> use_case -> tenant.

Each layer below `global` names only what it changes; for a key the layers that match apply in
that order, the most specific last. A mistake in the file (an unknown key or statistic, an
alpha out of range, a window that is not a whole number of buckets) stops the worker with a
message that names the place in the file.

A use case may also set the thresholds at which the scorers flag its events (`thresholds:`);
the scorers keep them per use case, so no other layer may set them.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Formatter
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evalstream.contracts import describe_validation_error
from evalstream.drift.statistics import Statistic

Severity = Literal["critical", "error", "warning", "info"]
RUNBOOK_FIELDS = {"statistic", "detector", "tenant", "app", "use_case", "model", "prompt_version", "region", "fingerprint"}
DEFAULT_POLICY = "policies/default.yaml"  # inside evalstream.drift


class PolicyError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RuleOverride(_Strict):
    """When a statistic's change is worth an alert: significant (alpha) and large enough (both minima)."""

    enabled: bool | None = None
    severity: Severity | None = None
    min_abs_change: float | None = Field(None, ge=0, description="in the statistic's unit, towards worse (0.01 = 1 point of a rate)")
    min_rel_change: float | None = Field(None, ge=0, description="relative to the baseline (0.5 = 50% worse)")


class RegressionOverride(_Strict):
    """Compare a new prompt_version or model with the one it replaced, on these statistics."""

    enabled: bool | None = None
    severity: Severity | None = None
    statistics: list[Statistic] | None = None


class QualityTargets(_Strict):
    """What "good enough" means for the use cases a layer covers (`evalstream recommend`); unset: inherited."""

    max_unfaithful_rate: float | None = Field(None, ge=0, le=1, description="at most this share flagged unfaithful")
    max_toxic_rate: float | None = Field(None, ge=0, le=1, description="at most this share flagged toxic")
    max_refusal_rate: float | None = Field(None, ge=0, le=1, description="at most this share of refusals")
    min_faithfulness: float | None = Field(None, ge=0, le=1, description="mean calibrated faithfulness at least this")


class Layer(_Strict):
    alpha: float | None = Field(None, gt=0, lt=0.5, description="family-wise false alarm rate per key and evaluation (Bonferroni over the tests run)")
    resolve_alpha: float | None = Field(None, gt=0, lt=1, description="a firing alert clears once the change is no longer significant at this level")
    min_window_samples: int | None = Field(None, ge=10)
    min_baseline_samples: int | None = Field(None, ge=10)
    fire_after: int | None = Field(None, ge=1, le=60, description="consecutive bad evaluations before firing")
    resolve_after: int | None = Field(None, ge=1, le=120, description="consecutive clear evaluations before resolving")
    runbook_url: str | None = None
    statistics: dict[Statistic, RuleOverride] = Field(default_factory=dict)
    prompt_regression: RegressionOverride | None = None
    targets: QualityTargets | None = None

    @model_validator(mode="after")
    def _runbook_placeholders(self) -> Layer:
        if self.runbook_url:
            names = {name for _, name, _, _ in Formatter().parse(self.runbook_url) if name}
            if unknown := names - RUNBOOK_FIELDS:
                raise ValueError(f"runbook_url uses unknown placeholders {sorted(unknown)}; known: {sorted(RUNBOOK_FIELDS)}")
        return self


class FlagThresholds(_Strict):
    """Where the scorers flag an event of this use case; unset: the scorer model's default."""

    unfaithful_below: float | None = Field(None, ge=0, le=1, description="faithfulness below it: `unfaithful`")
    toxic_above: float | None = Field(None, ge=0, le=1, description="toxicity at or above it: `toxic`")
    refusal_above: float | None = Field(None, ge=0, le=1, description="refusal probability at or above it: `refusal`")


class UseCaseLayer(Layer):
    thresholds: FlagThresholds | None = None


class Windows(_Strict):
    bucket_minutes: int = Field(1, ge=1, le=60, description="windows slide by one bucket; each bucket closes one evaluation")
    window_minutes: int = Field(10, ge=1, le=24 * 60)
    baseline_days: int = Field(7, ge=1, le=90)

    @model_validator(mode="after")
    def _whole_buckets(self) -> Windows:
        if self.window_minutes % self.bucket_minutes:
            raise ValueError(f"window_minutes ({self.window_minutes}) must be a multiple of bucket_minutes ({self.bucket_minutes})")
        if self.window_minutes // self.bucket_minutes > 120:
            raise ValueError("a window may hold at most 120 buckets; use longer buckets")
        return self

    @property
    def bucket_seconds(self) -> int:
        return self.bucket_minutes * 60

    @property
    def window_buckets(self) -> int:
        return self.window_minutes // self.bucket_minutes


class Policy(_Strict):
    name: str = "default"
    windows: Windows = Windows()
    global_: Layer = Field(alias="global")
    regions: dict[str, Layer] = Field(default_factory=dict)
    use_cases: dict[str, UseCaseLayer] = Field(default_factory=dict)
    tenants: dict[str, Layer] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _global_is_complete(self) -> Policy:
        g = self.global_
        missing = [f for f in ("alpha", "resolve_alpha", "min_window_samples", "min_baseline_samples", "fire_after", "resolve_after") if getattr(g, f) is None]
        missing += [f"statistics.{s}" for s in Statistic if s not in g.statistics]
        for name, rule in g.statistics.items():
            missing += [f"statistics.{name}.{f}" for f in ("enabled", "severity") if getattr(rule, f) is None]
        if g.prompt_regression is None or None in (g.prompt_regression.enabled, g.prompt_regression.severity, g.prompt_regression.statistics):
            missing.append("prompt_regression (enabled, severity, statistics)")
        if missing:
            raise ValueError(f"the global layer must set every default; missing: {', '.join(missing)}")
        return self

    def resolve(self, tenant: str, region: str, use_case: str) -> EffectivePolicy:
        return _resolve(self, tenant, region, use_case)

    def flag_thresholds(self) -> dict[str, dict[str, float]]:
        """{flag threshold: {use case: value}} for the use cases that set one, e.g. {"unfaithful_below": {"rag-qa": 0.7}}."""
        out: dict[str, dict[str, float]] = {name: {} for name in FlagThresholds.model_fields}
        for use_case, layer in self.use_cases.items():
            for name, value in (layer.thresholds.model_dump(exclude_none=True) if layer.thresholds else {}).items():
                out[name][use_case] = value
        return out


@dataclass(frozen=True)
class EffectiveRule:
    statistic: str
    enabled: bool
    severity: str
    min_abs_change: float
    min_rel_change: float
    set_by: str  # the most specific layer that set any of this rule

    def large_enough(self, change_abs: float, change_rel: float, scale: float = 1.0) -> bool:
        return change_abs > 0 and change_abs >= self.min_abs_change * scale and change_rel >= self.min_rel_change * scale


@dataclass(frozen=True)
class EffectiveRegression:
    enabled: bool
    severity: str
    statistics: tuple[str, ...]
    set_by: str


@dataclass(frozen=True)
class EffectivePolicy:
    name: str
    alpha: float
    resolve_alpha: float
    min_window_samples: int
    min_baseline_samples: int
    fire_after: int
    resolve_after: int
    runbook_url: str
    rules: dict[str, EffectiveRule]
    regression: EffectiveRegression
    targets: QualityTargets = QualityTargets()  # merged over the layers; a field no layer sets stays None

    def policy_label(self, statistic: str, detector: str) -> str:
        set_by = self.regression.set_by if detector != "drift" else self.rules[statistic].set_by
        return f"{self.name}:{statistic}@{set_by}"


def _resolve(policy: Policy, tenant: str, region: str, use_case: str) -> EffectivePolicy:
    layers = [("global", policy.global_)]
    for label, table, name in (("region", policy.regions, region), ("use_case", policy.use_cases, use_case), ("tenant", policy.tenants, tenant)):
        if name in table:
            layers.append((f"{label}:{name}", table[name]))
    scalars: dict[str, Any] = {}
    for _, layer in layers:
        scalars.update({f: v for f in ("alpha", "resolve_alpha", "min_window_samples", "min_baseline_samples", "fire_after", "resolve_after", "runbook_url") if (v := getattr(layer, f)) is not None})
    rules = {}
    for statistic in Statistic:
        merged: dict[str, Any] = {"min_abs_change": 0.0, "min_rel_change": 0.0}
        set_by = "global"
        for label, layer in layers:
            override = layer.statistics.get(statistic)  # type: ignore[call-overload]
            if override is not None:
                merged.update(override.model_dump(exclude_none=True))
                set_by = label
        rules[statistic] = EffectiveRule(statistic=statistic, set_by=set_by, **merged)
    regression: dict[str, Any] = {}
    regression_set_by = "global"
    for label, layer in layers:
        if layer.prompt_regression is not None:
            regression.update(layer.prompt_regression.model_dump(exclude_none=True))
            regression_set_by = label
    targets: dict[str, float] = {}
    for _, layer in layers:
        targets.update(layer.targets.model_dump(exclude_none=True) if layer.targets else {})
    return EffectivePolicy(
        name=policy.name,
        targets=QualityTargets(**targets),
        runbook_url=scalars.pop("runbook_url", ""),
        rules=rules,
        regression=EffectiveRegression(
            enabled=regression["enabled"], severity=regression["severity"], statistics=tuple(regression["statistics"]), set_by=regression_set_by
        ),
        **scalars,
    )


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: expected a mapping at the top level")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "  " + describe_validation_error(exc, limit=None, sep="\n  ")
        raise PolicyError(f"{source}: invalid drift policy:\n{problems}") from None


def load_policy(path: str | Path | None = None) -> Policy:
    """The policy at `path`, or the shipped default."""
    if path:
        path = Path(path)
        if not path.is_file():
            raise PolicyError(f"{path}: no such policy file")
        return parse_policy(path.read_text(), str(path))
    shipped = resources.files("evalstream.drift").joinpath(DEFAULT_POLICY)
    return parse_policy(shipped.read_text(), f"evalstream.drift/{DEFAULT_POLICY}")
