"""Every ClickHouse query of every board (panels, annotations, variables), expanded as Grafana
would expand it and run on chdb over seeded data: its columns must be the ones declared for it
in dashboards_queries.py, so a panel whose query a schema change breaks fails here."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from dashboards_data import HOUR, NOW, new_database, seeded  # noqa: F401 (seeded: a fixture)
from dashboards_queries import EXPECTED_COLUMNS, PROMETHEUS_PANELS, SCENARIOS, Scenario, expected_columns, query_problems, resolve_variables
from evalstream.dashboards import catalog
from evalstream.dashboards.sql import TimeRange, Variable, expand


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
    "Unfaithful answers": "sum(unfaithful) / count(unfaithful)",
    "Refusals": "sum(refusal) / count()",
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


