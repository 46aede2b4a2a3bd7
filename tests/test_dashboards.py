"""Grafana boards, alert rules, `dashboards push` and the compose stack, checked without Grafana.

Every ClickHouse query of every board (panels, annotations, variables) and of every alert rule
is expanded as Grafana would expand it and run on chdb over seeded data; its columns must be
the ones declared below for it, so a panel whose query a schema change breaks fails here.
`dashboards push` runs against a local HTTP server speaking the few endpoints of Grafana's API
it uses. The compose file is checked by reading it: no Docker engine runs here.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import clickhouse_connect
import pytest
import yaml
from typer.testing import CliRunner

from evalstream.dashboards import catalog
from evalstream.dashboards.push import clickhouse_datasource, prometheus_datasource, push
from evalstream.dashboards.sql import ExpansionError, TimeRange, Variable, expand
from evalstream.sinks import ClickHouseSink

REPO = Path(__file__).resolve().parents[1]
# chdb opens one data directory per process: each group of tests here gets a database in it.
CHDB_DIR = Path(tempfile.gettempdir()) / f"evalstream-tests-chdb-{os.getpid()}"
atexit.register(shutil.rmtree, CHDB_DIR, True)

# Migration 005 (alerts) belongs to the drift work; until it lands the tests create its table.
ALERTS_DDL = """CREATE TABLE IF NOT EXISTS alerts (fingerprint String, ts DateTime64(3,'UTC'),
 state LowCardinality(String), severity LowCardinality(String), tenant LowCardinality(String),
 app LowCardinality(String), use_case LowCardinality(String), model LowCardinality(String),
 prompt_version LowCardinality(String), region LowCardinality(String), statistic LowCardinality(String),
 detector LowCardinality(String), window_value Float64, baseline_value Float64, sample_size UInt32,
 p_value Float64, sample_event_ids Array(String), policy String, runbook_url String, summary String)
