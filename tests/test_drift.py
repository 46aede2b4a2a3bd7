"""Drift detection against a real broker: synthetic score records go straight to the scores topic,
the drift worker (`evalstream drift`) turns them into alerts, the notifier delivers those to
local HTTP receivers. Time is event time: an hour of traffic takes seconds."""

from __future__ import annotations

import json
import math
import random
import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from conftest import Flow
from evalstream.contracts.alert import Alert
from evalstream.drift.engine import DriftEngine, Key
from evalstream.drift.policy import PolicyError, load_policy, parse_policy
from test_notifiers import ROUTING_KEY, Notify, Receiver, check_signature, committed, create_topics, publish, read_topic

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
SPACING_S = 1.5  # per key: 40 events a minute, 400 in the default 10-minute window
KEYS = [
    Key("acme", "support-bot", "rag-qa", "gpt-4o-mini", "7", "eu"),
    Key("acme", "support-bot", "rag-qa", "gpt-4o-mini", "7", "us"),
    Key("globex", "doc-search", "search", "gpt-4.1", "3", "eu"),
    Key("globex", "summarizer", "summarize", "gpt-4.1", "2", "apac"),
]
NORMAL = {"toxicity": 0.004, "errors": 0.01, "faithfulness": (8.5, 1.5), "relevance": (7.0, 3.0)}

Shape = Callable[[Key, float], dict[str, Any]]  # (key, minute) -> what differs from NORMAL (may replace the key)


def traffic(start_min: float, end_min: float, *, seed: int, shape: Shape = lambda key, minute: {}) -> list[dict[str, Any]]:
    """Score records as the worker publishes them (score_record), all keys interleaved in event time."""
    rng = random.Random(seed)
    records = []
    steps = int((end_min - start_min) * 60 / SPACING_S)
    for step in range(steps):
        minute = start_min + step * SPACING_S / 60
        for base_key in KEYS:
            params = {**NORMAL, "key": base_key, **shape(base_key, minute)}
            key: Key = params["key"]
            records.append(
                {
                    "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "ts": (T0 + timedelta(minutes=minute)).isoformat(),
                    **key._asdict(),
                    "environment": "prod", "provider": "openai", "prompt_id": "answer-from-docs",
                    "toxic": rng.random() < params["toxicity"],
                    "toxicity": round(rng.random() * 0.1, 4),
                    "prompt_toxicity": 0.01,
                    "faithfulness": rng.betavariate(*params["faithfulness"]),
                    "relevance": rng.betavariate(*params["relevance"]),
                    "cost_usd": f"{0.0004 * rng.lognormvariate(0, 0.3):.8f}",
                    "cost_unknown_model": False,
                    "latency_ms": int(rng.lognormvariate(6.8, 0.35)),
                    "finish_reason": "stop",
                    "error_type": "timeout" if rng.random() < params["errors"] else "",
                }
            )
    return records


def send(flow: Flow, records: list[dict[str, Any]]) -> None:
    publish(flow.bootstrap, scores_topic(flow), [(f"{r['tenant']}/{r['app']}".encode(), json.dumps(r).encode()) for r in records])


def scores_topic(flow: Flow) -> str:
    return flow.events_topic.removesuffix(".events") + ".scores"


def alerts_topic(flow: Flow) -> str:
    return flow.events_topic.removesuffix(".events") + ".alerts"


@pytest.fixture
def drift_flow(flow: Flow) -> Flow:
    """A flow whose topics exist before the worker subscribes, with a short Kafka session so a
    killed worker's partitions move on within seconds."""
    create_topics(flow.bootstrap, flow.events_topic, scores_topic(flow), alerts_topic(flow))
    flow.env.update({"BROKER_SESSION_TIMEOUT": "10", "BROKER_REBALANCE_TIMEOUT": "10"})
    return flow


def start_drift_worker(flow: Flow) -> Any:
    return flow.start_worker("drift", scores_topic=scores_topic(flow), alerts_topic=alerts_topic(flow))


def start_workers(flow: Flow) -> tuple[Any, Any]:
    """A scoring worker, which archives the alerts in ClickHouse (only the cost scorer: no events
    arrive), and the drift worker, started last so that flow.worker_log() is its log."""
    scoring = flow.start_worker(scores_topic=scores_topic(flow), alerts_topic=alerts_topic(flow), scorers='["cost"]')
    return scoring, start_drift_worker(flow)


def wait_archived(flow: Flow, n: int, timeout: float = 30.0) -> None:
    """Until the scoring worker has stored (and committed) n alerts from the alerts topic."""
    deadline = time.monotonic() + timeout
    while (done := committed(flow.bootstrap, flow.group_id, alerts_topic(flow))) < n:
        assert time.monotonic() < deadline, f"{done}/{n} alerts archived after {timeout}s:\n{flow.worker_log(0)[-3000:]}"
        time.sleep(0.3)


