"""`evalstream report`: the boards' main panels as one self-contained HTML file, for teams without Grafana."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from evalstream.cli.common import ClickHouseDsn, connect_clickhouse, console, load_settings

DEMO_REPORT = Path(".data") / "demo-report.html"


def report(
    clickhouse: Optional[str] = ClickHouseDsn,
    out: Path = typer.Option(Path("report.html"), "--out", dir_okay=False, help="the HTML file to write"),
    since: Optional[str] = typer.Option(None, "--since", help="the range that ends now: 30m, 24h, 7d, 2w (default 24h)"),
    time_range: Optional[str] = typer.Option(
        None, "--range", help="START..END in ISO 8601, UTC unless an offset is given, e.g. 2026-11-20T08:00..2026-11-20T14:00"
    ),
    tenant: Optional[str] = typer.Option(None, "--tenant", help="one tenant (default: all tenants)"),
) -> None:
    """Write the boards' main panels (volume, quality, cost, freshness, alerts) as one HTML file that opens offline."""
    from evalstream.report import parse_range, parse_since, write_report

    if since and time_range:
        raise typer.BadParameter("give --since or --range, not both")
    try:
        start, end = parse_range(time_range) if time_range else parse_since(since or "24h")
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    client = connect_clickhouse(load_settings(clickhouse=clickhouse).clickhouse.dsn)
    written = write_report(client, out, start, end, tenant)
    shown = sum(1 for panel in written.charts if panel.rows)
    console.print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): {shown} of {len(written.charts)} charts have data")
    for panel in written.failed:
        console.print(f"[red]{panel.heading}: {panel.error}[/]")
    sys.exit(1 if written.failed else 0)


def write_demo_report(client: object, out: Path = DEMO_REPORT) -> str:
    """The demo's report, over the hours its replayed events span (they may be days old): where it is, or why there is none."""
    from evalstream.report import data_time_range, write_report

    span = data_time_range(client)
    if span is None:
        return "none (no rows stored)"
    write_report(client, out, *span)
    return str(out.resolve())

