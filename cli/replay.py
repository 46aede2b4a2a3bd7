"""`evalstream replay`: re-score a time range with the scorers as configured now, beside the originals."""

from __future__ import annotations

import os
import re
import signal
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import typer

from evalstream.cli.common import Bootstrap, ClickHouseDsn, console, fail, load_settings, require_clickhouse, scorer_set, stdout, without_password

REPLAY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
STOPPED = 130  # the exit status of a replay stopped before the end of its range: resume it with its id


def replay(
    from_: Optional[str] = typer.Option(None, "--from", help="start of the range, event time (ISO 8601, e.g. 2026-11-01T00:00:00Z)"),
    to: Optional[str] = typer.Option(None, "--to", help="end of the range, excluded (ISO 8601); default: now"),
    tenant: Optional[str] = typer.Option(None, "--tenant", help="one tenant only"),
    compare: bool = typer.Option(False, "--compare", help="print how flags and means moved per key, against the originals"),
    replay_id: Optional[str] = typer.Option(None, "--replay-id", help="resume this replay where it stopped (or --compare a finished one); default: a new id"),
    source: str = typer.Option("auto", "--source", help="auto (Kafka while it retains the range, else the stored rows) | kafka | stored"),
    max_rate: Optional[float] = typer.Option(None, "--max-rate", min=0.01, help="events/s at most \\[env EVALSTREAM_REPLAY_MAX_RATE, default 50]"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="events per batch \\[env EVALSTREAM_REPLAY_BATCH_SIZE, default 64]"),
    policy: Optional[Path] = typer.Option(None, "--policy", help="the drift policy whose flag thresholds apply \\[env EVALSTREAM_DRIFT_POLICY]"),
    clickhouse: Optional[str] = ClickHouseDsn,
    bootstrap: Optional[str] = Bootstrap,
) -> None:
    """Re-score a time range with the scorers, models and thresholds as configured now, into
    replayed_scores beside the original rows (never over them). Runs beside the live workers:
    its own consumer group, a bounded rate, a lower CPU priority. Ctrl-C or SIGTERM stops it after
    the batch in hand; run it again with its --replay-id to continue where it stopped."""
    from evalstream.drift.policy import PolicyError, load_policy
    from evalstream.sinks.replay import ReplayState
    from evalstream.streams.replay import ReplayError, check_resumable, thresholds_json

    if source not in ("auto", "kafka", "stored"):
        fail(f"--source {source!r}: choose auto, kafka or stored", code=2)
    if replay_id is not None and not REPLAY_ID.fullmatch(replay_id):
        fail(f"--replay-id {replay_id!r}: letters, digits, '.', '_' and '-', at most 64", code=2)
    from_ts, to_ts = _instant(from_, "--from"), _instant(to, "--to")
    if from_ts is not None and to_ts is not None and from_ts >= to_ts:
        fail(f"--from {from_ts.isoformat()} is not before --to {to_ts.isoformat()}: nothing to replay", code=2)
    settings = load_settings(bootstrap=bootstrap, clickhouse=clickhouse)
    settings = settings.override("replay", max_rate=max_rate, batch_size=batch_size)
    require_clickhouse(settings.clickhouse.dsn)
    sink = _open_sink(settings.clickhouse.dsn, replay_id or new_replay_id())
    state = sink.load_state()
    if state is not None and state.state == "finished":
        console.print(f"replay {state.replay_id} finished before: {state.events} events replayed ({_range(state)}); nothing left to do", soft_wrap=True)
        _finish(sink, state, compare)
        return
    try:
        loaded = load_policy(policy or settings.drift.policy)
    except PolicyError as exc:
        fail(str(exc).splitlines()[0], code=2)
    topics = [settings.topics.tenant_topic(tenant)] if settings.topics.tenant_topics and tenant else settings.topics.event_topics()
    why = "the source it started with"
    if state is None:
        if from_ts is None:
            fail("--from is required to start a replay (or give --replay-id of a stopped one)", code=2)
        chosen, why = _choose(settings, source, topics, from_ts)
        state = ReplayState(
            sink.replay_id, from_ts, to_ts or _ms(datetime.now(timezone.utc)), tenant or "", chosen,
            {}, _policy_name(loaded, policy or settings.drift.policy), thresholds_json(loaded.flag_thresholds()),
        )
        if state.from_ts >= state.to_ts:
            fail(f"--from {state.from_ts.isoformat()} is not before --to {state.to_ts.isoformat()}: nothing to replay", code=2)
    replay_source = _open_source(settings, sink, state, topics)
    remaining = replay_source.remaining()
    if remaining == 0 and state.seq == 0:
        where = f"Kafka ({', '.join(topics)})" if state.source == "kafka" else f"the stored rows of {without_password(settings.clickhouse.dsn)}"
        fail(f"nothing to replay: no events from {_range(state)}{' for tenant ' + state.tenant if state.tenant else ''} in {where}")
    scorers = scorer_set(settings, loaded)
    try:
        if state.seq == 0:
            state.scorers = scorers.versions
        check_resumable(state, scorers.versions, thresholds_json(loaded.flag_thresholds()), (from_ts, to_ts, tenant))
    except ReplayError as exc:
        fail(str(exc), code=2)
    _run(settings, sink, state, replay_source, scorers, remaining, why)
    _finish(sink, state, compare)
    if state.state != "finished":
        raise typer.Exit(STOPPED)
    if state.events == 0:
        fail(f"nothing replayed: no events from {_range(state)}{' for tenant ' + state.tenant if state.tenant else ''} in the {state.source} source")


