"""`evalstream dashboards ...`: the Grafana side of evalstream."""

from __future__ import annotations

import sys
from typing import Optional
from urllib.parse import urlparse

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from evalstream.cli.common import load_settings

dashboards_app = typer.Typer(help="Grafana boards, datasources and alert rules over ClickHouse.", no_args_is_help=True)
console = Console(stderr=True, width=None if sys.stderr.isatty() else 130)


@dashboards_app.command()
def push(
    grafana: Optional[str] = typer.Option(None, "--grafana", help="Grafana base URL, e.g. http://localhost:3000 \\[env EVALSTREAM_GRAFANA_URL]"),
    token: Optional[str] = typer.Option(
        None, help="service account token (or --user/--password) \\[env EVALSTREAM_GRAFANA_TOKEN]", show_default=False
    ),
    user: Optional[str] = typer.Option(None, help="\\[env EVALSTREAM_GRAFANA_USER]"),
    password: Optional[str] = typer.Option(None, help="\\[env EVALSTREAM_GRAFANA_PASSWORD]", show_default=False),
    clickhouse_url: Optional[str] = typer.Option(
        None,
        help="ClickHouse as Grafana reaches it, http(s)://user:password@host:8123/database (use a read-only user); "
        "without it the datasource must already exist \\[env EVALSTREAM_GRAFANA_CLICKHOUSE]",
        show_default=False,
    ),
    prometheus_url: Optional[str] = typer.Option(
        None, help="Prometheus scraping kafka-exporter, for the consumer-lag and dead-letter panels \\[env EVALSTREAM_GRAFANA_PROMETHEUS]"
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

    settings = load_settings().override(
        "grafana", url=grafana, token=token, user=user, password=password, clickhouse=clickhouse_url, prometheus=prometheus_url
    ).grafana
    if not settings.url:
        raise typer.BadParameter("give --grafana or set EVALSTREAM_GRAFANA_URL", param_hint="--grafana")
    if settings.token and (settings.user or settings.password):
        raise typer.BadParameter("give --token or --user/--password, not both")
    credential = _secret(settings.token) or ((settings.user, _secret(settings.password) or "") if settings.user else None)
    api = GrafanaApi.from_url(settings.url, credential=credential, timeout=timeout)
    datasources = []
    try:
        if settings.clickhouse:
            datasources.append(clickhouse_datasource(settings.clickhouse.get_secret_value()))
        if settings.prometheus:
            datasources.append(prometheus_datasource(settings.prometheus))
        report = push_all(api, datasources, update_secrets=update_secrets)
    except (PushError, GrafanaException, RequestException) as exc:
        console.print(f"[red]push failed:[/] {exc}")
        raise typer.Exit(1)
    table = Table("kind", "name", "action", title=f"Grafana at {_without_credentials(settings.url)}")
    for change in report.changes:
        table.add_row(change.kind, change.name, change.action)
    console.print(table)
    console.print(f"{len(report.changed)} change(s)")


def _without_credentials(url: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(netloc=parsed.netloc.rpartition("@")[2]).geturl()


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value else None
