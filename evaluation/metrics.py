"""Quality of the scorers on labeled sets: ROC-AUC, and precision and recall at the default
threshold, at the set's own prevalence and reweighted to a realistic one. `evalstream evaluate`
prints it.

Reweighting. A labeled set rarely has the prevalence of real traffic, and precision depends on
it. Recall (TPR) and the false-positive rate (FPR) do not, so precision at prevalence pi is
recomputed from them as if negatives and positives were reweighted to pi : 1 - pi:

    precision@pi = pi * TPR / (pi * TPR + (1 - pi) * FPR)

Recall stays TPR. `REALISTIC_PREVALENCE` (10% flagged answers) is the share the design assumes
for unfaithful answers and uses for every flag.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence
from uuid import uuid4

import numpy as np

from evalstream.contracts import GenAIEvent

REALISTIC_PREVALENCE = 0.10


@dataclass
class Quality:
    scorer: str
    dataset: str
    n: int
    roc_auc: float
    threshold: float
    precision: float  # at the set's own prevalence
    recall: float
    positive: str  # what the scorer flags, e.g. "toxic" or "unfaithful"
    positives: int = 0
    prevalence: float = 0.0
    precision_at_10pct: float = 0.0  # precision reweighted to REALISTIC_PREVALENCE positives
    false_positive_rate: float = 0.0
    precision_at_recall_80: float = 0.0  # the best precision of any threshold that finds at least 80% (the set's prevalence)
    copies_flagged: float | None = None  # faithfulness: the share of faithful copies and restatements flagged


LABELS = {"faithful": (0, 1), "toxic": (0, 1), "refusal": (0, 1), "relevant": (0, 1, None)}  # the values a label may take


class DatasetError(ValueError):
    """A labeled set that cannot be read as one: the file, the line and what is wrong."""


def read_jsonl(path: Path, required: Sequence[str] = ()) -> list[dict]:
    """The rows of a JSON-lines file (gzipped where it ends in .gz); each must hold the `required` keys, and a
    label among them (LABELS) one of its values."""
    import gzip

    raw = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    rows = []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path.name} line {number}: not JSON ({exc.msg})") from None
        missing = [key for key in required if not isinstance(row, dict) or key not in row]
        if missing:
            raise DatasetError(f"{path.name} line {number}: no {', '.join(missing)} (each row needs {', '.join(required)})")
        for key in required:
            if key in LABELS and row[key] not in LABELS[key]:
                raise DatasetError(f"{path.name} line {number}: {key} is {row[key]!r}, not one of {', '.join(map(json.dumps, LABELS[key]))}")
        rows.append(row)
    return rows


def reweighted_precision(tpr: float, fpr: float, prevalence: float = REALISTIC_PREVALENCE) -> float:
    denominator = prevalence * tpr + (1 - prevalence) * fpr
    return float(prevalence * tpr / denominator) if denominator > 0 else 0.0


def quality(scorer: str, dataset: Path | str, flagged: Sequence[int], risk: Sequence[float], threshold: float, positive: str) -> Quality:
    """`flagged` is the truth (1: should be flagged); `risk` is high for it; flagged when risk >= threshold."""
    from sklearn.metrics import roc_auc_score

    y, r = np.asarray(flagged, dtype=int), np.asarray(risk, dtype=float)
    pred = r >= threshold
    tp, fp = int((pred & (y == 1)).sum()), int((pred & (y == 0)).sum())
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    tpr = tp / positives if positives else 0.0
    fpr = fp / negatives if negatives else 0.0
    auc = float(roc_auc_score(y, r)) if 0 < positives < len(y) else float("nan")
    return Quality(
        scorer, Path(dataset).name if isinstance(dataset, Path) else dataset, len(y), auc, threshold,
        tp / (tp + fp) if tp + fp else 0.0, tpr, positive, positives, positives / len(y) if len(y) else 0.0,
        reweighted_precision(tpr, fpr), fpr, precision_at_recall(y, r, 0.8),
    )


def precision_at_recall(truth: np.ndarray, risk: np.ndarray, recall: float) -> float:
    """The best precision of any threshold whose recall is at least `recall` (0 without positives)."""
    from sklearn.metrics import precision_recall_curve

    if not truth.any():
        return 0.0
    precisions, recalls, _ = precision_recall_curve(truth, risk)
    return float(precisions[recalls >= recall].max())


def as_event(prompt: str, response: str, context: list[str] | None = None, finish_reason: str | None = None) -> GenAIEvent:
    return GenAIEvent(
        event_id=uuid4(), ts=datetime.now(timezone.utc), tenant="eval", app="eval", region="eval", use_case="eval",
        provider="eval", model="eval", prompt=prompt, response=response, context=context, finish_reason=finish_reason,
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


# Relevance and refusal: rows carry prompt, response, optionally context and finish_reason, and
# the labels `relevant` (0/1, absent where the set does not label it) and `refusal` (0/1).
RelevancePredict = Callable[[list[GenAIEvent]], tuple[Sequence[float], Sequence[float]]]


def relevance_quality(dataset: str, rows: list[dict], name: str, predict: RelevancePredict, relevance_threshold: float, refusal_threshold: float) -> list[Quality]:
    """Off-topic (relevance below its threshold) against `relevant`, refusal against `refusal`."""
    events = [as_event(r["prompt"], r["response"], r.get("context"), r.get("finish_reason")) for r in rows]
    relevance, refusal = (np.asarray(v, dtype=float) for v in predict(events))
    out = []
    labeled = [i for i, r in enumerate(rows) if r.get("relevant") is not None]
    if labeled:
        q = quality(f"relevance: {name}", dataset, [1 - rows[i]["relevant"] for i in labeled], 1.0 - relevance[labeled], 1.0 - relevance_threshold, "off-topic")
        q.threshold = relevance_threshold  # reported on the relevance scale: flagged below it
        out.append(q)
    labeled = [i for i, r in enumerate(rows) if r.get("refusal") is not None]
    if labeled:
        out.append(quality(f"refusal: {name}", dataset, [rows[i]["refusal"] for i in labeled], refusal[labeled], refusal_threshold, "refusal"))
    return out


def workload_relevance_rows(events_path: Path, truth_path: Path) -> list[dict]:
    """The sample workload's answers labeled by what its generator did to them.

    Not relevant: an answer taken from a passage about another question (`off_topic`), a
    refusal (`refused`: a content filter's empty answer or a stock refusal), an empty or failed
    answer, and an abusive reply with no answer in it. Truncated answers are left out of the
    relevance rows: the generator cuts at a random point, so some still answer and some do not.
    """
    from evalstream.workload.generate import RUDE

    events = {}
    for line in (gzip_lines(events_path)):
        try:
            e = json.loads(line)
            events[e["event_id"]] = e
        except (ValueError, KeyError, TypeError):
            continue
    rows = []
    for truth in read_jsonl(truth_path):
        e = events.get(truth.get("event_id"))
        if e is None or truth.get("malformed") or not isinstance(e.get("response"), str) or not isinstance(e.get("prompt"), str):
            continue
        response = e["response"]
        refused = bool(truth.get("refused"))
        if truth.get("truncated") and not refused:
            relevant = None
        else:
            irrelevant = truth.get("off_topic") or refused or truth.get("failed") or not response.strip() or response.strip() in RUDE
            relevant = 0 if irrelevant else 1
        context = e.get("context") if isinstance(e.get("context"), list) else None
        rows.append({"prompt": e["prompt"], "response": response, "context": context, "finish_reason": e.get("finish_reason"),
                     "relevant": relevant, "refusal": int(refused), "use_case": truth.get("use_case")})
    return rows


def gzip_lines(path: Path) -> list[str]:
    import gzip

    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return raw.decode("utf-8", errors="replace").splitlines()
