"""Runs the boards' own SQL for the report's panels, as Grafana would for one time range and tenant."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable

from evalstream.dashboards import catalog
from evalstream.dashboards.sql import TimeRange, Variable, expand
from evalstream.report.panels import VARIABLE_CHOICES, PanelSpec

# Grafana picks a panel's interval from the range and the panel's width (about one point per
# few pixels), rounded to a readable step; the rollups hold minutes, so nothing finer than 60 s.
POINTS_PER_CHART = 240
NICE_STEPS_S = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


@dataclass(frozen=True)
class PanelData:
    spec: PanelSpec
    heading: str  # the panel's title, variables filled in
    board_title: str
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    error: str | None = None


def interval_for(start: datetime, end: datetime) -> int:
    wanted = (end - start).total_seconds() / POINTS_PER_CHART
    return next((step for step in NICE_STEPS_S if step >= wanted), NICE_STEPS_S[-1])


def resolve_variables(client: Any, board: dict[str, Any], time_range: TimeRange, tenant: str | None) -> dict[str, Variable]:
    """The board's template variables in order, as Grafana resolves them: a query variable's
    options come from its own query run with the variables before it; "All" where it is offered,
    except the tenant when one is asked for."""
    variables: dict[str, Variable] = {}
    for variable in board.get("templating", {}).get("list", []):
        name, kind = variable["name"], variable["type"]
        if kind == "custom":
            variables[name] = Variable.of(VARIABLE_CHOICES.get(name, variable["current"]["value"]))
        elif kind == "query" and name == "tenant" and tenant is not None:
            variables[name] = Variable.of(tenant)
        elif kind == "query":
            options = [str(row[0]) for row in client.query(expand(variable["query"], time_range, variables)).result_rows]
            if variable.get("includeAll"):
                variables[name] = Variable.all_of(options)
            elif options:
                variables[name] = Variable.of(options[0])
            else:
                raise ValueError(f"board {board['uid']}: variable {name} has no value")
    return variables


@dataclass
class Collected:
    panels: list[PanelData] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # "board: title" of the specs whose panel is not on its board
    variables: dict[str, dict[str, Variable]] = field(default_factory=dict)  # board uid -> its resolved variables

    @property
    def step_s(self) -> int:
        """The step the time series are drawn at: the interval, or the hour of the hourly rollup when the boards read it."""
        rollups = {v["rollup"].values[0] for v in self.variables.values() if "rollup" in v}
        return 3600 if "1h" in rollups else 60


def collect(client: Any, specs: Iterable[PanelSpec], time_range: TimeRange, tenant: str | None) -> Collected:
    """Each spec's panel run on its board's SQL, and the specs whose panel is not on its board."""
    boards = {board["uid"]: board for board in catalog.load_boards()}
    collected = Collected()
    variables = collected.variables
    for spec in specs:
        board = boards.get(spec.board)
        sql = _panel_sql(board, spec.title) if board else None
        if sql is None:
            collected.missing.append(f"{spec.board}: {spec.title}")
            continue
        if spec.board not in variables:
            variables[spec.board] = resolve_variables(client, board, time_range, tenant)
        collected.panels.append(run_panel(client, spec, board, sql, time_range, variables[spec.board]))
    return collected


def _panel_sql(board: dict[str, Any], title: str) -> str | None:
    for query in catalog.clickhouse_queries(board):
        if query.kind == "panel" and query.name == title:
            return query.sql
    return None


def run_panel(client: Any, spec: PanelSpec, board: dict[str, Any], sql: str, time_range: TimeRange,
              variables: dict[str, Variable]) -> PanelData:
    heading = _fill_title(spec.title, variables)
    try:
        result = client.query(expand(sql, time_range, variables))
    except Exception as exc:  # noqa: BLE001 -- the report shows what ClickHouse said, in the panel
        return PanelData(spec, heading, board["title"], error=str(exc).strip().splitlines()[0][:300])
    rows = [tuple(plain(value) for value in row) for row in result.result_rows]
    return PanelData(spec, heading, board["title"], list(result.column_names), rows)


def _fill_title(title: str, variables: dict[str, Variable]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: ", ".join(variables[m[1]].values) if m[1] in variables else m[0], title)


def plain(value: Any) -> Any:
    """A value the page can show: Decimal -> float, NaN/inf -> None, datetimes in UTC without a zone."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value
