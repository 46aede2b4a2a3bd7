"""Faithfulness quality on the three kinds of set: (a) the hand-labeled set shipped in
evaluation/data/, (b) the bundled sample workload labeled by its generator's truth file, (c) the
sets written apart from the training data, by writers who had read none of it, in other styles
(faithfulness_styles.jsonl; faithfulness_fresh.jsonl, written 2026-12-01 evening by a writer who
had read no set at all; faithfulness_traffic.jsonl, written 2026-12-02 by another such writer in
the style of production RAG assistants, 30% unfaithful, mostly one bad clause among correct
ones). None of them is read by training/train_faithfulness.py; (c) chose nothing, not even the
threshold.

Rows: prompt, response, context (list of passages), faithful (0/1), and optionally use_case
and kind. Each set is reported whole and, for the workload, per use case.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from evalstream.evaluation.metrics import Quality, as_event, gzip_lines, quality, read_jsonl
from evalstream.contracts import GenAIEvent

Predict = Callable[[list[GenAIEvent]], Sequence[float]]
INDEPENDENT_SETS = ("faithfulness_styles.jsonl", "faithfulness_fresh.jsonl", "faithfulness_traffic.jsonl")


def workload_faithfulness_rows(events_path: Path, truth_path: Path) -> list[dict]:
    """The sample workload's answers with context, labeled by what its generator did to them.

    Unfaithful: the answer states a fact the generator changed, or a fact from a passage that is
    not in the context. Left out: malformed lines, and answers with nothing to judge (a refusal,
    an empty or failed answer).
    """
    events = {}
    for line in gzip_lines(events_path):
        try:
            event = json.loads(line)
            events[event["event_id"]] = event
        except (ValueError, KeyError, TypeError):
            continue
    rows = []
    for truth in read_jsonl(truth_path):
        event = events.get(truth.get("event_id"))
        if event is None or truth.get("malformed") or truth.get("refused") or truth.get("failed"):
            continue
        context, response = event.get("context"), event.get("response")
        if not isinstance(context, list) or not context or not isinstance(response, str) or not response.strip():
            continue
        kind = "off_topic" if truth.get("off_topic") else "changed_fact" if truth.get("unfaithful") else "copy"
        rows.append({"prompt": event["prompt"], "response": response, "context": context, "faithful": 0 if truth.get("unfaithful") else 1,
                     "use_case": truth.get("use_case"), "kind": kind})
    return rows


def faithfulness_rows_quality(dataset: str, rows: list[dict], name: str, predict: Predict, threshold: float, *, by_use_case: bool = False) -> list[Quality]:
    """ROC-AUC and precision/recall of "unfaithful" (faithfulness below `threshold`), whole and per use case."""
    events = [as_event(r["prompt"], r["response"], r["context"]) for r in rows]
    faithfulness = np.asarray(predict(events), dtype=float)
    unfaithful = np.array([1 - r["faithful"] for r in rows])
    groups = [("", np.ones(len(rows), dtype=bool))]
    if by_use_case:
        groups += [(f" {u}", np.array([r.get("use_case") == u for r in rows])) for u in sorted({r.get("use_case") for r in rows if r.get("use_case")})]
    out = []
    for suffix, mask in groups:
        q = quality(f"faithfulness: {name}", dataset + suffix, unfaithful[mask], 1.0 - faithfulness[mask], 1.0 - threshold + 1e-12, "unfaithful")
        q.threshold = threshold  # reported on the faithfulness scale: flagged below it
        copies = faithful_copies_flagged([r for r, m in zip(rows, mask) if m], faithfulness[mask], threshold)
        q.copies_flagged = None if np.isnan(copies) else copies
        out.append(q)
    return out


def faithful_copies_flagged(rows: list[dict], faithfulness: Sequence[float], threshold: float) -> float:
    """Share of faithful answers that copy or restate the context ("copy", "paraphrase" kinds) flagged."""
    picked = [f for r, f in zip(rows, faithfulness) if r["faithful"] == 1 and r.get("kind") in ("copy", "paraphrase")]
    return float(np.mean([f < threshold for f in picked])) if picked else float("nan")


def faithfulness_sets(labeled: Path | None, workload: Path | None, truth: Path | None, independent: Sequence[Path] = ()) -> list[tuple[str, list[dict], bool]]:
    """(name, rows, report per use case) for each set present."""
    sets = []
    if labeled and labeled.exists():
        sets.append((labeled.name, read_jsonl(labeled), False))
    if workload and truth and workload.exists() and truth.exists():
        sets.append((f"{workload.name} (generator truth)", workload_faithfulness_rows(workload, truth), True))
    sets += [(path.name, read_jsonl(path), False) for path in independent if path.exists()]
    return sets


def measure(embedder, sets: list[tuple[str, list[dict], bool]], configured=None, on_set: Callable[[str], None] = lambda name: None) -> list[Quality]:
    """The default (fact-check) model and the cosine baseline on each set, and beside them `configured`, the
    support model EVALSTREAM_FAITHFULNESS_MODEL names when it is another (an NLI cross-encoder from a local directory)."""
    from evalstream.scorers.factcheck import FactCheckSupport
    from evalstream.scorers.faithfulness import CosineSupport, FaithfulnessScorer

    scorers = {"factcheck (default)": FaithfulnessScorer(FactCheckSupport(embedder)),
               "cosine-minilm (baseline)": FaithfulnessScorer(CosineSupport(embedder))}
    if configured is not None:
        scorers[f"{configured.name} (configured)"] = FaithfulnessScorer(configured)
    out = []
    for dataset, rows, by_use_case in sets:
        on_set(f"faithfulness: {dataset}, {len(rows)} events")
        for name, scorer in scorers.items():
            out += faithfulness_rows_quality(dataset, rows, name, lambda e: scores(scorer, e), scorer.support_model.threshold,
                                             by_use_case=by_use_case and scorer.support_model.name != CosineSupport.name)
    return out


def scores(scorer, events: list[GenAIEvent]) -> list[float]:
    """Faithfulness per event; an answer with no claim to check is faithful (1.0)."""
    return [1.0 if r["faithfulness"] is None else r["faithfulness"] for r in scorer.score(events)]
