"""The Grafana alert rules: shaped as Grafana's provisioning wants them, their queries run on chdb
over seeded data, and they fire for the planted breaches only."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from dashboards_data import HEALTHY_KEY, NOW, REFUSAL_KEY, TOXIC_KEY, UNFAITHFUL_KEY, event_row, new_database, seeded  # noqa: F401 (seeded: a fixture)
from dashboards_queries import NUMERIC
from evalstream.dashboards import catalog


def rules() -> list[dict[str, Any]]:
    """The rules over ClickHouse (those over Prometheus: test_notify_alerting.py)."""
    return [rule for group in catalog.alert_rule_groups() for rule in group["rules"] if catalog.rule_sql(rule)]


def firing(client, rule: dict[str, Any]) -> tuple[list[str], list[tuple]]:
    """Evaluates a rule as Grafana does with table data: one instance per row, labelled by its
    string columns; B takes the number (reduce), C compares it with the threshold."""
    (sql,) = catalog.rule_sql(rule).values()
    result = client.query(sql)
    threshold = next(d["model"] for d in rule["data"] if d["refId"] == rule["condition"])
    evaluator = threshold["conditions"][0]["evaluator"]
    compare = {"gt": lambda v: v > evaluator["params"][0], "lt": lambda v: v < evaluator["params"][0]}[evaluator["type"]]
    names = list(result.column_names)
    return names, [tuple(row[:-1]) for row in result.result_rows if row[-1] is not None and compare(row[-1])]


def test_alert_rules_are_shaped_for_grafana() -> None:
    (group,) = [g for g in catalog.alert_rule_groups() if g["name"] == "evalstream-slo"]
    assert group["folder"] == catalog.FOLDER_TITLE and catalog.duration_seconds(group["interval"]) == 60
    assert {r["uid"] for r in rules()} == {"evalstream-toxicity-rate", "evalstream-unfaithful-rate", "evalstream-refusal-rate", "evalstream-freshness"}
    for rule in rules():
        refs = {d["refId"]: d for d in rule["data"]}
        assert refs["A"]["datasourceUid"] == catalog.CLICKHOUSE_DATASOURCE_UID
        assert refs["A"]["relativeTimeRange"]["from"] > refs["A"]["relativeTimeRange"]["to"] == 0
        assert refs["B"]["model"]["type"] == "reduce" and refs["B"]["model"]["expression"] == "A"
        assert rule["condition"] == "C" and refs["C"]["model"]["type"] == "threshold" and refs["C"]["model"]["expression"] == "B"
        assert rule["noDataState"] in ("OK", "NoData", "Alerting", "KeepLast") and rule["execErrState"] in ("Error", "Alerting", "OK", "KeepLast")
        catalog.duration_seconds(rule["for"])
        # Grafana expands $VARS in provisioning files everywhere but annotations
        interpolated = json.dumps({k: v for k, v in rule.items() if k != "annotations"})
        assert "$" not in interpolated, rule["uid"]


def test_alert_rule_queries_return_labels_and_one_number(seeded) -> None:
    for rule in rules():
        (sql,) = catalog.rule_sql(rule).values()
        described = [(row[0], row[1]) for row in seeded.query(f"DESCRIBE ({sql})").result_rows]
        *labels, (value_name, value_type) = described
        assert NUMERIC.match(value_type), (rule["uid"], described)
        assert all(t in ("String", "LowCardinality(String)") for _, t in labels), (rule["uid"], described)


def test_alert_rules_fire_for_the_planted_breaches_only(seeded) -> None:
    by_uid = {r["uid"]: r for r in rules()}
    names, toxic = firing(seeded, by_uid["evalstream-toxicity-rate"])
    assert names == ["tenant", "app", "model", "region", "toxic_rate"]
    assert toxic == [TOXIC_KEY]
    _, unfaithful = firing(seeded, by_uid["evalstream-unfaithful-rate"])
    assert unfaithful == [UNFAITHFUL_KEY]
    _, refusing = firing(seeded, by_uid["evalstream-refusal-rate"])
    assert refusing == [REFUSAL_KEY]
    _, stale = firing(seeded, by_uid["evalstream-freshness"])
    assert stale == []


def test_the_freshness_rule_fires_on_a_backlog_and_on_silence() -> None:
    rule = next(r for r in rules() if r["uid"] == "evalstream-freshness")
    name, sink = new_database()
    try:
        (sql,) = catalog.rule_sql(rule).values()
        assert sink.client.query(sql).result_rows == []  # nothing stored: no data ...
        assert rule["noDataState"] == "Alerting"  # ... which alerts
        late = [{**event_row(i, NOW - timedelta(seconds=90), HEALTHY_KEY, "7", toxic=False, faithfulness=0.7), "ingested_at": NOW}
                for i in range(50)]
        sink.write(late)
        assert firing(sink.client, rule)[1] == [()]
    finally:
        sink.client.command(f"DROP DATABASE {name} SYNC")


