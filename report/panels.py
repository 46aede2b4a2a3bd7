"""Which panels of the boards the report shows, and how.

Each entry names a board (its uid) and a panel by the title it has in dashboards/boards/*.json:
the report runs that panel's own SQL, so the report and the boards cannot disagree. To show
another panel, add a line here; a panel that is not (or no longer) on its board is left out of
the report and named in its footer, so a board being edited never breaks the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OVERVIEW, MODELS, ALERTS, PIPELINE = "evalstream-overview", "evalstream-models", "evalstream-alerts", "evalstream-pipeline"

Kind = Literal["stat", "lines", "scatter", "table"]


@dataclass(frozen=True)
class PanelSpec:
    key: str  # the HTML id and data-panel of the panel
    board: str
    title: str  # the panel's title on the board, variables unexpanded (e.g. "... by ${group_by}")
    kind: Kind
    unit: str = ""  # "%": a 0..1 rate shown as a percentage; "$": US dollars; "s", "ms": durations
    note: str = ""  # what a reader needs to read the panel right
    columns: tuple[str, ...] = ()  # tables: the columns shown, in order (empty: all)
    max_rows: int = 50  # tables: the rows shown


# Headline numbers, in the order shown.
STATS: tuple[PanelSpec, ...] = (
    PanelSpec("events", OVERVIEW, "Events", "stat"),
    PanelSpec("toxic-share", OVERVIEW, "Toxic responses", "stat", "%"),
    PanelSpec("unfaithful-share", OVERVIEW, "Unfaithful answers", "stat", "%"),
    PanelSpec("faithfulness", OVERVIEW, "Faithfulness", "stat"),
    PanelSpec("cost", OVERVIEW, "Cost", "stat", "$"),
    PanelSpec("firing", ALERTS, "Firing now", "stat"),
    PanelSpec("freshness-p99", PIPELINE, "Freshness p99", "stat", "s"),
)

# Charts and tables, in the order shown (two to a row on a laptop screen).
CHARTS: tuple[PanelSpec, ...] = (
    PanelSpec("volume", OVERVIEW, "Volume (events/min) by ${group_by}", "lines"),
    PanelSpec("toxicity", OVERVIEW, "Toxicity rate by ${group_by}", "lines", "%"),
    PanelSpec("unfaithful", OVERVIEW, "Unfaithful rate by ${group_by}", "lines", "%",
              note="share of the events with a context whose answer was scored unfaithful"),
    PanelSpec("cost-per-model", OVERVIEW, "Cost per hour (USD) by ${group_by}", "lines", "$"),
    PanelSpec("quality-vs-cost", MODELS, "Quality against cost", "scatter",
              note="one point per model and prompt version: up and to the left is better"),
    PanelSpec("freshness", PIPELINE, "Freshness (s): event time to row stored", "lines", "s",
              note="all tenants: freshness is measured per stored row, not per tenant"),
    PanelSpec("recent-alerts", ALERTS, "Alert events", "table",
              columns=("time", "state", "severity", "tenant", "app", "model", "prompt_version", "region",
                       "statistic", "window_value", "baseline_value", "summary")),
)

# The custom variables' values the report uses (the boards' defaults otherwise).
VARIABLE_CHOICES: dict[str, str] = {"group_by": "model"}
