"""What the commands share: the consoles, the common flags, and the settings they build once."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evalstream.config.settings import Settings

if TYPE_CHECKING:
    from evalstream.drift.policy import Policy
    from evalstream.scorers import ScorerSet

# Piped output (logs, CI) gets room for the tables instead of the 80 columns rich assumes.
console = Console(stderr=True, width=None if sys.stderr.isatty() else 130)
stdout = Console(width=None if sys.stdout.isatty() else 130)

Bootstrap: Optional[str] = typer.Option(None, "--bootstrap", help="Kafka bootstrap HOST:PORT \\[env EVALSTREAM_KAFKA_BOOTSTRAP]")
ClickHouseDsn: Optional[str] = typer.Option(
    None, "--clickhouse", help="chdb:///abs/dir or http(s)://user:pass@host:8123/db \\[env EVALSTREAM_CLICKHOUSE]"
)
LogLevel: str = typer.Option("info")


def load_settings(*, bootstrap: str | None = None, clickhouse: str | None = None) -> Settings:
    """The settings of the environment, with the connection flags given on the command line on top."""
    return Settings().override("kafka", bootstrap=bootstrap).override("clickhouse", dsn=clickhouse)


def scorer_set(settings: Settings, policy: Policy | None = None) -> ScorerSet:
    """The workers' scorers, flagging at the thresholds the drift policy sets per use case
    (`policy`, else the file EVALSTREAM_DRIFT_POLICY names, else the shipped one)."""
    from evalstream.drift.policy import PolicyError, load_policy
    from evalstream.scorers.registry import default_scorers

    try:
        policy = policy or load_policy(settings.drift.policy)
    except PolicyError as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    return default_scorers(settings.scoring, **policy.flag_thresholds())


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=False
    )
