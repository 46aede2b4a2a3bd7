"""The Grafana rules and panels that watch delivery (alerts DLQ growth, per-channel failures) and
the scoring workers' lag: shaped as Grafana's provisioning wants them, on metrics that exist."""

from __future__ import annotations

import json
import re
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from evalstream.config.settings import WorkerSettings
from evalstream.contracts.topics import ALERTS_TOPIC, alerts_dlq_topic
from evalstream.dashboards import catalog
from evalstream.notifiers.metrics import NotifyCollector
from evalstream.notifiers.service import NotifyStats

KAFKA_EXPORTER_METRICS = {"kafka_topic_partition_current_offset", "kafka_consumergroup_lag"}  # danielqsj/kafka-exporter's names
PROMQL_FUNCTIONS = {"sum", "by", "increase", "rate", "max", "histogram_quantile"}


def prometheus_rules() -> dict[str, dict[str, Any]]:
    return {r["uid"]: r for g in catalog.alert_rule_groups() for r in g["rules"]
            if any(d.get("datasourceUid") == catalog.PROMETHEUS_DATASOURCE_UID for d in r["data"])}


def notifier_metric_names() -> set[str]:
    stats = NotifyStats()
    for counter in (stats.delivered_by_channel, stats.failed_by_channel, stats.retried_by_channel, stats.fallback_by_channel):
        counter["slack"] = 1
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NotifyCollector(stats))
    return set(re.findall(r"^(\w+)(?:\{| )", generate_latest(registry).decode(), re.M))


def metric_names(expr: str) -> set[str]:
    without_labels = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", expr)
    return {name for name in re.findall(r"[a-zA-Z_:][\w:]*", without_labels) if name not in PROMQL_FUNCTIONS and not re.fullmatch(r"topic|partition|channel|le|stage|scorer|reason|state", name)}


def test_the_delivery_rules_are_shaped_for_grafana_and_watch_the_right_topic_and_group() -> None:
    (group,) = [g for g in catalog.alert_rule_groups() if g["name"] == "evalstream-delivery"]
    assert group["folder"] == catalog.FOLDER_TITLE and catalog.duration_seconds(group["interval"]) == 60
    rules = prometheus_rules()
    assert set(rules) == {"evalstream-alerts-dlq", "evalstream-consumer-lag"}
    for rule in rules.values():
        refs = {d["refId"]: d for d in rule["data"]}
        assert refs["A"]["model"]["instant"] and refs["A"]["relativeTimeRange"]["from"] > refs["A"]["relativeTimeRange"]["to"] == 0
        assert refs["B"]["model"] == {"refId": "B", "type": "reduce", "expression": "A", "reducer": "last", "settings": {"mode": "dropNN"}}
        assert rule["condition"] == "C" and refs["C"]["model"]["type"] == "threshold" and refs["C"]["model"]["expression"] == "B"
        catalog.duration_seconds(rule["for"])
        assert "$" not in json.dumps({k: v for k, v in rule.items() if k != "annotations"}), rule["uid"]  # Grafana would expand it
        assert metric_names(refs["A"]["model"]["expr"]) <= KAFKA_EXPORTER_METRICS, rule["uid"]
        assert rule["annotations"]["__dashboardUid__"] in {b["uid"] for b in catalog.load_boards()}

    dlq = rules["evalstream-alerts-dlq"]
    assert f'topic="{alerts_dlq_topic(ALERTS_TOPIC)}"' in dlq["data"][0]["model"]["expr"]
    assert dlq["data"][2]["model"]["conditions"][0]["evaluator"] == {"type": "gt", "params": [0]}  # one dead letter is one too many
    lag = rules["evalstream-consumer-lag"]
    assert f'consumergroup="{WorkerSettings.model_fields["group_id"].default}"' in lag["data"][0]["model"]["expr"]


def test_the_delivery_panels_read_metrics_that_are_exported() -> None:
    exported = notifier_metric_names() | KAFKA_EXPORTER_METRICS
    assert {"evalstream_notify_failures_total", "evalstream_notify_fallbacks_total", "evalstream_notify_retried_total"} <= exported
    boards = {b["uid"]: b for b in catalog.load_boards()}
    wanted = {
        ("evalstream-alerts", "Alerts not delivered (alerts DLQ) and channel failures"),
        ("evalstream-pipeline", "Scoring workers' lag by partition (alert above 50,000)"),
        ("evalstream-pipeline", "Notifier deliveries and failures per channel"),
    }
    for uid, title in wanted:
        (panel,) = [p for p in catalog.panels(boards[uid]) if p["title"] == title]
        for target in panel["targets"]:
            assert metric_names(target["expr"]) <= exported, (title, target["expr"])
    variables = {v["name"]: v for v in boards["evalstream-alerts"]["templating"]["list"]}
    assert variables["alerts_dlq_topic"]["current"]["value"] == alerts_dlq_topic(ALERTS_TOPIC)
    lag_panel = next(p for p in catalog.panels(boards["evalstream-pipeline"]) if p["title"].startswith("Scoring workers' lag"))
    rule_threshold = prometheus_rules()["evalstream-consumer-lag"]["data"][2]["model"]["conditions"][0]["evaluator"]["params"][0]
    assert lag_panel["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"] == rule_threshold  # the red line is the rule's
