"""A prompt-version gate for CI: a candidate prompt version's offline outputs against the current
version's production traffic, by the drift detectors' tests and the drift policy's thresholds.

The candidate is a file of events (the event contract) that the cli scores with the configured
scorers; the current version is the prompt_version of the same prompt with the latest stored
events for the same tenant, app and use case. Each statistic of the policy's prompt-regression
list is compared as drift compares a window with its baseline (candidate = window, production =
baseline): the same test, the same Bonferroni-corrected alpha, the same minimum changes, the
same minimum samples. A statistic fails when the candidate is significantly AND materially worse;
one that cannot be judged for want of samples fails too: a gate does not sign off on no evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Sequence

from evalstream.contracts import ScoreRecord
from evalstream.drift.detectors import STATISTICS
from evalstream.drift.policy import EffectivePolicy
from evalstream.drift.windows import WindowStats
from evalstream.genaiops.intervals import Estimate, mean_difference, rate_difference

# Which values of a record each statistic tests: a rate's 0/1 flags, or a distribution's scores.
RATE_FIELDS = {"toxicity_rate": "toxic", "unfaithful_rate": "unfaithful", "refusal_rate": "refusal"}
MEAN_FIELDS = {"faithfulness": "faithfulness", "relevance": "relevance", "cost_per_event": "cost_usd", "latency_p95": "latency_ms"}

PRODUCTION_SQL = """
SELECT toString(event_id) AS event_id, ts, tenant, app, environment, region, use_case, provider, model, prompt_id,
       prompt_version, if(mapContains(scorers, 'toxicity'), toxicity, NULL) AS toxicity,
       if(mapContains(scorers, 'toxicity'), toxic, NULL) AS toxic, faithfulness, unfaithful,
       if(mapContains(scorers, 'relevance'), relevance, NULL) AS relevance,
       if(mapContains(scorers, 'relevance'), refusal, NULL) AS refusal, cost_usd, latency_ms, finish_reason, error_type, scorers
FROM scored_events
WHERE tenant = {tenant:String} AND app = {app:String} AND use_case = {use_case:String}
  AND prompt_id = {prompt_id:String} AND prompt_version = {version:String} AND ts >= {since:DateTime64(3, 'UTC')}
ORDER BY ts DESC
LIMIT 1 BY event_id
LIMIT {max_rows:UInt32}
"""
# The latest production events compared; a few hundred thousand decide any test the policy runs.
MAX_PRODUCTION_ROWS = 200_000

CURRENT_VERSION_SQL = """
SELECT prompt_version FROM scored_events
WHERE tenant = {tenant:String} AND app = {app:String} AND use_case = {use_case:String}
  AND prompt_id = {prompt_id:String} AND prompt_version != {candidate:String} AND ts >= {since:DateTime64(3, 'UTC')}
GROUP BY prompt_version ORDER BY max(ts) DESC LIMIT 1
"""


class GateError(ValueError):
    """The gate cannot run (no production traffic, a candidate of several keys): not a verdict."""


@dataclass(frozen=True)
class Target:
    tenant: str
    app: str
    use_case: str
    prompt_id: str
    candidate_version: str
    current_version: str = ""


@dataclass(frozen=True)
class StatisticVerdict:
    statistic: str
    label: str
    current: float
    candidate: float
    current_n: int
    candidate_n: int
    difference: Estimate | None  # candidate - current, 95% interval
    p_value: float | None
    passed: bool
    reason: str


@dataclass
class GateReport:
    target: Target
    policy: str
    alpha: float
    verdicts: list[StatisticVerdict]
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)


def current_version(client: Any, target: Target, since: datetime) -> str:
    result = client.query(CURRENT_VERSION_SQL, parameters={**_key(target), "candidate": target.candidate_version, "since": since})
    if not result.result_rows:
        raise GateError(
            f"no production events of prompt {target.prompt_id!r} other than version {target.candidate_version!r} for "
            f"{target.tenant}/{target.app}/{target.use_case} since {since:%Y-%m-%d}: nothing to compare the candidate with"
        )
    return str(result.result_rows[0][0])


def production_records(client: Any, target: Target, since: datetime) -> tuple[list[ScoreRecord], set[str]]:
    """The current version's score records, and the scorer versions that scored them."""
    parameters = {**_key(target), "version": target.current_version, "since": since, "max_rows": MAX_PRODUCTION_ROWS}
    result = client.query(PRODUCTION_SQL, parameters=parameters)
    records, versions = [], set()
    for row in result.result_rows:
        data = dict(zip(result.column_names, row))
        versions.update(f"{name} {version}" for name, version in data.pop("scorers").items())
        records.append(ScoreRecord.from_mapping({k: v for k, v in data.items() if v is not None}))
    return records, versions


def evaluate(
    target: Target,
    current: Sequence[ScoreRecord],
    candidate: Sequence[ScoreRecord],
    policy: EffectivePolicy,
    *,
    policy_name: str,
) -> GateReport:
    baseline, window = _stats(current), _stats(candidate)
    # a statistic whose scorer is off on both sides is not gated (nor counted among the tests)
    statistics = [s for s in policy.regression.statistics if STATISTICS[s].sample(window) or STATISTICS[s].sample(baseline)]
    alpha = policy.alpha / max(1, len(statistics))  # Bonferroni over the tests run, as drift does
    verdicts = [_verdict(s, current, candidate, baseline, window, policy, alpha) for s in statistics]
    return GateReport(target, policy_name, alpha, verdicts)


