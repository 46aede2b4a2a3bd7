"""Quality of the scorers on the team's hand-labeled sets: ROC-AUC and precision/recall at the
default thresholds. `evalstream evaluate` prints it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence
from uuid import uuid4

import numpy as np

from evalstream.producer import GenAIEvent


@dataclass
class Quality:
    scorer: str
    dataset: str
    n: int
    roc_auc: float
    threshold: float
    precision: float
    recall: float
    positive: str  # what the scorer flags, e.g. "toxic" or "unfaithful"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def quality(scorer: str, dataset: Path, flagged: Sequence[int], risk: Sequence[float], threshold: float, positive: str) -> Quality:
    """`risk` is high for the positive class; a text is flagged when risk >= threshold."""
    from sklearn.metrics import precision_score, recall_score, roc_auc_score

    y, r = np.array(flagged), np.array(risk, dtype=float)
    pred = r >= threshold
    return Quality(
        scorer, dataset.name, len(y), float(roc_auc_score(y, r)), threshold,
        float(precision_score(y, pred, zero_division=0)), float(recall_score(y, pred, zero_division=0)), positive,
    )


def as_event(prompt: str, response: str, context: list[str] | None = None) -> GenAIEvent:
    return GenAIEvent(
        event_id=uuid4(), ts=datetime.now(timezone.utc), tenant="eval", app="eval", region="eval", use_case="eval",
        provider="eval", model="eval", prompt=prompt, response=response, context=context,
    )


def toxicity_quality(dataset: Path, scorers: dict[str, tuple[Callable[[list[str]], Sequence[float]], float]]) -> list[Quality]:
    rows = read_jsonl(dataset)
    texts, labels = [r["text"] for r in rows], [r["toxic"] for r in rows]
    return [quality(name, dataset, labels, predict(texts), threshold, "toxic") for name, (predict, threshold) in scorers.items()]


def faithfulness_quality(dataset: Path, scorers: dict[str, tuple[Callable[[list[GenAIEvent]], Sequence[float]], float]]) -> list[Quality]:
    rows = read_jsonl(dataset)
    events = [as_event(r["prompt"], r["response"], r["context"]) for r in rows]
    unfaithful = [1 - r["faithful"] for r in rows]
    out = []
    for name, (predict, threshold) in scorers.items():
        faithfulness = np.array(predict(events), dtype=float)
        q = quality(name, dataset, unfaithful, 1.0 - faithfulness, 1.0 - threshold, "unfaithful")
        q.threshold = threshold  # reported on the faithfulness scale: flagged below it
        out.append(q)
    return out
