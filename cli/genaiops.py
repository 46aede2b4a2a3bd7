"""`evalstream agreement`, `gate` and `recommend`: the GenAIOps loop over what the pipeline stored."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import typer

from evalstream.cli.common import ClickHouseDsn, connect_clickhouse, console, load_settings, require_clickhouse, scorer_set, stdout

Since = typer.Option(None, "--since", help="from this time (ISO 8601, e.g. 2026-11-01 or 2026-11-01T00:00:00Z); default: 30 days ago")
PolicyFile = typer.Option(None, "--policy", help="a drift policy file \\[env EVALSTREAM_DRIFT_POLICY; default the shipped one]")


def agreement(
    clickhouse: Optional[str] = ClickHouseDsn,
    since: Optional[str] = Since,
    tenant: str = typer.Option("", help="one tenant only"),
    target_precision: float = typer.Option(0.8, min=0.01, max=1.0, help="report the threshold that reaches this precision"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of text"),
) -> None:
    """How well each scorer agrees with human labels, per scorer and use case."""
    from evalstream.cli.jsonl import dumps
    from evalstream.genaiops import agreement as agree

    client = connect_clickhouse(load_settings(clickhouse=clickhouse).clickhouse.dsn)
    reports = agree.measure(agree.load_pairs(client, since=_since(since), tenant=tenant), target_precision=target_precision)
    stdout.print(dumps(agree.as_json(reports)) if as_json else agree.render_text(reports), markup=False, highlight=False)


def gate(
    candidate: Path = typer.Option(..., "--candidate", exists=True, dir_okay=False, help="the candidate version's outputs: events, one per line"),
    prompt_id: str = typer.Option(..., "--prompt-id"),
    clickhouse: Optional[str] = ClickHouseDsn,
    tenant: Optional[str] = typer.Option(None, help="default: the candidate events' tenant"),
    app: Optional[str] = typer.Option(None, help="default: the candidate events' app"),
    use_case: Optional[str] = typer.Option(None, "--use-case", help="default: the candidate events' use case"),
    current_version: Optional[str] = typer.Option(None, "--current-version", help="default: the version with the latest production events"),
    since: Optional[str] = typer.Option(None, "--since", help="production events from this time; default: the policy's baseline_days"),
    policy: Optional[Path] = PolicyFile,
    markdown: Optional[Path] = typer.Option(None, "--markdown", dir_okay=False, help="also write the report as Markdown here (a CI comment)"),
) -> None:
    """Sign off a prompt version: its offline outputs against production's, by the drift policy. Exits 1 when it fails."""
    from evalstream.drift.policy import load_policy
    from evalstream.genaiops import gate as g

    settings = load_settings(clickhouse=clickhouse)
    require_clickhouse(settings.clickhouse.dsn)  # before the candidate is scored: the models take a while
    loaded = load_policy(policy or settings.drift.policy)
    records, versions, keys = _score_candidate(candidate, settings, loaded)
    try:
        target = g.Target(
            tenant=tenant or _only(keys, "tenant"), app=app or _only(keys, "app"), use_case=use_case or _only(keys, "use_case"),
            prompt_id=prompt_id, candidate_version=_only(keys, "prompt_version"),
        )
        client = connect_clickhouse(settings.clickhouse.dsn)
        start = _since(since) if since else datetime.now(timezone.utc) - timedelta(days=loaded.windows.baseline_days)
        target = g.Target(**{**target.__dict__, "current_version": current_version or g.current_version(client, target, start)})
        current, production_versions = g.production_records(client, target, start)
    except g.GateError as exc:
        console.print(f"[red]gate cannot run: {exc}[/]")
        raise typer.Exit(2) from None
    regions = keys["region"]
    effective = loaded.resolve(target.tenant, next(iter(regions)) if len(regions) == 1 else "", target.use_case)
    report = g.evaluate(target, current, records, effective, policy_name=loaded.name)
    if versions != production_versions and production_versions:
        report.notes.append(
            f"scorer versions differ: production {sorted(production_versions)}, candidate {sorted(versions)}; a difference may be the scorers'"
        )
    stdout.print(g.render_text(report), markup=False, highlight=False)
    if markdown:
        markdown.write_text(g.render_markdown(report))
    raise typer.Exit(0 if report.passed else 1)


