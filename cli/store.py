"""`evalstream query` and `evalstream migrate`: the ClickHouse side."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from evalstream.cli.common import ClickHouseDsn, connect_clickhouse, console, load_settings, stdout


def query(
    sql: str = typer.Argument(..., help="a SQL query"),
    clickhouse: Optional[str] = ClickHouseDsn,
    output: str = typer.Option("table", "--format", help="table | json (one object per row)"),
) -> None:
    """Print a query's result."""
    from evalstream.cli.jsonl import dumps

    result = connect_clickhouse(load_settings(clickhouse=clickhouse).clickhouse.dsn).query(sql)
    columns = list(result.column_names)
    if output == "json":
        for row in result.result_rows:
            print(dumps(dict(zip(columns, row))))
        return
    table = Table(*columns)
    for row in result.result_rows:
        table.add_row(*(str(v) for v in row))
    stdout.print(table)


def migrate(clickhouse: Optional[str] = ClickHouseDsn) -> None:
    """Apply the SQL migrations not yet applied (idempotent)."""
    from evalstream.sinks.migrate import migrate as apply

    applied = apply(connect_clickhouse(load_settings(clickhouse=clickhouse).clickhouse.dsn))
    console.print(f"applied {len(applied)} migration(s): {', '.join(f'{m.version}_{m.name}' for m in applied) or 'none needed'}")