def _verdict(statistic: str, current: Sequence[ScoreRecord], candidate: Sequence[ScoreRecord], baseline: WindowStats,
             window: WindowStats, policy: EffectivePolicy, alpha: float) -> StatisticVerdict:
    spec = STATISTICS[statistic]
    rule = policy.rules[statistic]
    n1, n0 = spec.sample(window), spec.sample(baseline)
    difference = _difference(statistic, current, candidate)
    comparison = spec.comparison(window, baseline, min_window=policy.min_window_samples, min_baseline=policy.min_baseline_samples)
    if comparison is None:
        reason = f"too few samples: candidate {n1} (needs {policy.min_window_samples}), production {n0} (needs {policy.min_baseline_samples})"
        w, b, _ = spec.compare(window, baseline)
        return StatisticVerdict(statistic, spec.label, b, w, n0, n1, difference, None, False, reason)
    significant = comparison.p_value < alpha
    material = rule.large_enough(comparison.change_abs, comparison.change_rel)
    failed = rule.enabled and significant and material
    if failed:
        reason = f"worse: p={comparison.p_value:.2g} < {alpha:.2g} and the change reaches the policy's minimum"
    elif significant and not material:
        reason = "significantly worse, but less than the policy's minimum change"
    elif not rule.enabled:
        reason = "not gated (disabled in the policy)"
    else:
        reason = f"no significant worsening (p={comparison.p_value:.2g}, alpha {alpha:.2g})"
    return StatisticVerdict(
        statistic, spec.label, comparison.baseline_value, comparison.window_value, n0, n1, difference, comparison.p_value, not failed, reason
    )


def _difference(statistic: str, current: Sequence[ScoreRecord], candidate: Sequence[ScoreRecord]) -> Estimate | None:
    if statistic in RATE_FIELDS:
        name = RATE_FIELDS[statistic]
        k1, n1 = _flags(candidate, name)
        k0, n0 = _flags(current, name)
        return rate_difference(k1, n1, k0, n0)
    if statistic == "error_rate":
        k1, k0 = sum(map(_is_error, candidate)), sum(map(_is_error, current))
        return rate_difference(k1, len(candidate), k0, len(current))
    if statistic in MEAN_FIELDS:
        name = MEAN_FIELDS[statistic]
        return mean_difference(_values(candidate, name), _values(current, name))
    return None


def _flags(records: Iterable[ScoreRecord], name: str) -> tuple[int, int]:
    flags = [bool(v) for r in records if (v := getattr(r, name)) is not None]
    return sum(flags), len(flags)


def _values(records: Iterable[ScoreRecord], name: str) -> list[float]:
    return [float(v) for r in records if (v := getattr(r, name)) is not None and math.isfinite(float(v))]


def _is_error(record: ScoreRecord) -> bool:
    return bool(record.error_type) or record.finish_reason == "content_filter"


def _stats(records: Iterable[ScoreRecord]) -> WindowStats:
    stats = WindowStats()
    for record in records:
        stats.observe(record, record.ts.timestamp())
    return stats


def _key(target: Target) -> dict[str, str]:
    return {"tenant": target.tenant, "app": target.app, "use_case": target.use_case, "prompt_id": target.prompt_id}


def render_text(report: GateReport) -> str:
    t = report.target
    lines = [
        f"prompt gate: {t.prompt_id} v{t.candidate_version} (candidate) against v{t.current_version} (production) "
        f"for {t.tenant}/{t.app}/{t.use_case}; policy {report.policy}, alpha per test {report.alpha:.2g}",
    ]
    for v in report.verdicts:
        diff = v.difference.text("{:+.3f}") if v.difference and not math.isnan(v.difference.value) else "n/a"
        lines.append(
            f"  {'PASS' if v.passed else 'FAIL'}  {v.label:<20} current {v.current:.3f} (n={v.current_n})  "
            f"candidate {v.candidate:.3f} (n={v.candidate_n})  difference {diff}"
        )
        lines.append(f"        {v.reason}")
    lines += [f"  note: {note}" for note in report.notes]
    lines.append(f"verdict: {'PASS' if report.passed else 'FAIL'}")
    return "\n".join(lines)


def render_markdown(report: GateReport) -> str:
    t = report.target
    out = [
        f"## Prompt gate: `{t.prompt_id}` v{t.candidate_version} — **{'PASS' if report.passed else 'FAIL'}**",
        "",
        f"Candidate v{t.candidate_version} (offline) against v{t.current_version} (production) for "
        f"`{t.tenant}` / `{t.app}` / `{t.use_case}`. Policy `{report.policy}`, alpha per test {report.alpha:.2g} (Bonferroni).",
        "",
        "| statistic | current | candidate | candidate − current (95% CI) | p | verdict | why |",
        "|---|---|---|---|---|---|---|",
    ]
    for v in report.verdicts:
        diff = v.difference.text("{:+.3f}") if v.difference and not math.isnan(v.difference.value) else "n/a"
        p = f"{v.p_value:.2g}" if v.p_value is not None else "n/a"
        out.append(
            f"| {v.label} | {v.current:.3f} (n={v.current_n}) | {v.candidate:.3f} (n={v.candidate_n}) | {diff} | {p} | "
            f"{'pass' if v.passed else '**FAIL**'} | {v.reason} |"
        )
    out += ["", *[f"- {note}" for note in report.notes]]
    return "\n".join(out).rstrip() + "\n"
