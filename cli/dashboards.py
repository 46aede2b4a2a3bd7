"""`evalstream dashboards ...`: the Grafana side of evalstream."""

from __future__ import annotations

import sys
from typing import Optional
from urllib.parse import urlparse

import typer
from rich.console import Console
from rich.table import Table

dashboards_app = typer.Typer(help="Grafana boards, datasources and alert rules over ClickHouse.", no_args_is_help=True)
console = Console(stderr=True, width=None if sys.stderr.isatty() else 130)


@dashboards_app.command()
def push(
    grafana: str = typer.Option(..., "--grafana", envvar="EVALSTREAM_GRAFANA_URL", help="Grafana base URL, e.g. http://localhost:3000"),
    token: Optional[str] = typer.Option(None, envvar="EVALSTREAM_GRAFANA_TOKEN", help="service account token (or --user/--password)", show_default=False),
    user: Optional[str] = typer.Option(None, envvar="EVALSTREAM_GRAFANA_USER"),
    password: Optional[str] = typer.Option(None, envvar="EVALSTREAM_GRAFANA_PASSWORD", show_default=False),
    clickhouse_url: Optional[str] = typer.Option(
        None, envvar="EVALSTREAM_GRAFANA_CLICKHOUSE",
        help="ClickHouse as Grafana reaches it, http(s)://user:password@host:8123/database (use a read-only user); "
        "without it the datasource must already exist",
        show_default=False,
    ),
    prometheus_url: Optional[str] = typer.Option(
        None, envvar="EVALSTREAM_GRAFANA_PROMETHEUS", help="Prometheus scraping kafka-exporter, for the consumer-lag and dead-letter panels"
    ),
    update_secrets: bool = typer.Option(False, "--update-secrets", help="send the ClickHouse password even if Grafana already stores one"),
    timeout: float = typer.Option(10.0, help="seconds per Grafana request"),
) -> None:
    """Create or update the folder, datasources, boards and alert rules in Grafana (idempotent)."""
    from grafana_client import GrafanaApi
    from grafana_client.client import GrafanaException
    from niquests.exceptions import RequestException

    from evalstream.dashboards.push import PushError, clickhouse_datasource, prometheus_datasource
    from evalstream.dashboards.push import push as push_all

    if token and (user or password):
        raise typer.BadParameter("give --token or --user/--password, not both")
    credential = token or ((user, password or "") if user else None)
    api = GrafanaApi.from_url(grafana, credential=credential, timeout=timeout)
    datasources = []
    try:
        if clickhouse_url:
            datasources.append(clickhouse_datasource(clickhouse_url))
        if prometheus_url:
            datasources.append(prometheus_datasource(prometheus_url))
        report = push_all(api, datasources, update_secrets=update_secrets)
    except (PushError, GrafanaException, RequestException) as exc:
        console.print(f"[red]push failed:[/] {exc}")
        raise typer.Exit(1)
    table = Table("kind", "name", "action", title=f"Grafana at {_without_credentials(grafana)}")
    for change in report.changes:
        table.add_row(change.kind, change.name, change.action)
    console.print(table)
    console.print(f"{len(report.changed)} change(s)")


def _without_credentials(url: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(netloc=parsed.netloc.rpartition("@")[2]).geturl()
