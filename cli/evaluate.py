"""`evalstream evaluate` and `evalstream schema`: the scorers' quality, the event contract's schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Column, Table

from evalstream.cli.common import console, fail, load_settings, stdout


def evaluate(
    toxicity_set: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, help="default: the shipped hand-labeled set"),
    faithfulness_set: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, help="default: the shipped hand-labeled set"),
    relevance_set: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, help="rows with prompt, response, relevant, refusal (default: the shipped set)"),
    refusal_set: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, help="rows with prompt, response, refusal (default: the shipped set)"),
    workload: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, help="a generated workload (default: the bundled sample)"),
    workload_truth: Optional[Path] = typer.Option(None, exists=True, dir_okay=False, help="its generator's truth file (default: the bundled sample's)"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="also write the figures here"),
) -> None:
    """Score the labeled sets: ROC-AUC, precision and recall at the default thresholds, at each set's
    prevalence and reweighted to 10% flagged (precision@10% = 0.1 TPR / (0.1 TPR + 0.9 FPR)). A faithfulness
    model set in EVALSTREAM_FAITHFULNESS_MODEL (nli:/path/to/cross-encoder) is measured beside the default."""
    from dataclasses import asdict, fields

    from evalstream.evaluation.metrics import DatasetError
    from evalstream.evaluation.quality import EvaluationSets, check_sets, measure_all
    from evalstream.scorers.embeddings import Embedder
    from evalstream.scorers.registry import support_model

    sets = EvaluationSets.defaults()
    given = {"toxicity": toxicity_set, "faithfulness": faithfulness_set, "relevance": relevance_set, "refusal": refusal_set,
             "workload": workload, "workload_truth": workload_truth}
    for f in fields(sets):
        if given.get(f.name) is not None:
            setattr(sets, f.name, given[f.name])
    missing = [f.name for f in fields(sets) if getattr(sets, f.name) is None or not getattr(sets, f.name).exists()]
    if missing:
        console.print(f"[yellow]not evaluated (no such set): {', '.join(missing)}[/yellow]")
    try:
        check_sets(sets)
    except DatasetError as exc:
        fail(str(exc), code=2)
    choice = load_settings().scoring.faithfulness_model
    embedder = Embedder()
    support = None
    if choice not in ("factcheck", "cosine"):  # measured beside the default and the baseline, on the same sets
        try:
            support = support_model(choice, embedder)
        except (FileNotFoundError, ValueError, ImportError) as exc:
            fail(f"EVALSTREAM_FAITHFULNESS_MODEL={choice}: {exc}", code=2)
    results = measure_all(sets, embedder=embedder, faithfulness_support=support, on_set=lambda name: console.print(f"scoring {name}", highlight=False))
    # set names fold rather than end in "...": faithfulness_styles and faithfulness_fresh must stay apart in a narrow terminal
    table = Table(Column("scorer", overflow="fold"), Column("dataset", overflow="fold"), "n", "flagged share", "ROC-AUC", "flags", "threshold", "precision", "recall", "precision @10%",
                  "precision @recall 0.8", title="scorer quality (precision @10%: reweighted to 10% flagged; @recall 0.8: the best threshold that finds 80%)")
    for q in results:
        table.add_row(q.scorer, q.dataset, str(q.n), f"{q.prevalence:.1%}", f"{q.roc_auc:.3f}", q.positive, f"{q.threshold:.2f}",
                      f"{q.precision:.3f}", f"{q.recall:.3f}", f"{q.precision_at_10pct:.3f}", f"{q.precision_at_recall_80:.3f}")
    stdout.print(table)
    for q in results:
        if q.copies_flagged is not None:
            stdout.print(f"{q.scorer} on {q.dataset}: {q.copies_flagged:.1%} of the faithful copies and restatements flagged", highlight=False)
    if json_out:
        json_out.write_text(json.dumps([asdict(q) for q in results], indent=2) + "\n")


def schema(
    out: Optional[Path] = typer.Argument(None, dir_okay=False, help="where to write the JSON Schema (default: standard output)"),
) -> None:
    """Write the event contract's JSON Schema (the repository keeps it in producer/event.schema.json)."""
    from evalstream.producer.contract import json_schema, write_json_schema

    if out is None:
        print(json.dumps(json_schema(), indent=2, sort_keys=True))
        return
    write_json_schema(out)
    console.print(f"wrote {out}")