def new_replay_id() -> str:
    return f"r{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def _run(settings, sink, state, replay_source, scorers, remaining: int, why: str) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from evalstream.streams.pipeline import Pipeline
    from evalstream.streams.replay import Replay

    pipeline = Pipeline(scorers, max_event_bytes=settings.worker.max_event_bytes, redact_pii=settings.worker.redact_pii and state.source == "kafka")
    if settings.topics.tenant_topics:
        pipeline.tenant_of_topic = settings.topics.tenant_of_topic
    stop = threading.Event()
    _lower_priority(settings.replay.nice)
    what = "records" if state.source == "kafka" else "rows"
    console.print(
        f"replay {state.replay_id}{' resumed' if state.seq else ''}: {_range(state)}{' tenant ' + state.tenant if state.tenant else ''} "
        f"from {_source_text(state, settings)} ({why}); at most {settings.replay.max_rate:g} events/s; scorers {_versions(state.scorers)}",
        soft_wrap=True,  # one line each, whatever the width: logs and scripts read them
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(f"{what} {{task.fields[status]}}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar, _stop_on_signals(stop):
        task = bar.add_task("replaying", total=remaining or None, status="")

        def on_batch(progress, batch) -> None:
            bar.update(task, advance=batch.read, status=f"replayed {progress.replayed}, skipped {progress.skipped}, {progress.rate:.1f} events/s")

        replayer = Replay(state, replay_source, pipeline, sink, max_rate=settings.replay.max_rate, batch_size=settings.replay.batch_size, stop=stop, on_batch=on_batch)
        try:
            replayer.run()
        finally:
            replay_source.close()
    done = replayer.progress
    console.print(
        f"replay {state.replay_id} {state.state}: {done.replayed} events replayed in this run ({state.events} in all), "
        f"{done.skipped} skipped, {done.rate:.1f} events/s"
        + (f"; resume with: evalstream replay --replay-id {state.replay_id}" if state.state != "finished" else ""),
        soft_wrap=True,
    )


def _finish(sink, state, compare: bool) -> None:
    try:
        if compare:
            from evalstream.genaiops.replay_compare import compare as compare_replay

            stdout.print(comparison_table(compare_replay(sink.client, state.replay_id, state.from_ts, state.to_ts, state.tenant), state))
    finally:
        sink.close()


def comparison_table(comparison, state) -> Any:
    from rich.table import Table

    originals = "; ".join(_versions(v) for v in comparison.original_scorers) or "none"
    caption = (
        f"{comparison.replayed} events replayed, {comparison.without_original} without an original row in the range. "
        f"Original scorers: {originals}. Replay scorers: {_versions(state.scorers)}; thresholds {state.thresholds} ({state.policy})."
    )
    table = Table(title=f"replay {state.replay_id}, original -> replay: {_range(state)}, from {state.source}", caption=caption)
    for name in ("tenant/app", "use case", "model", "prompt v", "events"):
        table.add_column(name, justify="right" if name == "events" else "left")
    for flag in comparison.flags:
        table.add_column(f"{flag} (+up/-down)", justify="right")
    for mean in comparison.means:
        table.add_column(f"mean {mean}", justify="right")
    for key in comparison.keys:
        flags = [f"{m.original}->{m.replay} +{m.up}/-{m.down}" for m in (key.flags[f] for f in comparison.flags)]
        tenant, app, *rest = key.key
        table.add_row(f"{tenant}/{app}", *rest, str(key.events), *flags, *(_mean(*key.means[m]) for m in comparison.means))
    return table


def _mean(original: float | None, replayed: float | None) -> str:
    if original is None or replayed is None:
        return f"{'-' if original is None else f'{original:.3f}'}->{'-' if replayed is None else f'{replayed:.3f}'}"
    return f"{original:.3f}->{replayed:.3f} ({replayed - original:+.3f})"


def _open_sink(dsn: str, replay_id: str):
    from evalstream.sinks.replay import ReplaySink

    try:
        return ReplaySink(dsn, replay_id)
    except Exception as exc:  # a chdb directory in use by another process, a server that refuses
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        fail(f"cannot open ClickHouse at {without_password(dsn)} ({type(exc).__name__}: {first}); set --clickhouse or EVALSTREAM_CLICKHOUSE")


def _choose(settings, source: str, topics: list[str], from_ts: datetime) -> tuple[str, str]:
    """(kafka | stored, why): what --source asks, or for auto whether Kafka still holds the range."""
    from evalstream.streams.replay_sources import choose_source

    if source == "stored":
        return "stored", "--source stored"
    choice = choose_source(settings.kafka, topics, from_ts, settings.worker.max_clock_skew_seconds)
    if source == "kafka" and choice.source != "kafka":
        fail(f"cannot replay from Kafka: {choice.why}; use --source stored (or auto)", code=2)
    return choice.source, choice.why


def _open_source(settings, sink, state, topics: list[str]):
    from evalstream.streams.replay import open_source

    try:
        return open_source(settings, sink, state, topics)
    except Exception as exc:  # confluent-kafka's KafkaException: the broker went away since the choice
        fail(f"cannot read the range from {state.source}: {type(exc).__name__}: {str(exc)[:200]}")


def _source_text(state, settings) -> str:
    if state.source == "kafka":
        return f"Kafka (consumer group {settings.worker.group_id}-replay-{state.replay_id})"
    return "the stored rows of scored_events (texts as stored)"


def _lower_priority(nice: int) -> None:
    try:
        os.nice(nice)
    except (AttributeError, OSError):  # not on this platform, or not allowed
        pass


class _stop_on_signals:
    """Ctrl-C / SIGTERM: stop after the batch in hand; a second one stops at once."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum: int, _: Any) -> None:
        if self.stop.is_set():
            raise KeyboardInterrupt
        console.print(f"[yellow]{signal.Signals(signum).name}: stopping after the batch in hand (again to stop now)[/]")
        self.stop.set()

    def __exit__(self, *_: Any) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def _instant(text: str | None, flag: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"{flag} {text!r} is not a time: use ISO 8601, e.g. 2026-11-01 or 2026-11-01T10:00:00Z", code=2)
    return _ms(value if value.tzinfo else value.replace(tzinfo=timezone.utc))


def _ms(value: datetime) -> datetime:
    """To the millisecond, as stored: a resumed replay's times compare equal to the ones it started with."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _range(state) -> str:
    return f"{state.from_ts.isoformat()} to {state.to_ts.isoformat()}"


def _versions(scorers: dict[str, str]) -> str:
    return ", ".join(f"{name} {version}" for name, version in sorted(scorers.items())) or "none"


def _policy_name(policy, path) -> str:
    return f"{policy.name} ({path})" if path else f"{policy.name} (shipped)"
