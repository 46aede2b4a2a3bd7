"""The drift engine in-process, on hand-made traffic: when an alert fires, holds, resolves and
does not flap, prompt and model regressions, the minimum sample sizes. No broker: seconds.

The policy here has one-minute windows, so each evaluation judges exactly the minute just
closed, and a test reads as a timeline of good and bad minutes: the evaluation of minute m
happens when the first record of minute m + 1 arrives, and its alert carries that time.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from evalstream.contracts import Alert
from evalstream.drift.detectors import STATISTICS
from evalstream.drift.engine import DriftEngine, Key
from evalstream.drift.policy import DEFAULT_POLICY, Policy, PolicyError, load_policy, parse_policy
from evalstream.drift.statistics import Statistic
from evalstream.drift.windows import WindowStats

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
KEY = Key("acme", "support-bot", "rag-qa", "gpt-4o-mini", "7", "us")
PER_MINUTE = 30
CLEAN, BAD = 0.0, 0.2  # share of toxic responses in a minute
GOOD_ANSWERS, POOR_ANSWERS = (0.85, 0.9, 0.95), (0.45, 0.5, 0.55)  # faithfulness, cycled


def one_minute_policy(**overrides: Any) -> Policy:
    """The shipped policy with one-minute windows and the lifecycle spelled out."""
    data = yaml.safe_load(resources.files("evalstream.drift").joinpath(DEFAULT_POLICY).read_text())
    data["windows"]["window_minutes"] = 1
    data["global"].update({"fire_after": 2, "resolve_after": 3, "min_window_samples": 20, "min_baseline_samples": 100, **overrides})
    return parse_policy(yaml.safe_dump(data))


def minute(m: int, toxic: float = CLEAN, *, key: Key = KEY, n: int = PER_MINUTE, faithfulness: tuple[float, ...] = GOOD_ANSWERS) -> list[dict[str, Any]]:
    """n score records spread over minute m; the first toxic * n of them toxic."""
    return [
        {
            "event_id": f"{key.prompt_version}-{m}-{i}",
            "ts": (T0 + timedelta(minutes=m, seconds=i * 60 / n)).isoformat(),
            **key._asdict(),
            "toxic": i < round(toxic * n),
            "faithfulness": faithfulness[i % len(faithfulness)],
        }
        for i in range(n)
    ]


class Timeline:
    """One engine over plain dicts, fed minute by minute; offsets rise as on one partition."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.engine = DriftEngine(policy or one_minute_policy(), {}, {}, {})
        self.offset = 0
        self.alerts: list[Alert] = []

    def feed(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            self.alerts += self.engine.process(record, self.offset)
            self.offset += 1

    def minutes(self, first: int, end: int, toxic: float = CLEAN, **shape: Any) -> Timeline:
        for m in range(first, end):
            self.feed(minute(m, toxic, **shape))
        return self

    def pattern(self, first: int, shares: list[float], **shape: Any) -> Timeline:
        for m, share in enumerate(shares, start=first):
            self.feed(minute(m, share, **shape))
        return self

    def transitions(self) -> list[tuple[str, str, str, int]]:
        """(state, statistic, detector, minute of the evaluation) of every alert so far."""
        return [(a.state, a.statistic, a.detector, int((a.ts - T0).total_seconds() // 60)) for a in self.alerts]


# -- the lifecycle -----------------------------------------------------------------------------


def test_one_bad_evaluation_stays_pending_and_pages_nobody() -> None:
    timeline = Timeline().minutes(0, 10).minutes(10, 11, BAD).minutes(11, 20)
    assert timeline.transitions() == []
    assert timeline.engine.stats.evaluations == 19 and timeline.engine.stats.fired == 0


def test_two_bad_evaluations_fire_once_and_it_holds_while_still_bad() -> None:
    timeline = Timeline().minutes(0, 10).minutes(10, 30, BAD)
    assert timeline.transitions() == [("firing", "toxicity_rate", "drift", 12)]  # minutes 10 and 11 judged bad
    (firing,) = timeline.alerts
    assert firing.started_at == T0 + timedelta(minutes=11)  # since the first bad evaluation
    assert (firing.window_start, firing.window_end) == (T0 + timedelta(minutes=11), T0 + timedelta(minutes=12))
    assert firing.sample_size == PER_MINUTE and firing.window_value == pytest.approx(BAD)
    assert set(firing.sample_event_ids) <= {f"7-11-{i}" for i in range(6)}  # the toxic events of minute 11
    assert firing.summary.startswith("toxicity rate of acme/support-bot / gpt-4o-mini / prompt v7 in us rose from ")
    # 18 more bad minutes: a problem that lasts must not become the new normal and resolve itself
    assert timeline.engine.stats.fired == 1 and timeline.engine.stats.resolved == 0


def test_names_in_the_runbook_url_are_url_encoded_and_cannot_change_its_path() -> None:
    key = Key("a/../admin", "support bot", "rag-qa", "gpt-4o-mini", "7", "us")
    policy = one_minute_policy(runbook_url="https://runbooks.example.com/{tenant}/{app}/{statistic}")
    timeline = Timeline(policy).minutes(0, 10, key=key).minutes(10, 14, BAD, key=key)
    (firing,) = timeline.alerts
    assert firing.runbook_url == "https://runbooks.example.com/a%2F..%2Fadmin/support%20bot/toxicity_rate"


def test_three_clear_evaluations_resolve_it_once() -> None:
    timeline = Timeline().minutes(0, 10).minutes(10, 14, BAD).minutes(14, 25)
    assert timeline.transitions() == [("firing", "toxicity_rate", "drift", 12), ("resolved", "toxicity_rate", "drift", 17)]
    firing, resolved = timeline.alerts
    assert resolved.fingerprint == firing.fingerprint and resolved.started_at == firing.started_at
    assert resolved.alert_id != firing.alert_id
    assert resolved.summary.startswith("resolved: toxicity rate of acme/support-bot") and resolved.window_value == 0.0


def test_bad_evaluations_that_never_follow_each_other_never_fire() -> None:
    timeline = Timeline().minutes(0, 10).pattern(10, [BAD, CLEAN] * 5)
    assert timeline.transitions() == []


def test_a_firing_alert_does_not_resolve_until_three_clear_evaluations_follow_each_other() -> None:
    timeline = Timeline().minutes(0, 10).minutes(10, 12, BAD).pattern(12, [CLEAN, CLEAN, BAD] * 4)
    assert timeline.transitions() == [("firing", "toxicity_rate", "drift", 12)]
    timeline.minutes(24, 28)
    assert timeline.transitions()[1:] == [("resolved", "toxicity_rate", "drift", 27)]


@pytest.mark.parametrize("per_minute, fires", [(10, False), (PER_MINUTE, True)], ids=["10 a minute", "30 a minute"])
def test_a_window_with_fewer_samples_than_the_minimum_gives_no_verdict(per_minute: int, fires: bool) -> None:
    timeline = Timeline().minutes(0, 10).minutes(10, 14, 0.5, n=per_minute).minutes(14, 15)  # half of them toxic
    assert timeline.transitions() == ([("firing", "toxicity_rate", "drift", 12)] if fires else [])


@pytest.mark.parametrize("min_baseline, fires", [(200, False), (100, True)])
def test_a_baseline_with_fewer_samples_than_the_minimum_gives_no_verdict(min_baseline: int, fires: bool) -> None:
    # 150 clean events of baseline, then two very bad minutes
    timeline = Timeline(one_minute_policy(min_baseline_samples=min_baseline)).minutes(0, 5).minutes(5, 7, 0.5).minutes(7, 8)
    assert timeline.transitions() == ([("firing", "toxicity_rate", "drift", 7)] if fires else [])


def test_a_sparse_stretch_keeps_a_firing_alert_firing() -> None:
    timeline = Timeline().minutes(0, 10).minutes(10, 12, BAD).minutes(12, 20, n=10)  # clear, but too few to judge
    assert timeline.transitions() == [("firing", "toxicity_rate", "drift", 12)]
    timeline.minutes(20, 24)
    assert timeline.transitions()[1:] == [("resolved", "toxicity_rate", "drift", 23)]


def test_records_replayed_after_a_crash_are_applied_once() -> None:
    timeline = Timeline().minutes(0, 10).minutes(10, 12, BAD)
    replay_from = timeline.offset - PER_MINUTE  # the last minute again, with the offsets it had
    timeline.offset = replay_from
    timeline.minutes(11, 12, BAD)
    assert timeline.engine.stats.replayed == PER_MINUTE
    timeline.minutes(12, 13)
    assert timeline.transitions() == [("firing", "toxicity_rate", "drift", 12)]
    assert timeline.alerts[0].sample_size == PER_MINUTE


# -- regressions: a new version against the one it replaced ------------------------------------


@pytest.mark.parametrize(
    "successor, answers, expected",
    [
        (KEY._replace(prompt_version="8"), POOR_ANSWERS, ("prompt_regression", "prompt v7")),
        (KEY._replace(model="gpt-4.1"), POOR_ANSWERS, ("model_regression", "gpt-4o-mini / prompt v7")),
        (KEY._replace(prompt_version="8"), GOOD_ANSWERS, None),
    ],
    ids=["worse prompt", "worse model", "as good"],
)
def test_a_new_version_worse_than_the_one_it_replaced_is_a_regression(successor: Key, answers: tuple[float, ...], expected: tuple[str, str] | None) -> None:
    timeline = Timeline().minutes(0, 20).minutes(20, 25, key=successor, faithfulness=answers)
    if expected is None:
        assert timeline.transitions() == []
        return
    detector, reference = expected
    assert timeline.transitions() == [("firing", "faithfulness", detector, 22)]  # a new key: no baseline of its own yet
    (alert,) = timeline.alerts
    assert Key.of(alert.model_dump()) == successor and alert.baseline_description == reference
    assert alert.severity == "error" and alert.policy == "default:faithfulness@global"
    assert alert.baseline_value == pytest.approx(0.9, abs=0.01) and alert.window_value == pytest.approx(0.5, abs=0.01)
    assert alert.summary.endswith(f": {detector.replace('_', ' ')}"), alert.summary


# -- the statistics ------------------------------------------------------------------------------


def test_every_statistic_has_a_detector_a_summary_and_a_policy_rule() -> None:
    assert list(STATISTICS) == list(Statistic)
    assert set(WindowStats.PARTS) == set(Statistic)
    assert set(load_policy().resolve("acme", "eu", "rag-qa").rules) == set(Statistic)


# -- the statistical tests ---------------------------------------------------------------


def test_tests_on_bounded_summaries_agree_with_scipy_on_the_raw_samples() -> None:
    from scipy import stats

    from evalstream.drift.detectors import mean_increase_p, quantile_exceedance_p, rate_increase_p, shift_down_p
    from evalstream.drift.windows import LatencyHistogram, Moments, Proportion, UnitHistogram

    rng = random.Random(7)
    baseline = [round(rng.betavariate(8.5, 1.5), 2) for _ in range(3000)]  # on the bin grid: binning loses nothing
    window = [round(rng.betavariate(7.5, 2.5), 2) for _ in range(300)]
    hb, hw = UnitHistogram.empty(), UnitHistogram.empty()
    for x in baseline:
        hb.add(min(x, 0.999))
    for x in window:
        hw.add(min(x, 0.999))
    binned = [min(int(x * 20), 19) for x in window], [min(int(x * 20), 19) for x in baseline]
    exact = stats.mannwhitneyu(*binned, alternative="less", use_continuity=True).pvalue
    assert shift_down_p(hw, hb) == pytest.approx(exact, rel=1e-6)

    assert rate_increase_p(Proportion(400, 24), Proportion(50_000, 200)) == pytest.approx(
        stats.fisher_exact([[24, 376], [200, 49_800]], alternative="greater").pvalue
    )
    costs_b = [rng.lognormvariate(0, 0.3) for _ in range(2000)]
    costs_w = [1.1 * rng.lognormvariate(0, 0.3) for _ in range(200)]
    mb, mw = Moments(), Moments()
    for x in costs_b:
        mb.add(x)
    for x in costs_w:
        mw.add(x)
    assert mean_increase_p(mw, mb) == pytest.approx(stats.ttest_ind(costs_w, costs_b, equal_var=False, alternative="greater").pvalue, rel=1e-6)

    lb, lw, same = LatencyHistogram.empty(), LatencyHistogram.empty(), LatencyHistogram.empty()
    for _ in range(5000):
        lb.add(900 * rng.lognormvariate(0, 0.35))
    for _ in range(400):
        lw.add(1800 * rng.lognormvariate(0, 0.35))
        same.add(900 * rng.lognormvariate(0, 0.35))
    assert lb.quantile(0.95) == pytest.approx(900 * math.exp(1.645 * 0.35), rel=0.1)  # p95 within a bin
    assert quantile_exceedance_p(lw, lb, 0.95) < 1e-12 and quantile_exceedance_p(same, lb, 0.95) > 0.01


# -- the policy file ---------------------------------------------------------------------------


def test_policy_inherits_global_region_use_case_tenant() -> None:
    policy = parse_policy(
        """
global:
  alpha: 0.001
  resolve_alpha: 0.05
  min_window_samples: 100
  min_baseline_samples: 500
  fire_after: 2
  resolve_after: 3
  statistics:
    toxicity_rate: {enabled: true, severity: error, min_abs_change: 0.01, min_rel_change: 0.5}
    error_rate: {enabled: true, severity: error, min_abs_change: 0.02}
    faithfulness: {enabled: true, severity: warning, min_abs_change: 0.05}
    relevance: {enabled: true, severity: warning, min_abs_change: 0.05}
    cost_per_event: {enabled: true, severity: warning, min_rel_change: 0.25}
    latency_p95: {enabled: true, severity: warning, min_rel_change: 0.5}
    unfaithful_rate: {enabled: true, severity: warning, min_abs_change: 0.05}
    refusal_rate: {enabled: true, severity: warning, min_abs_change: 0.02}
  prompt_regression: {enabled: true, severity: error, statistics: [faithfulness]}
regions:
  eu: {statistics: {toxicity_rate: {severity: critical, min_abs_change: 0.005}}}
use_cases:
  rag-qa: {min_window_samples: 200, statistics: {toxicity_rate: {min_rel_change: 1.0}}}
tenants:
  acme: {statistics: {toxicity_rate: {min_abs_change: 0.002}, cost_per_event: {enabled: false}}}
"""
    )
    acme_eu = policy.resolve("acme", "eu", "rag-qa")
    tox = acme_eu.rules["toxicity_rate"]
    assert (tox.severity, tox.min_abs_change, tox.min_rel_change, tox.set_by) == ("critical", 0.002, 1.0, "tenant:acme")
    assert acme_eu.min_window_samples == 200 and not acme_eu.rules["cost_per_event"].enabled
    other_us = policy.resolve("globex", "us", "search")
    assert (other_us.rules["toxicity_rate"].severity, other_us.rules["toxicity_rate"].min_abs_change) == ("error", 0.01)
    assert other_us.min_window_samples == 100 and other_us.rules["cost_per_event"].enabled

    shipped = load_policy()
    assert shipped.resolve("acme", "eu", "rag-qa").rules["toxicity_rate"].severity == "critical"


SHIPPED_POLICY = Path(__file__).resolve().parents[1] / "drift/policies/default.yaml"


@pytest.mark.parametrize(
    "where, value, message",
    [
        (["global", "statistcs"], {}, "global.statistcs: Extra inputs are not permitted"),
        (["regions", "eu", "alpha"], 1.5, "regions.eu.alpha: Input should be less than 0.5"),
        (["regions", "eu", "statistics", "toxicity"], {"severity": "error"}, "regions.eu.statistics.toxicity.[key]: Input should be 'toxicity_rate'"),
        (["regions", "eu", "statistics", "toxicity_rate", "severity"], "high", "regions.eu.statistics.toxicity_rate.severity: Input should be 'critical'"),
        (["windows", "bucket_minutes"], 3, "window_minutes (10) must be a multiple of bucket_minutes (3)"),
        (["tenants", "acme"], {"runbook_url": "https://x/{team}"}, "runbook_url uses unknown placeholders ['team']"),
        (["global", "statistics", "relevance"], None, "the global layer must set every default; missing: statistics.relevance"),
    ],
)
def test_policy_mistakes_are_refused_with_the_place(where: list[str], value: Any, message: str, tmp_path: Path) -> None:
    policy = yaml.safe_load(SHIPPED_POLICY.read_text())
    node = policy
    for step in where[:-1]:
        node = node.setdefault(step, {})
    if value is None:
        del node[where[-1]]
    else:
        node[where[-1]] = value
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    with pytest.raises(PolicyError) as error:
        load_policy(path)
    assert str(path) in str(error.value) and message in str(error.value), str(error.value)
