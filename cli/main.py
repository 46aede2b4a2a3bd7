"""The `evalstream` command line: each command lives in a module of its own, which parses its
flags, builds the settings once (config/settings.py) and calls the stage that does the work."""

from __future__ import annotations

import logging
import sys

import typer

from evalstream.cli import common
from evalstream.cli.dashboards import dashboards_app
from evalstream.cli.demo import demo
from evalstream.cli.evaluate import evaluate, schema
from evalstream.cli.feedback import feedback
from evalstream.cli.genaiops import agreement, gate, recommend
from evalstream.cli.judge import judge
from evalstream.cli.notify import notify
from evalstream.cli.produce import produce
from evalstream.cli.replay import replay
from evalstream.cli.report import report
from evalstream.cli.score import score
from evalstream.cli.store import migrate, query
from evalstream.cli.workers import drift, worker

app = typer.Typer(help="Streaming evaluation and monitoring for GenAI applications.", no_args_is_help=True, add_completion=False)


@app.callback()
def options(verbose: bool = typer.Option(False, "--verbose", help="client libraries' logs at INFO, and the traceback of an error")) -> None:
    common.verbose = verbose
    if verbose:
        logging.getLogger().setLevel(logging.INFO)

# In the order of the flow: events in, workers, offline scoring, storage, the contract, the demo, quality, alerts, boards.
for command in (produce, worker, drift, judge, score, query, migrate, schema, demo, evaluate, notify):
    app.command()(command)
app.add_typer(dashboards_app, name="dashboards")
app.command()(report)  # the boards as one HTML file, for teams without Grafana
for command in (feedback, agreement, gate, recommend, replay):  # the GenAIOps loop: human labels, prompt gate, model advice, replay
    app.command()(command)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app()
    except Exception as exc:  # a person reads one line; --verbose shows where it came from
        if common.verbose:
            raise
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        typer.echo(f"evalstream: {type(exc).__name__}: {first} (--verbose for the traceback)", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
