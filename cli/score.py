"""`evalstream score`: score a file offline with the workers' scorers."""

from __future__ import annotations

from pathlib import Path

import typer

from evalstream.cli.common import console, load_settings, progress, scorer_set


def score(
    in_path: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="IN.jsonl"),
    out_path: Path = typer.Argument(..., dir_okay=False, metavar="OUT.jsonl"),
    batch_size: int = typer.Option(256, min=1),
) -> None:
    """Score a file offline with the workers' scorers: no Kafka, no storage."""
    from evalstream.cli.jsonl import count_lines, dumps, open_text, read_lines
    from evalstream.streams.offline import Skipped, score_lines
    from evalstream.streams.pipeline import Pipeline

    settings = load_settings()
    pipeline = Pipeline(
        scorer_set(settings), max_event_bytes=settings.worker.max_event_bytes, redact_pii=settings.worker.redact_pii
    )
    total, invalid, scored = count_lines(in_path), 0, 0
    with open_text(out_path, "wt") as out, progress() as bar:
        task = bar.add_task("scoring", total=total)
        for result in score_lines(pipeline, str(in_path), read_lines(in_path), batch_size):
            if isinstance(result, Skipped):
                invalid += 1
                console.print(f"[yellow]line {result.line} skipped ({result.invalid.kind}): {result.invalid.reason}[/]")
            else:
                scored += 1
                out.write(dumps(result.scores) + "\n")
            bar.advance(task)
    console.print(f"scored {scored} events into {out_path}; {invalid} invalid lines skipped")
