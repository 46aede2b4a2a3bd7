"""`evalstream judge`: the LLM judge stage, off the ingest path (streams/judge.py)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Optional

import typer

from evalstream.cli.common import Bootstrap, ClickHouseDsn, LogLevel, fail, load_settings, require_clickhouse, require_kafka, without_password


def judge(
    bootstrap: Optional[str] = Bootstrap,
    clickhouse: Optional[str] = ClickHouseDsn,
    group_id: Optional[str] = typer.Option(None, help="the judge's consumer group \\[env EVALSTREAM_JUDGE_GROUP_ID; default GROUP-judge]"),
    drain: bool = typer.Option(False, "--drain", help="judge the score records there now, then exit (a chdb store: while no worker holds it)"),
    loglevel: str = LogLevel,
) -> None:
    """Run the LLM judge until stopped: score records -> every flagged event and a sample of the rest
    -> the judge (EVALSTREAM_JUDGE_URL) -> the judge_verdicts table. Scoring never waits for it."""
    settings = load_settings(bootstrap=bootstrap, clickhouse=clickhouse)
    from evalstream.scorers.registry import build_judge

    llm_judge = build_judge(settings.scoring)
    if llm_judge is None:
        fail("no judge to run: set EVALSTREAM_JUDGE_URL (an OpenAI-compatible /v1 endpoint)", code=2)
    require_clickhouse(settings.clickhouse.dsn)
    require_kafka(settings.kafka)
    logging.getLogger().setLevel(loglevel.upper())
    from evalstream.sinks.judge_verdicts import JudgeVerdictSink
    from evalstream.streams.judge import JudgeConsumer, JudgeStage

    try:
        sink = JudgeVerdictSink(settings.clickhouse.dsn)
    except Exception as exc:  # chdb: a directory another process (a worker) holds
        hint = "; a chdb store admits one process: stop the worker, or use a ClickHouse server" if settings.clickhouse.dsn.startswith("chdb:") else ""
        fail(f"cannot open ClickHouse ({type(exc).__name__}){hint}")
    stage = JudgeStage(llm_judge, sink)
    group = group_id or settings.scoring.judge_group_id or f"{settings.worker.group_id}-judge"
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # the batch in hand is finished and committed, then it exits
        signal.signal(sig, lambda *_: stop.set())
    logging.getLogger("evalstream.judge").info("judge: %s -> %s (%s) -> judge_verdicts, group %s", settings.topics.scores, settings.scoring.judge_model, without_password(llm_judge.settings.base_url), group)
    stats = JudgeConsumer(settings, stage, group).run(stop, drain=drain)
    typer.echo(f"judged {stats.judged}, judge failures {stats.failed}, over budget {stats.over_budget}, of {stats.consumed} score records", err=True)
    sys.exit(0)