def wait_processed(flow: Flow, n: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while (done := committed(flow.bootstrap, f"{flow.group_id}-drift", scores_topic(flow))) < n:
        for proc in flow.workers:
            assert proc.poll() is None or proc.returncode in (0, -9), f"drift worker died:\n{flow.worker_log()[-3000:]}"
        assert time.monotonic() < deadline, f"{done}/{n} score records committed after {timeout}s:\n{flow.worker_log()[-3000:]}"
        time.sleep(0.3)


def wait_ready(flow: Flow, timeout: float = 60.0) -> None:
    """Until the newest worker recovered its tables and reads on."""
    deadline = time.monotonic() + timeout
    while "Worker ready" not in flow.worker_log():
        assert time.monotonic() < deadline, flow.worker_log()[-3000:]
        time.sleep(0.2)


def drift_counters(flow: Flow, records: int, timeout: float = 15.0) -> dict[str, int]:
    """The worker's last `drift: records=... evaluations=...` line (logged every 5 s on change)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = re.findall(r"drift: (records=.*)", flow.worker_log())
        counters = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", lines[-1])} if lines else {}
        if counters.get("records") == records or time.monotonic() > deadline:
            return counters
        time.sleep(0.5)


def alerts_on_kafka(flow: Flow, expected: int, timeout: float = 30.0) -> list[Alert]:
    return [Alert.model_validate(a) for a in read_topic(flow.bootstrap, alerts_topic(flow), expected=expected, timeout=timeout)]


def simulate(records: list[dict[str, Any]]) -> list[Alert]:
    """The same detector in-process, uninterrupted: the oracle for what the worker must publish."""
    engine = DriftEngine(load_policy(), {}, {}, {})
    return [alert for offset, record in enumerate(records) for alert in engine.process(record, offset)]


# -- the tests ---------------------------------------------------------------------------------


def test_stable_traffic_of_10000_events_raises_no_alert(drift_flow: Flow) -> None:
    records = traffic(0, 62.5, seed=1)
    assert len(records) == 10_000
    send(drift_flow, records)
    scoring, worker = start_workers(drift_flow)
    wait_processed(drift_flow, len(records))
    counters = drift_counters(drift_flow, records=len(records))
    assert counters["records"] == 10_000 and counters["evaluations"] > 200, counters  # it did look, every minute per key
    assert alerts_on_kafka(drift_flow, expected=0, timeout=3) == []
    assert drift_flow.stop_worker(worker) == 0
    assert drift_flow.stop_worker(scoring) == 0
    assert drift_flow.query("SELECT count() AS n FROM alerts") == [{"n": 0}]


def test_toxicity_jump_in_one_key_pages_once_in_every_format_and_resolves_once(drift_flow: Flow, tmp_path: Path) -> None:
    jumped = KEYS[0]  # acme support-bot in eu: the eu policy layer makes toxicity critical

    def toxic_spell(key: Key, minute: float) -> dict[str, Any]:
        return {"toxicity": 0.08} if key == jumped and 25 <= minute < 38 else {}

    records = traffic(0, 62.5, seed=2, shape=toxic_spell)
    toxic_ids = {r["event_id"] for r in records if r["toxic"] and Key.of(r) == jumped}
    slack, pagerduty, webhook = Receiver(), Receiver(ok_status=202), Receiver()
    notify = Notify(drift_flow.bootstrap, tmp_path, {
        "group_id": f"{drift_flow.group_id}-notify", "alerts_topic": alerts_topic(drift_flow), "dlq_topic": alerts_topic(drift_flow) + ".dlq",
        "channels": [
            {"name": "slack", "type": "slack", "url": slack.url},
            {"name": "pager", "type": "pagerduty", "url": pagerduty.url, "secret_env": "NOTIFY_ROUTING_KEY"},
            {"name": "hook", "type": "webhook", "url": webhook.url, "secret_env": "NOTIFY_WEBHOOK_SECRET"},
        ],
    })
    try:
        send(drift_flow, records)
        scoring, worker = start_workers(drift_flow)
        notify.start()
        wait_processed(drift_flow, len(records))
        firing, resolved = alerts_on_kafka(drift_flow, expected=2)

        assert (firing.state, resolved.state) == ("firing", "resolved")
        assert firing.fingerprint == resolved.fingerprint
        assert Key.of(firing.model_dump()) == jumped and (firing.statistic, firing.detector) == ("toxicity_rate", "drift")
        assert firing.severity == "critical" and firing.policy == "default:toxicity_rate@region:eu"
        assert firing.runbook_url == "https://runbooks.example.com/evalstream/toxicity_rate"
        assert T0 + timedelta(minutes=26) <= firing.ts <= T0 + timedelta(minutes=30)  # detected within minutes
        assert T0 + timedelta(minutes=38) < resolved.ts <= T0 + timedelta(minutes=55)
        assert firing.sample_size == 400 and firing.p_value < 0.001 and firing.window_value > 4 * firing.baseline_value
        assert firing.sample_event_ids and set(firing.sample_event_ids) <= toxic_ids  # evidence: toxic events of that key
        assert re.fullmatch(
            r"toxicity rate of acme/support-bot / gpt-4o-mini / prompt v7 in eu rose from \d\.\d% \(baseline, \d+ min\) "
            r"to \d+\.\d% \(last 10 min, n=400, p<0\.001\)",
            firing.summary,
        ), firing.summary

        trigger, resolve = [r.json() for r in pagerduty.wait_delivered(2)]
        assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
        assert trigger["dedup_key"] == resolve["dedup_key"] == firing.fingerprint
        assert trigger["routing_key"] == ROUTING_KEY and trigger["payload"]["severity"] == "critical"
        assert trigger["payload"]["summary"] == firing.summary
        slack_firing, slack_resolved = [r.json() for r in slack.wait_delivered(2)]
        assert slack_firing["blocks"][0]["text"]["text"] == "1 firing drift alert for acme"
        assert any(firing.summary in b.get("text", {}).get("text", "") for b in slack_firing["blocks"])
        assert "resolved" in slack_resolved["blocks"][0]["text"]["text"]
        hooks = webhook.wait_delivered(2)
        for request in hooks:
            check_signature(request)
        assert [h.json()["alerts"][0]["alert_id"] for h in hooks] == [firing.alert_id, resolved.alert_id]

        assert drift_flow.stop_worker(worker) == 0
        wait_archived(drift_flow, 2)
        assert drift_flow.stop_worker(scoring) == 0
        rows = drift_flow.query("SELECT fingerprint, state, statistic, sample_size, length(sample_event_ids) AS ids FROM alerts ORDER BY ts")
        assert rows == [
            {"fingerprint": firing.fingerprint, "state": "firing", "statistic": "toxicity_rate", "sample_size": 400, "ids": len(firing.sample_event_ids)},
            {"fingerprint": firing.fingerprint, "state": "resolved", "statistic": "toxicity_rate", "sample_size": 400, "ids": len(resolved.sample_event_ids)},
        ]
    finally:
        notify.close()
        for receiver in (slack, pagerduty, webhook):
            receiver.close()


def test_faithfulness_drop_after_a_prompt_version_change_is_a_prompt_regression(drift_flow: Flow) -> None:
    changed = KEYS[0]

    def new_prompt(key: Key, minute: float) -> dict[str, Any]:
        if key == changed and minute >= 30:
            return {"key": key._replace(prompt_version="8"), "faithfulness": (6.0, 4.0)}  # mean 0.85 -> 0.60
        return {}

    records = traffic(0, 45, seed=3, shape=new_prompt)
    send(drift_flow, records)
    worker = start_drift_worker(drift_flow)
    wait_processed(drift_flow, len(records))
    (alert,) = alerts_on_kafka(drift_flow, expected=1)
    assert drift_flow.stop_worker(worker) == 0

    assert (alert.state, alert.statistic, alert.detector) == ("firing", "faithfulness", "prompt_regression")
    assert (alert.prompt_version, alert.baseline_description) == ("8", "prompt v7")
    assert alert.baseline_value > 0.8 and alert.window_value < 0.7
    assert T0 + timedelta(minutes=30) < alert.ts <= T0 + timedelta(minutes=36)
    assert re.search(r"mean faithfulness of .* prompt v8 in eu fell from 0\.8\d \(prompt v7\) to 0\.[56]\d .*: prompt regression$", alert.summary), alert.summary


def test_a_worker_killed_mid_window_keeps_the_window_counts(drift_flow: Flow) -> None:
    jumped = KEYS[2]

    def toxic_spell(key: Key, minute: float) -> dict[str, Any]:
        return {"toxicity": 0.10} if key == jumped and minute >= 32 else {}

    records = traffic(0, 40, seed=4, shape=toxic_spell)
    before_kill = [r for r in records if r["ts"] < (T0 + timedelta(minutes=33)).isoformat()]
    send(drift_flow, before_kill)
    first = start_drift_worker(drift_flow)
    # Killed once it is well into the window that will fire ([25, 35) min), before it fired:
    # records processed but not yet committed are read again by the next worker.
    wait_processed(drift_flow, sum(r["ts"] < (T0 + timedelta(minutes=30)).isoformat() for r in records))
    first.kill()
    assert first.wait(10) == -9

    second = start_drift_worker(drift_flow)
    wait_ready(drift_flow)
    send(drift_flow, records[len(before_kill):])
    wait_processed(drift_flow, len(records))
    (alert,) = alerts_on_kafka(drift_flow, expected=1)
    assert drift_flow.stop_worker(second) == 0

    (expected,) = simulate(records)
    assert alert.window_start < T0 + timedelta(minutes=30) < alert.window_end  # its window spans the kill
    # Every count as in an uninterrupted run: nothing lost with the killed worker, nothing counted twice.
    assert Key.of(alert.model_dump()) == jumped
    assert (alert.fingerprint, alert.ts, alert.sample_size, alert.baseline_size) == (expected.fingerprint, expected.ts, expected.sample_size, expected.baseline_size)
    assert (alert.window_value, alert.baseline_value) == (expected.window_value, expected.baseline_value)


# -- the statistics, without a broker ------------------------------------------------------


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