def recommend(
    use_case: str = typer.Option(..., "--use-case"),
    clickhouse: Optional[str] = ClickHouseDsn,
    since: Optional[str] = Since,
    tenant: str = typer.Option("", help="one tenant only"),
    app: str = typer.Option("", help="one app only"),
    max_unfaithful_rate: Optional[float] = typer.Option(None, help="target: at most this share flagged unfaithful [default: the policy's targets; off: a negative value]"),
    max_toxic_rate: Optional[float] = typer.Option(None, help="target: at most this share flagged toxic [default: the policy's; off: negative]"),
    max_refusal_rate: Optional[float] = typer.Option(None, help="target: at most this share of refusals [default: the policy's; off: negative]"),
    min_faithfulness: Optional[float] = typer.Option(None, "--min-faithfulness", help="target: mean faithfulness at least this [default: the policy's]"),
    min_events: int = typer.Option(0, help="raise the minimum sample above the policy's (never below it)"),
    policy: Optional[Path] = PolicyFile,
) -> None:
    """The cheapest model / prompt version that meets the quality targets for a use case, with the evidence."""
    from evalstream.drift.policy import load_policy
    from evalstream.genaiops import recommend as rec

    settings = load_settings(clickhouse=clickhouse)
    effective = load_policy(policy or settings.drift.policy).resolve(tenant, "", use_case)
    flags = {"max_unfaithful_rate": max_unfaithful_rate, "max_toxic_rate": max_toxic_rate, "max_refusal_rate": max_refusal_rate, "min_faithfulness": min_faithfulness}
    policy_targets = effective.targets.model_dump()  # the use case's targets, inherited over the policy's layers
    targets = rec.Targets(**{name: _target(policy_targets[name] if flag is None else flag) for name, flag in flags.items()})
    client = connect_clickhouse(settings.clickhouse.dsn)
    options = rec.load_options(client, use_case=use_case, since=_since(since), tenant=tenant, app=app)
    result = rec.recommend(use_case, options, targets, max(min_events, effective.min_window_samples))
    stdout.print(rec.render_text(result), markup=False, highlight=False)


def _score_candidate(path: Path, settings, policy) -> tuple[list, set[str], dict[str, set[str]]]:
    """The candidate's score records, the scorer versions that scored them, and the keys they carry."""
    from evalstream.cli.jsonl import read_lines
    from evalstream.contracts import ScoreRecord
    from evalstream.streams.pipeline import Pipeline, SourceRecord

    pipeline = Pipeline(scorer_set(settings, policy), max_event_bytes=settings.worker.max_event_bytes, redact_pii=settings.worker.redact_pii)
    result = pipeline.process([SourceRecord(str(path), 0, number, line) for number, line in read_lines(path)])
    for dead in result.dead_letters:
        console.print(f"[yellow]candidate line {dead.record.offset} skipped ({dead.invalid.kind}): {dead.invalid.reason}[/]")
    if not result.rows:
        console.print("[red]no valid candidate events[/]")
        raise typer.Exit(2)
    keys = {name: {getattr(r, name) or "" for r in result.rows} for name in ("tenant", "app", "use_case", "region", "prompt_version")}
    versions = {f"{name} {version}" for r in result.rows for name, version in (r.scorers or {}).items()}
    return [ScoreRecord.of_row(r) for r in result.rows], versions, keys


def _only(keys: dict[str, set[str]], name: str) -> str:
    values = keys[name]
    if len(values) != 1:
        from evalstream.genaiops.gate import GateError

        raise GateError(f"the candidate events carry {len(values)} values of {name} ({sorted(values)[:5]}): give one with its flag")
    return next(iter(values))


def _target(value: float | None) -> float | None:
    return None if value is None or value < 0 else value


def _since(text: str | None) -> datetime:
    if not text:
        return datetime.now(timezone.utc) - timedelta(days=30)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