ENGINE = MergeTree ORDER BY (tenant, ts, fingerprint)"""

# ---------------------------------------------------------------------------------------------
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
        ("panel", "Cost"): ["cost_usd_total"],
        ("panel", "Events with unknown cost"): ["unknown_cost_event_count"],
        ("panel", "Volume (events/min) by ${group_by}"): [*SERIES, "events_per_min"],
        ("panel", "Toxicity rate by ${group_by}"): [*SERIES, "toxic_rate"],
        ("panel", "Faithfulness by ${group_by}"): [*SERIES, "faithfulness_mean"],
        ("panel", "Relevance by ${group_by}"): [*SERIES, "relevance_mean"],
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
        ("panel", "Faithfulness by model / prompt version"): [*SERIES, "faithfulness_mean"],
        ("panel", "Toxicity rate by model / prompt version"): [*SERIES, "toxic_rate"],
        ("panel", "Cost per hour (USD) by model / prompt version"): [*SERIES, "cost_usd_per_hour"],
        ("panel", "Human feedback against the scorers"): [
            "model", "prompt_version", "label", "labels", "human_mean", "scorer_mean", "agreement",
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
}

# ---------------------------------------------------------------------------------------------
# Seeded data: three days of traffic over several keys, and in the last minutes three dense keys
# for the alert rules: TOXIC_KEY (20% toxic), UNFAITHFUL_KEY (faithfulness 0.25), HEALTHY_KEY.

NOW = datetime.now(timezone.utc).replace(microsecond=0)
HOUR = NOW.replace(minute=0, second=0)
TOXIC_KEY = ("acme", "support-bot", "gpt-4o-mini", "eu")
UNFAITHFUL_KEY = ("globex", "doc-search", "gpt-4.1", "us")
HEALTHY_KEY = ("acme", "doc-search", "gpt-4.1", "us")


def event_row(offset: int, ts: datetime, key: tuple[str, str, str, str], prompt_version: str, *, toxic: bool,
              faithfulness: float | None, partition: int = 0) -> dict[str, Any]:
    tenant, app, model, region = key
    unknown_model = model == "in-house-llm"
    # scores on a 1/1024 grid: float sums are exact, so rollup and raw answers compare exactly
    return {
        "event_id": uuid.uuid4(), "ts": ts, "tenant": tenant, "app": app, "environment": "prod", "region": region,
        "use_case": "rag-qa", "provider": "openai", "model": model, "prompt_id": "answer", "prompt_version": prompt_version,
        "prompt": "q", "context": [] if faithfulness is None else ["ctx"], "response": "a", "has_context": faithfulness is not None,
        "latency_ms": float(300 + offset % 50 * 20) if offset % 9 else None, "error_type": "" if offset % 23 else "timeout",
        "input_tokens": 700 + offset % 100, "output_tokens": 120, "cost_usd": None if unknown_model else Decimal("0.000231") + Decimal(offset % 7) / Decimal(10**9),
        "cost_unknown_model": unknown_model, "toxicity": (offset * 37 % 512) / 1024 + (0.5 if toxic else 0.0), "toxic": toxic,
        "faithfulness": faithfulness, "relevance": (offset * 59 % 1024) / 1024,
        "source_topic": "genai.events", "source_partition": partition, "source_offset": offset,
        "ingested_at": ts + timedelta(milliseconds=150 + offset % 8 * 100),
    }


def seeded_rows() -> list[dict[str, Any]]:
    tenants, apps, models, regions = ("acme", "globex"), ("support-bot", "doc-search"), ("gpt-4o-mini", "gpt-4.1", "in-house-llm"), ("eu", "us")
    rows, offset = [], 0
    background = 2400
    for i in range(background):  # one event every 108 s over the last three days
        key = (tenants[i % 2], apps[i // 2 % 2], models[i % 3], regions[i // 3 % 2])
        faithfulness = None if i % 4 == 0 else ((i * 101 % 512) + 400) / 1024
        rows.append(event_row(offset, NOW - timedelta(days=3) + timedelta(seconds=108 * i), key, ("7", "8")[i // 7 % 2],
                              toxic=i % 40 == 0, faithfulness=faithfulness, partition=i % 4))
        offset += 1
    for key, toxic_every, faithfulness in ((TOXIC_KEY, 5, 0.75), (UNFAITHFUL_KEY, 10**6, 0.25), (HEALTHY_KEY, 100, 0.75)):
        for i in range(250):  # 250 events in the last ~8 minutes
            rows.append(event_row(offset, NOW - timedelta(seconds=480 - i * 1.9), key, "7", toxic=i % toxic_every == 0,
                                  faithfulness=faithfulness, partition=offset % 4))
            offset += 1
    return rows


def alert_rows() -> list[list[Any]]:
    def alert(fingerprint, ts, state, severity, key, statistic, window, baseline):
        tenant, app, model, region = key
        return [fingerprint, ts, state, severity, tenant, app, "rag-qa", model, "7", region, statistic, "two-proportion-z",
                window, baseline, 1240, 0.0004, ["e1", "e2"], "global/eu", "https://runbooks.example.com/t", f"{statistic} drifted"]

    return [
        alert("fp-toxic", NOW - timedelta(hours=2), "firing", "critical", TOXIC_KEY, "toxicity_rate", 0.061, 0.004),
        alert("fp-old", NOW - timedelta(hours=30), "firing", "warning", UNFAITHFUL_KEY, "faithfulness_mean", 0.42, 0.71),
        alert("fp-old", NOW - timedelta(hours=26), "resolved", "warning", UNFAITHFUL_KEY, "faithfulness_mean", 0.70, 0.71),
    ]


ALERT_COLUMNS = ["fingerprint", "ts", "state", "severity", "tenant", "app", "use_case", "model", "prompt_version", "region",
                 "statistic", "detector", "window_value", "baseline_value", "sample_size", "p_value", "sample_event_ids",
                 "policy", "runbook_url", "summary"]


def new_database() -> tuple[str, Any]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    clickhouse_connect.get_client(dsn=f"chdb://{CHDB_DIR}").command(f"CREATE DATABASE {name}")
    dsn = f"chdb://{CHDB_DIR}?database={name}"
    sink = ClickHouseSink(dsn)  # applies the migrations
    sink.client.command(ALERTS_DDL)
    return name, sink


@pytest.fixture(scope="module")
def seeded() -> Iterator[Any]:
    name, sink = new_database()
    rows = seeded_rows()
    for start in range(0, len(rows), 500):
        sink.write(rows[start:start + 500])
    labelled = [r for r in rows[:2400:23] if r["faithfulness"] is not None]  # across the three days
    feedback = [[r["event_id"], r["ts"], r["ts"] + timedelta(hours=1), r["tenant"], r["app"], label, value, "ann-1", ""]
                for r in labelled for label, value in (("toxic", float(r["toxic"])), ("faithful", 1.0 if r["faithfulness"] >= 0.6 else 0.0))]
    sink.client.insert("feedback", feedback, column_names=["event_id", "event_ts", "ts", "tenant", "app", "label", "value", "annotator", "comment"])
    sink.client.insert("alerts", alert_rows(), column_names=ALERT_COLUMNS)
    yield sink.client
    sink.client.command(f"DROP DATABASE {name} SYNC")


# ---------------------------------------------------------------------------------------------
# Running a board's queries as Grafana would.


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


RANGE = TimeRange(datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc), datetime(2026, 3, 1, 16, 0, 30, tzinfo=timezone.utc), 20)


def test_macros_expand_to_the_plugins_sql() -> None:
    assert expand("WHERE $__timeFilter(ts)", RANGE) == "WHERE ts >= toDateTime(1772359200) AND ts <= toDateTime(1772380830)"
    assert expand("$__fromTime, $__toTime, $__fromTime_ms, $__interval_s", RANGE) == (
        "toDateTime(1772359200), toDateTime(1772380830), fromUnixTimestamp64Milli(1772359200000), 20")
    assert expand("$__timeInterval(ts)", RANGE) == "toStartOfInterval(toDateTime(ts), INTERVAL 20 second)"
    assert expand("${__from} ${__to}", RANGE) == "1772359200000 1772380830000"


def test_variables_expand_as_grafana_formats_them() -> None:
    condition = "$__conditionalAll(tenant IN (${tenant:singlequote}), $tenant)"
    assert expand(condition, RANGE, {"tenant": Variable.of("acme", "o'neil")}) == "tenant IN ('acme','o\\'neil')"
    assert expand(condition, RANGE, {"tenant": Variable.all_of(["acme", "globex"])}) == "1=1"
    assert expand("FROM scored_events_${rollup}", RANGE, {"rollup": Variable.of("1h")}) == "FROM scored_events_1h"


@pytest.mark.parametrize("sql, variables, error", [
    ("WHERE app = $app", {}, "undefined variable"),
    ("WHERE app IN ($app)", {"app": Variable.of("a", "b")}, "singlequote"),
    ("WHERE $__timeFilter_s(ts)", {}, "unknown macro"),
    ("WHERE app = '${app:csv}'", {"app": Variable.of("a")}, "format"),
    ("WHERE $__unknownMacro", {}, "unexpanded"),
])
def test_what_grafana_would_not_expand_is_an_error(sql: str, variables: dict, error: str) -> None:
    with pytest.raises(ExpansionError, match=error):
        expand(sql, RANGE, variables)


def board_queries() -> list[catalog.Query]:
    return [q for board in catalog.load_boards() for q in catalog.clickhouse_queries(board)]


def test_every_query_is_declared() -> None:
    found = {(q.board, q.kind, q.name) for q in board_queries()}
    declared = {(board, kind, name) for board, queries in EXPECTED_COLUMNS.items() for kind, name in queries}
    assert found == declared
    other = {(b["uid"], p["title"]) for b in catalog.load_boards() for p in catalog.panels(b)
             if p["datasource"]["type"] != catalog.CLICKHOUSE_PLUGIN}
    assert other == PROMETHEUS_PANELS


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
@pytest.mark.parametrize("board", catalog.load_boards(), ids=lambda b: b["uid"])
def test_board_queries_run_and_return_the_columns_their_panels_expect(seeded, board: dict[str, Any], scenario: Scenario) -> None:
    variables = resolve_variables(seeded, board, scenario)
    problems = []
    for query in catalog.clickhouse_queries(board):
        if query.kind == "variable":
            continue
        group_bys = [Variable.of(o["value"]) for v in board["templating"]["list"] if v["name"] == "group_by" for o in v["options"]]
        for group_by in group_bys if "${group_by}" in query.sql else [None]:
            values = {**variables, "group_by": group_by} if group_by else variables
            found, rows = query_problems(seeded, query, expand(query.sql, scenario.time_range, values), expected_columns(query))
            if not scenario.selected and rows == 0:
                found.append("returns no rows on the seeded data")
            problems += [f"{query.kind} {query.name!r}{f' by {group_by.values[0]}' if group_by else ''}: {p}" for p in found]
    assert not problems, "\n".join(problems)


def test_variable_queries_return_their_values(seeded) -> None:
    scenario = SCENARIOS[0]
    for board in catalog.load_boards():
        variables = resolve_variables(seeded, board, scenario)
        for query in catalog.clickhouse_queries(board):
            if query.kind == "variable":
                problems, _ = query_problems(seeded, query, expand(query.sql, scenario.time_range, variables), expected_columns(query))
                assert not problems, (board["uid"], query.name, problems)
        if "tenant" in variables:
            assert set(variables["tenant"].values) == {"acme", "globex"}
            assert set(variables["model"].values) == {"gpt-4o-mini", "gpt-4.1", "in-house-llm"}


def test_the_rollup_variable_picks_minutes_for_short_recent_ranges_and_hours_otherwise(seeded) -> None:
    (overview,) = [b for b in catalog.load_boards() if b["uid"] == "evalstream-overview"]
    (rollup,) = [v for v in overview["templating"]["list"] if v["name"] == "rollup"]
    assert rollup["refresh"] == 2  # re-evaluated on every time range change

    def picked(start: datetime, end: datetime) -> str:
        return seeded.query(expand(rollup["query"], TimeRange(start, end))).result_rows[0][0]

    assert picked(NOW - timedelta(hours=6), NOW) == "1m"
    assert picked(NOW - timedelta(days=2), NOW) == "1m"
    assert picked(NOW - timedelta(days=3), NOW) == "1h"
    assert picked(NOW - timedelta(days=40), NOW - timedelta(days=39, hours=20)) == "1h"  # past the minute rollup's TTL


# The same numbers straight from the raw rows, for the overview's stat panels.
RAW_OVERVIEW = {
    "Events": "count()",
    "Toxic responses": "sum(toxic) / count()",
    "Faithfulness": "avg(faithfulness)",
    "Relevance": "avg(relevance)",
    "Cost": "sum(cost_usd)",
    "Events with unknown cost": "countIf(cost_unknown_model = 1)",
}


@pytest.mark.parametrize("rollup", ["1m", "1h"])
def test_overview_numbers_are_the_raw_tables_numbers(seeded, rollup: str) -> None:
    (overview,) = [b for b in catalog.load_boards() if b["uid"] == "evalstream-overview"]
    # Whole hours, so both rollups cover exactly the raw rows of the range.
    start, end = HOUR - timedelta(hours=48), HOUR - timedelta(seconds=1)
    time_range = TimeRange(start, end, 60)
    tenants = Variable.all_of(["acme", "globex"])
    variables = {"rollup": Variable.of(rollup), "tenant": tenants, "app": Variable.of("support-bot"),
                 "region": Variable.all_of(["eu", "us"]), "model": Variable.all_of(["gpt-4o-mini", "gpt-4.1", "in-house-llm"])}
    stats = {p["title"]: p["targets"][0]["rawSql"] for p in catalog.panels(overview) if p["type"] == "stat"}
    assert set(stats) == set(RAW_OVERVIEW)
    for title, raw_expression in RAW_OVERVIEW.items():
        (panel_value,) = seeded.query(expand(stats[title], time_range, variables)).result_rows[0]
        (raw_value,) = seeded.query(
            f"SELECT {raw_expression} FROM scored_events WHERE ts >= {{s:DateTime64(3)}} AND ts < {{e:DateTime64(3)}} AND app = 'support-bot'",
            parameters={"s": start, "e": HOUR},
        ).result_rows[0]
        assert panel_value == raw_value, title
        assert raw_value  # the range holds data
    (cost,) = seeded.query(expand(stats["Cost"], time_range, variables)).result_rows[0]
    assert isinstance(cost, Decimal)


def test_a_schema_change_breaks_the_panels_that_read_it(seeded) -> None:
    name, sink = new_database()
    try:
        for table in ("scored_events_1m", "scored_events_1h"):
            sink.client.command(f"ALTER TABLE {table} RENAME COLUMN toxic_events TO toxic_flags")
        (overview,) = [b for b in catalog.load_boards() if b["uid"] == "evalstream-overview"]
        scenario = SCENARIOS[1]
        variables = resolve_variables(sink.client, overview, scenario) | {"group_by": Variable.of("model")}
        broken = set()
        for query in catalog.clickhouse_queries(overview):
            problems, _ = query_problems(sink.client, query, expand(query.sql, scenario.time_range, variables), expected_columns(query))
            if problems:
                broken.add(query.name)
        assert broken == {"Toxic responses", "Toxicity rate by ${group_by}"}
    finally:
        sink.client.command(f"DROP DATABASE {name} SYNC")


# ---------------------------------------------------------------------------------------------
# Alert rules.


def rules() -> list[dict[str, Any]]:
    return [rule for group in catalog.alert_rule_groups() for rule in group["rules"]]


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
    (group,) = catalog.alert_rule_groups()
    assert group["folder"] == catalog.FOLDER_TITLE and catalog.duration_seconds(group["interval"]) == 60
    assert {r["uid"] for r in rules()} == {"evalstream-toxicity-rate", "evalstream-faithfulness", "evalstream-freshness"}
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
    _, unfaithful = firing(seeded, by_uid["evalstream-faithfulness"])
    assert unfaithful == [UNFAITHFUL_KEY]
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


# ---------------------------------------------------------------------------------------------
# Provisioning files and boards agree with each other.


def test_boards_use_the_provisioned_datasources_and_folder() -> None:
    datasources = {d["uid"]: d for d in catalog.datasources()}
    assert datasources[catalog.CLICKHOUSE_DATASOURCE_UID]["type"] == catalog.CLICKHOUSE_PLUGIN
    assert datasources[catalog.PROMETHEUS_DATASOURCE_UID]["type"] == "prometheus"
    (provider,) = [p for doc in catalog.load_provisioning("dashboards") for p in doc["providers"]]
    assert provider["folderUid"] == catalog.FOLDER_UID and provider["folder"] == catalog.FOLDER_TITLE
    uids = [b["uid"] for b in catalog.load_boards()]
    assert len(uids) == len(set(uids)) == 4
    for board in catalog.load_boards():
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["current"]["value"] == catalog.CLICKHOUSE_DATASOURCE_UID
        for variable in ("tenant", "app", "region", "model"):
            assert variables[variable]["multi"] and variables[variable]["includeAll"], (board["uid"], variable)
        ids = [p["id"] for p in catalog.panels(board)]
        assert len(ids) == len(set(ids)), board["uid"]
        for panel in catalog.panels(board):
            uid = panel["datasource"]["uid"]
            assert uid in ("${datasource}", "${prometheus}"), (board["uid"], panel["title"])
            if uid == "${prometheus}":
                assert variables["prometheus"]["current"]["value"] == catalog.PROMETHEUS_DATASOURCE_UID
            named = [o["matcher"]["options"] for o in panel["fieldConfig"]["overrides"] if o["matcher"]["id"] == "byName"]
            if named:  # an override must name a column the panel's query returns
                (query,) = [q for q in catalog.clickhouse_queries(board) if q.kind == "panel" and q.name == panel["title"]]
                assert set(named) <= set(expected_columns(query)), (board["uid"], panel["title"])


# ---------------------------------------------------------------------------------------------
# `dashboards push` against a local stand-in for Grafana's HTTP API.

TOKEN = "glsa_test_token"


class FakeGrafana:
    """The endpoints of Grafana's HTTP API that a push uses, answering as Grafana does: 404 for
    what does not exist, ids and versions added, secrets kept write-only, rule durations in Go's
    form ('5m0s'). It rejects what Grafana would reject and records every request."""

    NO_DATA_STATES = {"Alerting", "NoData", "OK", "KeepLast"}
    ERROR_STATES = {"Alerting", "Error", "OK", "KeepLast"}

    def __init__(self) -> None:
        self.folders: dict[str, dict] = {}
        self.datasources: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}
        self.rule_groups: dict[tuple[str, str], dict] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.next_id = 1

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path, _ in self.requests if method != "GET"]

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def handle(self, method: str, path: str, headers: Any, body: Any) -> tuple[int, Any]:
        self.requests.append((method, path, body))
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "Unauthorized"}
        if method in ("POST", "PUT") and not headers.get("Content-Type", "").startswith("application/json"):
            return 415, {"message": "expected JSON"}
        routes = [
            ("GET", r"/api/folders/([\w-]+)", self.get_folder),
            ("POST", r"/api/folders", self.create_folder),
            ("PUT", r"/api/folders/([\w-]+)", self.update_folder),
            ("GET", r"/api/datasources/uid/([\w-]+)", self.get_datasource),
            ("POST", r"/api/datasources", self.create_datasource),
            ("PUT", r"/api/datasources/uid/([\w-]+)", self.update_datasource),
            ("GET", r"/api/dashboards/uid/([\w-]+)", self.get_dashboard),
            ("POST", r"/api/dashboards/db", self.save_dashboard),
            ("GET", r"/api/v1/provisioning/folder/([\w-]+)/rule-groups/([\w-]+)", self.get_rule_group),
            ("PUT", r"/api/v1/provisioning/folder/([\w-]+)/rule-groups/([\w-]+)", self.put_rule_group),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match and method == route_method:
                return handler(*match.groups(), *((body,) if method != "GET" else ()))
        return 404, {"message": f"no route {method} {path}"}

    def get_folder(self, uid):
        return (200, self.folders[uid]) if uid in self.folders else (404, {"message": "folder not found"})

    def create_folder(self, body):
        if not body.get("title") or body.get("uid") in self.folders:
            return 409, {"message": "a folder with that uid or title exists"}
        folder = {"id": self._id(), "uid": body["uid"], "title": body["title"], "version": 1}
        self.folders[body["uid"]] = folder
        return 200, folder

    def update_folder(self, uid, body):
        if uid not in self.folders:
            return 404, {"message": "folder not found"}
        if not (body.get("overwrite") or body.get("version") == self.folders[uid]["version"]):
            return 412, {"message": "version mismatch"}
        self.folders[uid].update(title=body["title"], version=self.folders[uid]["version"] + 1)
        return 200, self.folders[uid]

    def _stored_datasource(self, body, previous=None):
        missing = {"name", "type", "access"} - set(body)
        if missing or body["access"] not in ("proxy", "direct"):
            return None
        secrets = dict((previous or {}).get("secureJsonFields", {}))
        secrets.update({k: True for k, v in (body.get("secureJsonData") or {}).items() if v})
        stored = {k: v for k, v in body.items() if k != "secureJsonData"}
        stored.update(id=(previous or {}).get("id") or self._id(), secureJsonFields=secrets, version=(previous or {}).get("version", 0) + 1,
                      orgId=1, readOnly=False, basicAuth=False, withCredentials=False)
        stored.setdefault("url", "")
        stored.setdefault("jsonData", {})
        return stored

    def get_datasource(self, uid):
        return (200, self.datasources[uid]) if uid in self.datasources else (404, {"message": "Data source not found"})

    def create_datasource(self, body):
        if body.get("uid") in self.datasources or any(d["name"] == body.get("name") for d in self.datasources.values()):
            return 409, {"message": "data source with the same name already exists"}
        stored = self._stored_datasource(body)
        if stored is None:
            return 400, {"message": "name, type and access are required"}
        self.datasources[body["uid"]] = stored
        return 200, {"datasource": stored, "id": stored["id"], "message": "Datasource added", "name": stored["name"]}

    def update_datasource(self, uid, body):
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        stored = self._stored_datasource({**body, "uid": uid}, self.datasources[uid])
        if stored is None:
            return 400, {"message": "name, type and access are required"}
        self.datasources[uid] = stored
        return 200, {"datasource": stored, "id": stored["id"], "message": "Datasource updated", "name": stored["name"]}

    def get_dashboard(self, uid):
        if uid not in self.dashboards:
            return 404, {"message": "Dashboard not found"}
        stored = self.dashboards[uid]
        return 200, {"dashboard": stored["dashboard"], "meta": {"folderUid": stored["folderUid"], "version": stored["dashboard"]["version"]}}

    def save_dashboard(self, body):
        dashboard = body.get("dashboard") or {}
        if not dashboard.get("uid") or not dashboard.get("title") or body.get("folderUid") not in self.folders:
            return 400, {"message": "dashboard needs uid and title, and folderUid an existing folder"}
        previous = self.dashboards.get(dashboard["uid"])
        if previous and not body.get("overwrite"):
            return 412, {"message": "The dashboard has been changed by someone else"}
        version = previous["dashboard"]["version"] + 1 if previous else 1
        stored = {**dashboard, "id": previous["dashboard"]["id"] if previous else self._id(), "version": version}
        self.dashboards[dashboard["uid"]] = {"dashboard": stored, "folderUid": body["folderUid"]}
        return 200, {"id": stored["id"], "uid": stored["uid"], "status": "success", "version": version, "url": f"/d/{stored['uid']}"}

    def get_rule_group(self, folder, group):
        return (200, self.rule_groups[(folder, group)]) if (folder, group) in self.rule_groups else (404, {"message": "rule group not found"})

    def put_rule_group(self, folder, group, body):
        problems = self._rule_group_problems(folder, group, body)
        if problems:
            return 400, {"message": "; ".join(problems)}
        stored_rules = []
        for rule in body["rules"]:
            stored = {**rule, "id": self._id(), "updated": "2026-01-01T00:00:00Z", "provenance": "api"}
            seconds = catalog.duration_seconds(rule["for"])
            stored["for"] = f"{seconds // 60}m{seconds % 60}s" if seconds >= 60 else f"{seconds}s"
            stored_rules.append(stored)
        self.rule_groups[(folder, group)] = {**body, "rules": stored_rules}
        return 200, self.rule_groups[(folder, group)]

    def _rule_group_problems(self, folder, group, body) -> list[str]:
        problems = []
        if folder not in self.folders:
            problems.append(f"folder {folder} does not exist")
        if body.get("title") != group or body.get("folderUid") != folder:
            problems.append("title/folderUid differ from the path")
        if not isinstance(body.get("interval"), int) or body["interval"] <= 0 or body["interval"] % 10:
            problems.append("interval must be a positive multiple of 10 seconds")
        for rule in body.get("rules", []):
            refs = {d.get("refId") for d in rule.get("data", [])}
            if rule.get("condition") not in refs:
                problems.append(f"{rule.get('uid')}: condition {rule.get('condition')} is no refId")
            for query in rule.get("data", []):
                if not query.get("datasourceUid") or "model" not in query:
                    problems.append(f"{rule.get('uid')}: query {query.get('refId')} lacks datasourceUid or model")
                if query.get("datasourceUid") != "__expr__":
                    if query.get("datasourceUid") not in self.datasources:
                        problems.append(f"{rule.get('uid')}: datasource {query.get('datasourceUid')} does not exist")
                    relative = query.get("relativeTimeRange") or {}
                    if not relative.get("from", 0) > relative.get("to", 0):
                        problems.append(f"{rule.get('uid')}: relativeTimeRange.from must exceed .to")
            if rule.get("noDataState") not in self.NO_DATA_STATES or rule.get("execErrState") not in self.ERROR_STATES:
                problems.append(f"{rule.get('uid')}: bad noDataState/execErrState")
            if not all(rule.get(k) for k in ("uid", "title", "for")) or rule.get("folderUID") != folder or rule.get("ruleGroup") != group:
                problems.append(f"{rule.get('uid')}: uid/title/for/folderUID/ruleGroup missing or wrong")
            if not isinstance(rule.get("orgID"), int):
                problems.append(f"{rule.get('uid')}: orgID must be an integer")
        return problems


@pytest.fixture
def grafana() -> Iterator[tuple[FakeGrafana, str]]:
    fake = FakeGrafana()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, payload = fake.handle(self.command, self.path.split("?")[0], self.headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


CLICKHOUSE_URL = "http://grafana:s3cret-pw@clickhouse:8123/evalstream"


def api(url: str, token: str = TOKEN):
    from grafana_client import GrafanaApi

    return GrafanaApi.from_url(url, credential=token, timeout=5)


def test_push_creates_everything_then_a_second_push_changes_nothing(grafana) -> None:
    fake, url = grafana
    datasources = [clickhouse_datasource(CLICKHOUSE_URL), prometheus_datasource("http://prometheus:9090")]

    first = push(api(url), datasources)
    assert sorted(fake.writes) == sorted([
        ("POST", "/api/folders"),
        ("POST", "/api/datasources"), ("POST", "/api/datasources"),
        *[("POST", "/api/dashboards/db")] * 4,
        ("PUT", "/api/v1/provisioning/folder/evalstream/rule-groups/evalstream-slo"),
    ])
    assert {c.action for c in first.changes} == {"created"}

    for board in catalog.load_boards():  # the files' boards, in the folder, as they are
        stored = fake.dashboards[board["uid"]]
        assert stored["folderUid"] == catalog.FOLDER_UID
        assert {k: v for k, v in stored["dashboard"].items() if k not in ("id", "version")} == board
    clickhouse = fake.datasources[catalog.CLICKHOUSE_DATASOURCE_UID]
    assert clickhouse["type"] == catalog.CLICKHOUSE_PLUGIN
    assert {k: clickhouse["jsonData"][k] for k in ("host", "port", "username", "defaultDatabase", "protocol", "secure")} == {
        "host": "clickhouse", "port": 8123, "username": "grafana", "defaultDatabase": "evalstream", "protocol": "http", "secure": False}
    assert clickhouse["secureJsonFields"] == {"password": True}
    (create_ch,) = [b for m, p, b in fake.requests if p == "/api/datasources" and b["uid"] == catalog.CLICKHOUSE_DATASOURCE_UID]
    assert create_ch["secureJsonData"] == {"password": "s3cret-pw"}
    group = fake.rule_groups[(catalog.FOLDER_UID, "evalstream-slo")]
    assert [r["uid"] for r in group["rules"]] == [r["uid"] for r in rules()] and group["interval"] == 60

    fake.requests.clear()
    second = push(api(url), datasources)
    assert fake.writes == []  # only GETs: nothing created, nothing rewritten
    assert second.changed == []
    assert len(second.changes) == len(first.changes)


def test_push_rewrites_only_what_differs(grafana) -> None:
    fake, url = grafana
    datasources = [clickhouse_datasource(CLICKHOUSE_URL)]
    push(api(url), datasources)
    fake.dashboards["evalstream-alerts"]["dashboard"]["title"] = "edited in the UI"
    fake.folders[catalog.FOLDER_UID]["title"] = "renamed"
    boards = catalog.load_boards()
    groups = catalog.alert_rule_groups()
    groups[0]["rules"][0]["data"][2]["model"]["conditions"][0]["evaluator"]["params"] = [0.05]

    fake.requests.clear()
    report = push(api(url), datasources, boards=boards, rule_groups=groups)
    assert sorted(fake.writes) == sorted([
        ("PUT", f"/api/folders/{catalog.FOLDER_UID}"),
        ("POST", "/api/dashboards/db"),
        ("PUT", "/api/v1/provisioning/folder/evalstream/rule-groups/evalstream-slo"),
    ])
    assert {(c.kind, c.action) for c in report.changed} == {("folder", "updated"), ("dashboard", "updated"), ("alert-rule-group", "updated")}
    assert fake.dashboards["evalstream-alerts"]["dashboard"]["title"] == "evalstream / Drift alerts"

    # a password is sent again only when asked: Grafana cannot tell us whether it changed
    fake.requests.clear()
    push(api(url), [clickhouse_datasource(CLICKHOUSE_URL.replace("s3cret-pw", "rotated"))], update_secrets=True)
    (update,) = [b for m, p, b in fake.requests if m == "PUT" and p.startswith("/api/datasources/")]
    assert update["secureJsonData"] == {"password": "rotated"}


def test_push_needs_the_datasource_when_not_given_one(grafana) -> None:
    from evalstream.dashboards.push import PushError

    fake, url = grafana
    with pytest.raises(PushError, match="--clickhouse-url"):
        push(api(url), [])
    assert not fake.dashboards


def test_push_command_reads_credentials_from_the_environment(grafana) -> None:
    from evalstream.cli.main import app

    fake, url = grafana
    env = {"EVALSTREAM_GRAFANA_URL": url, "EVALSTREAM_GRAFANA_TOKEN": TOKEN, "EVALSTREAM_GRAFANA_CLICKHOUSE": CLICKHOUSE_URL}
    result = CliRunner().invoke(app, ["dashboards", "push"], env=env)
    assert result.exit_code == 0, result.output
    assert len(fake.dashboards) == 4 and catalog.CLICKHOUSE_DATASOURCE_UID in fake.datasources
    assert "s3cret-pw" not in result.output

    result = CliRunner().invoke(app, ["dashboards", "push"], env={**env, "EVALSTREAM_GRAFANA_TOKEN": "wrong"})
    assert result.exit_code == 1
    assert "push failed" in result.output and "Unauthorized" in result.output


# ---------------------------------------------------------------------------------------------
# infra/compose.yaml, read (no Docker engine here to run it).

COMPOSE = REPO / "infra" / "compose.yaml"


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_runs_the_whole_stack() -> None:
    services = compose()["services"]
    assert {"kafka", "clickhouse", "grafana", "migrate", "worker", "drift", "notifier", "kafka-exporter", "prometheus"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")
    kafka_env = services["kafka"]["environment"]
    assert kafka_env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert "grafana-clickhouse-datasource" in services["grafana"]["environment"]["GF_INSTALL_PLUGINS"]
    assert services["drift"]["command"] == ["evalstream", "drift"]
    for name in ("migrate", "worker", "drift", "notifier"):
        build = services[name]["build"]
        assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == REPO / "infra" / "Dockerfile"
    # the workers start once the schema is migrated, and migrate once ClickHouse is up
    assert services["worker"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["clickhouse"]["condition"] == "service_healthy"


def test_compose_mounts_and_env_files_exist_and_ports_are_unique() -> None:
    spec = compose()
    host_ports = []
    for name, service in spec["services"].items():
        for env_file in service.get("env_file", []):
            assert (COMPOSE.parent / env_file).is_file(), (name, env_file)
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):  # a bind mount of a repository path; named volumes are declared
                assert (COMPOSE.parent / source).exists(), (name, source)
            else:
                assert source in spec.get("volumes", {}), (name, source)
        host_ports += [str(p).rsplit(":", 2)[-2] for p in service.get("ports", [])]
    assert len(host_ports) == len(set(host_ports)), host_ports


def test_grafana_in_compose_gets_the_boards_and_provisioning_of_this_repository() -> None:
    grafana = compose()["services"]["grafana"]
    mounts = {target: (COMPOSE.parent / source).resolve() for source, target, *_ in (v.split(":") for v in grafana["volumes"])}
    (provider,) = [p for doc in catalog.load_provisioning("dashboards") for p in doc["providers"]]
    assert mounts[provider["options"]["path"]] == catalog.BOARDS_DIR
    for kind in ("datasources", "dashboards", "alerting"):
        assert mounts[f"/etc/grafana/provisioning/{kind}"] == catalog.PROVISIONING_DIR / kind
    # every $VAR the provisioning files need is set in Grafana's environment
    values = json.dumps([catalog.load_provisioning(kind) for kind in ("datasources", "dashboards", "alerting")])
    needed = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", values))
    assert needed == {"EVALSTREAM_GRAFANA_CLICKHOUSE_PASSWORD"}
    assert needed <= set(_environment(grafana))


def test_evalstream_services_get_the_settings_they_read() -> None:
    from evalstream.config.settings import KafkaSettings, WorkerSettings

    services = compose()["services"]
    clickhouse_env = _environment(services["clickhouse"])
    for name in ("migrate", "worker"):
        env = _environment(services[name])
        worker = WorkerSettings(**{k.removeprefix("EVALSTREAM_").lower(): v for k, v in env.items()
                                   if k.startswith("EVALSTREAM_") and not k.startswith("EVALSTREAM_KAFKA_")})
        assert worker.clickhouse.startswith("http://") and "@clickhouse:8123/" in worker.clickhouse
        assert clickhouse_env["CLICKHOUSE_PASSWORD"] in worker.clickhouse
    for name in ("worker", "notifier"):
        env = _environment(services[name])
        assert KafkaSettings(bootstrap=env["EVALSTREAM_KAFKA_BOOTSTRAP"]).bootstrap == "kafka:9092"


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment: its env_files, then its `environment` entries."""
    env: dict[str, str] = {}
    for env_file in service.get("env_file", []):
        for line in (COMPOSE.parent / env_file).read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                env[key.strip()] = value.strip()
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    env.update({k: str(v) for k, v in environment.items()})
    return env



def test_evalstream_services_run_commands_that_exist() -> None:
    from evalstream.notifiers.config import load_config
    from evalstream.cli.main import app

    for name, service in compose()["services"].items():
        command = service.get("command", [])
        if command[:1] != ["evalstream"]:
            continue
        result = CliRunner().invoke(app, [command[1], "--help"])
        assert result.exit_code == 0, (name, result.output)
        for option in (arg for arg in command[2:] if arg.startswith("--")):
            assert option in result.output, (name, option)
    notifier = compose()["services"]["notifier"]
    (config,) = [v.split(":")[0] for v in notifier["volumes"] if v.split(":")[1] == notifier["command"][-1]]
    assert load_config(COMPOSE.parent / config).channels  # the notifier accepts the shipped config


def test_the_image_holds_every_package_of_the_project() -> None:
    import tomllib

    dockerfile = (REPO / "infra" / "Dockerfile").read_text()
    copied = {source for line in dockerfile.splitlines() if line.startswith("COPY ") for source in line.split()[1:-1]}
    assert all((REPO / source).exists() for source in copied), copied
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    assert set(packages.values()) | {"producer", "requirements.lock", "pyproject.toml", "README.md"} <= copied
