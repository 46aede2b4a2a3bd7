"""Running a board's queries as Grafana would, and what each query must return."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from dashboards_data import NOW
from evalstream.dashboards import catalog
from evalstream.dashboards.sql import TimeRange, Variable, expand

# What each query must return. A query missing here, or declared here but gone from the boards,
# fails test_every_query_is_declared.

SERIES = ["time", "breakdown"]
KEY_VARIABLES = {("variable", v): [v] for v in ("tenant", "app", "region", "model")}
ALERT_ANNOTATION = {("annotation", "Drift alerts"): ["time", "text", "tags"]}

EXPECTED_COLUMNS: dict[str, dict[tuple[str, str], list[str]]] = {
    "evalstream-overview": {
        ("panel", "Events"): ["event_count"],
        ("panel", "Toxic responses"): ["toxic_rate"],
        ("panel", "Faithfulness"): ["faithfulness_mean"],
        ("panel", "Relevance"): ["relevance_mean"],
        ("panel", "Unfaithful answers"): ["unfaithful_rate"],
        ("panel", "Refusals"): ["refusal_rate"],
        ("panel", "Cost"): ["cost_usd_total"],
        ("panel", "Events with unknown cost"): ["unknown_cost_event_count"],
        ("panel", "Volume (events/min) by ${group_by}"): [*SERIES, "events_per_min"],
        ("panel", "Toxicity rate by ${group_by}"): [*SERIES, "toxic_rate"],
        ("panel", "Faithfulness by ${group_by}"): [*SERIES, "faithfulness_mean"],
        ("panel", "Relevance by ${group_by}"): [*SERIES, "relevance_mean"],
        ("panel", "Unfaithful rate by ${group_by}"): [*SERIES, "unfaithful_rate"],
        ("panel", "Refusal rate by ${group_by}"): [*SERIES, "refusal_rate"],
        ("panel", "Cost per hour (USD) by ${group_by}"): [*SERIES, "cost_usd_per_hour"],
        ("panel", "Latency p95 (ms) by ${group_by}"): [*SERIES, "latency_p95_ms"],
        ("variable", "rollup"): ["rollup"],
        **KEY_VARIABLES,
        **ALERT_ANNOTATION,
    },
    "evalstream-models": {
        ("panel", "Quality and cost by model and prompt version"): [
            "model", "prompt_version", "event_count", "toxic_rate", "faithfulness_mean", "faithfulness_p10",
            "relevance_mean", "latency_p95_ms", "cost_usd_total", "cost_usd_per_1k_events", "unknown_cost_event_count",
        ],
        ("panel", "Quality against cost"): ["variant", "cost_usd_per_1k_events", "faithfulness_mean"],
        ("panel", "Flag rates by model and prompt version"): ["model", "prompt_version", "event_count", "unfaithful_rate", "refusal_rate"],
        ("panel", "Faithfulness by model / prompt version"): [*SERIES, "faithfulness_mean"],
        ("panel", "Toxicity rate by model / prompt version"): [*SERIES, "toxic_rate"],
        ("panel", "Cost per hour (USD) by model / prompt version"): [*SERIES, "cost_usd_per_hour"],
        ("panel", "Human feedback against the scorers"): [
            "model", "prompt_version", "label", "labels", "human_mean", "scorer_mean", "agreement",
        ],
        ("panel", "Scorer agreement with human labels"): [
            "use_case", "label", "labels", "positives", "roc_auc", "flag_precision", "flag_recall", "evidence",
        ],
        ("panel", "Model options per use case: quality, cost and evidence"): [
            "use_case", "model", "prompt_version", "event_count", "unfaithful_rate", "unfaithful_rate_upper95", "toxic_rate",
            "toxic_rate_upper95", "cost_usd_per_1k_events", "latency_p95_ms", "evidence",
        ],
        ("variable", "rollup"): ["rollup"],
        **KEY_VARIABLES,
        **ALERT_ANNOTATION,
    },
    "evalstream-alerts": {
        ("panel", "Firing now"): ["firing_alerts"],
        ("panel", "Alerts firing now"): [
            "fingerprint", "tenant", "app", "model", "prompt_version", "region", "current_severity", "firing_since",
            "drifted_statistic", "in_window", "baseline", "n", "alert_summary", "runbook",
        ],
        ("panel", "Fired / resolved in the range"): ["fired", "resolved"],
        ("panel", "Alerts fired by severity"): ["time", "breakdown", "fired"],
        ("panel", "Alert events"): [
            "time", "state", "severity", "tenant", "app", "use_case", "model", "prompt_version", "region", "statistic",
            "detector", "window_value", "baseline_value", "sample_size", "p_value", "summary", "runbook_url",
            "sample_events", "policy", "fingerprint",
        ],
        **KEY_VARIABLES,
        **ALERT_ANNOTATION,
    },
    "evalstream-pipeline": {
        ("panel", "Freshness p99"): ["freshness_p99_s"],
        ("panel", "Since the last stored row"): ["seconds_since_last_row"],
        ("panel", "Freshness (s): event time to row stored"): ["time", "p50", "p90", "p99", "worst"],
        ("panel", "Rows stored per minute by partition"): [*SERIES, "rows_per_min"],
        ("panel", "LLM call errors by model"): [*SERIES, "error_rate"],
        ("panel", "Events with unknown-model cost by model"): [*SERIES, "unknown_cost_rate"],
        ("variable", "rollup"): ["rollup"],
        **KEY_VARIABLES,
    },
}
# Consumer lag and dead letters are Kafka metrics: Prometheus (kafka-exporter) panels.
PROMETHEUS_PANELS = {
    ("evalstream-pipeline", "Consumer lag (messages)"),
    ("evalstream-pipeline", "Dead letters per second"),
    ("evalstream-pipeline", "Dead-letter share of input"),
    ("evalstream-pipeline", "Worker events per second by outcome"),
    ("evalstream-pipeline", "Batch time by stage (p95, s)"),
    ("evalstream-pipeline", "Scorer time per batch (p95, s)"),
    ("evalstream-pipeline", "Embedding cache hit rate"),
    ("evalstream-pipeline", "Commit lag by partition (workers)"),
    ("evalstream-pipeline", "Notifier deliveries and failures per channel"),
    ("evalstream-pipeline", "Drift evaluations and alerts"),
    ("evalstream-pipeline", "Scoring workers' lag by partition (alert above 50,000)"),
    ("evalstream-alerts", "Alerts not delivered (alerts DLQ) and channel failures"),
}

@dataclass(frozen=True)
class Scenario:
    name: str
    time_range: TimeRange
    selected: dict[str, tuple[str, ...]] = field(default_factory=dict)  # variables not named here: All


SCENARIOS = [
    Scenario("last 6 h", TimeRange(NOW - timedelta(hours=6), NOW, 30)),
    Scenario("last 3 days", TimeRange(NOW - timedelta(days=3), NOW, 600)),
    Scenario("last 6 h, one tenant, two models", TimeRange(NOW - timedelta(hours=6), NOW, 30),
             {"tenant": ("acme",), "model": ("gpt-4o-mini", "gpt-4.1")}),
]


def resolve_variables(client, board: dict[str, Any], scenario: Scenario) -> dict[str, Variable]:
    """The board's template variables in order, as Grafana resolves them: a query variable's
    options come from running its own query with the variables before it."""
    variables: dict[str, Variable] = {}
    for variable in board["templating"]["list"]:
        name = variable["name"]
        if variable["type"] == "custom":
            variables[name] = Variable.of(variable["current"]["value"])
        elif variable["type"] == "query":
            options = [str(row[0]) for row in client.query(expand(variable["query"], scenario.time_range, variables)).result_rows]
            if name in scenario.selected:
                assert set(scenario.selected[name]) <= set(options), f"{name}: {scenario.selected[name]} not in {options}"
                variables[name] = Variable.of(*scenario.selected[name])
            elif variable.get("includeAll"):
                variables[name] = Variable.all_of(options)
            else:
                variables[name] = Variable.of(options[0])
    return variables


NUMERIC = re.compile(r"^(Nullable\()?(U?Int\d+|Float\d+|Decimal)")


def query_problems(client, query: catalog.Query, sql: str, expected: list[str]) -> tuple[list[str], int]:
    """What is wrong with one expanded query, and how many rows it returned."""
    try:
        described = [(row[0], row[1]) for row in client.query(f"DESCRIBE ({sql})").result_rows]
        rows = len(client.query(sql).result_rows)
    except Exception as exc:  # noqa: BLE001 -- whatever ClickHouse says is the finding
        return [f"fails: {str(exc).splitlines()[0][:300]}"], 0
    names = [n for n, _ in described]
    problems = [] if names == expected else [f"returns {names}, the panel expects {expected}"]
    if query.query_type == "timeSeries":
        types = dict(described)
        if not types.get("time", "").startswith("DateTime"):
            problems.append(f"a time series needs a DateTime column `time`, got {types.get('time')}")
        for name, type_ in described:
            if name not in ("time", "breakdown") and not NUMERIC.match(type_):
                problems.append(f"value column {name} is {type_}, not a number")
    return problems, rows


def expected_columns(query: catalog.Query) -> list[str]:
    return EXPECTED_COLUMNS[query.board][(query.kind, query.name)]
