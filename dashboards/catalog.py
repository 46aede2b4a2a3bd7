"""The boards, datasources and alert rules as shipped in dashboards/, read from their files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

HERE = Path(__file__).resolve().parent
BOARDS_DIR = HERE / "boards"
PROVISIONING_DIR = HERE / "provisioning"

CLICKHOUSE_PLUGIN = "grafana-clickhouse-datasource"
CLICKHOUSE_DATASOURCE_UID = "evalstream-clickhouse"
PROMETHEUS_DATASOURCE_UID = "evalstream-prometheus"
FOLDER_UID = "evalstream"
FOLDER_TITLE = "evalstream"


def load_boards() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(BOARDS_DIR.glob("*.json"))]


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows."""
    for panel in board.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


@dataclass(frozen=True)
class Query:
    """One SQL query a board sends to ClickHouse: a panel target, an annotation or a variable."""

    board: str
    kind: str  # "panel" | "annotation" | "variable"
    name: str  # panel title, annotation name or variable name
    query_type: str  # "timeSeries" | "table" (variables: "table")
    sql: str


def clickhouse_queries(board: dict[str, Any]) -> list[Query]:
    uid = board["uid"]
    found = []
    for panel in panels(board):
        for target in panel.get("targets", []):
            if _is_clickhouse(target.get("datasource") or panel.get("datasource")):
                found.append(Query(uid, "panel", panel["title"], target.get("queryType", "table"), target["rawSql"]))
    for annotation in board.get("annotations", {}).get("list", []):
        if _is_clickhouse(annotation.get("datasource")):
            found.append(Query(uid, "annotation", annotation["name"], "table", annotation["target"]["rawSql"]))
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("type") == "query" and _is_clickhouse(variable.get("datasource")):
            found.append(Query(uid, "variable", variable["name"], "table", variable["query"]))
    return found


def _is_clickhouse(datasource: dict[str, Any] | None) -> bool:
    return bool(datasource) and datasource.get("type") == CLICKHOUSE_PLUGIN


def load_provisioning(kind: str) -> list[dict[str, Any]]:
    """The YAML documents under provisioning/<kind>/ (datasources, dashboards, alerting)."""
    return [yaml.safe_load(path.read_text()) for path in sorted((PROVISIONING_DIR / kind).glob("*.yaml"))]


def datasources() -> list[dict[str, Any]]:
    return [ds for doc in load_provisioning("datasources") for ds in doc.get("datasources", [])]


def alert_rule_groups() -> list[dict[str, Any]]:
    """Rule groups in Grafana's file-provisioning format."""
    return [group for doc in load_provisioning("alerting") for group in doc.get("groups", [])]


def rule_sql(rule: dict[str, Any]) -> dict[str, str]:
    """refId -> SQL of a rule's ClickHouse queries."""
    return {d["refId"]: d["model"]["rawSql"] for d in rule["data"] if d.get("datasourceUid") == CLICKHOUSE_DATASOURCE_UID}


def duration_seconds(text: str | int) -> int:
    """'1m', '5m0s', '1h30m', 90 -> seconds: the durations of provisioning files and of Grafana's API."""
    if isinstance(text, int):
        return text
    parts = re.findall(r"(\d+)(h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)
