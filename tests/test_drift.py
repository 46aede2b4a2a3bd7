"""Drift detection against a real broker: synthetic score records go straight to the scores topic,
the drift worker (`evalstream drift`) turns them into alerts, the notifier delivers those to
local HTTP receivers. Time is event time: an hour of traffic takes seconds.
The engine's lifecycle, statistics and policy are tested in-process in test_drift_engine.py."""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import Flow
from evalstream.contracts.alert import Alert
from evalstream.drift.engine import DriftEngine, Key
from evalstream.drift.policy import load_policy
from test_notifiers import ROUTING_KEY, Notify, Receiver, check_signature, committed, create_topics, publish, read_topic, wait_until

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


def wait_archived(flow: Flow, n: int, timeout: float = 120.0) -> None:
    """Until the scoring worker has stored (and committed) n alerts from the alerts topic."""

    def archived() -> int:
        return committed(flow.bootstrap, flow.group_id, alerts_topic(flow))

    wait_until(lambda: archived() >= n, timeout, lambda: f"{archived()}/{n} alerts archived:\n{flow.worker_log(0)[-3000:]}")


def wait_processed(flow: Flow, n: int, timeout: float = 240.0) -> None:
    def processed() -> int:
        for proc in flow.workers:
            assert proc.poll() is None or proc.returncode in (0, -9), f"drift worker died:\n{flow.worker_log()[-3000:]}"
        return committed(flow.bootstrap, f"{flow.group_id}-drift", scores_topic(flow))

    wait_until(lambda: processed() >= n, timeout, lambda: f"{processed()}/{n} score records committed:\n{flow.worker_log()[-3000:]}")


def wait_ready(flow: Flow, timeout: float = 180.0, index: int = -1) -> None:
    """Until the newest worker (or the one at index) recovered its tables and reads on."""
    wait_until(lambda: "Worker ready" in flow.worker_log(index), timeout, lambda: flow.worker_log(index)[-3000:])




def drift_counters(flow: Flow, records: int, timeout: float = 60.0) -> dict[str, int]:
    """The worker's last `drift: records=... evaluations=...` line (logged every 5 s on change), once it counts `records`."""

    def counters() -> dict[str, int]:
        lines = re.findall(r"drift: (records=.*)", flow.worker_log())
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", lines[-1])} if lines else {}

    wait_until(lambda: counters().get("records") == records, timeout, lambda: f"last counters {counters()}")
    return counters()


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
        assert any(firing.summary.replace("<", "&lt;") in b.get("text", {}).get("text", "") for b in slack_firing["blocks"])  # mrkdwn-escaped
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
