"""How well the scorers agree with people: human labels (the feedback table) against the stored scores.

Per scorer and use case, on the events that carry both a human label and that scorer's score:
- ROC-AUC of the score against the label (bootstrap interval): does the score rank as people do?
- precision and recall of the stored flag (`toxic`, `unfaithful`: the threshold in force when the
  event was scored), with Wilson intervals;
- calibration: reliability bins (mean score against the share people labelled positive);
- the threshold that would reach a target precision, and the recall it would keep.
"Positive" is the problem a scorer looks for: toxic, not faithful, not relevant. Several raters
of one event are combined by majority (a tie says nothing and is left out); a rater's later label
replaces their earlier one. With fewer than MIN_PER_CLASS labels of either class a number would
be noise: the report says "too few labels" instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

import numpy as np

from evalstream.genaiops.intervals import Estimate, roc_auc_interval, wilson

MIN_PER_CLASS = 10  # labels of each class before AUC, calibration or a threshold mean anything
MIN_FLAGGED = 10  # flagged events before a precision means anything
CALIBRATION_BINS = 10
DEFAULT_TARGET_PRECISION = 0.8


@dataclass(frozen=True)
class ScorerLink:
    """How one scorer's stored columns meet one human label."""

    scorer: str  # the scorer's name in the `scorers` map
    label: str  # the feedback label
    positive_when_label_is: bool  # the problem: toxic = yes, faithful = no, relevant = no
    score_column: str
    higher_score_is_positive: bool  # toxicity: yes; faithfulness and relevance: a low score is the problem
    flag_column: str | None  # the stored boolean at the scorer's threshold, where there is one


LINKS = (
    ScorerLink("toxicity", "toxic", True, "toxicity", True, "toxic"),
    ScorerLink("faithfulness", "faithful", False, "faithfulness", False, "unfaithful"),
    ScorerLink("relevance", "relevant", False, "relevance", False, None),
)

PAIRS_SQL = """
WITH labels AS
(
    SELECT tenant, event_id, label, avg(value) AS human, count() AS raters
    FROM
    (
        SELECT tenant, event_id, label, annotator, argMax(value, ts) AS value
        FROM feedback
        WHERE label IN ('toxic', 'faithful', 'relevant') AND event_ts >= {since:DateTime64(3, 'UTC')}
          AND ({tenant:String} = '' OR tenant = {tenant:String})
        GROUP BY tenant, event_id, label, annotator
    )
    GROUP BY tenant, event_id, label
)
SELECT l.label AS label, s.use_case AS use_case, l.human AS human, s.toxicity AS toxicity, s.toxic AS toxic,
       s.faithfulness AS faithfulness, s.unfaithful AS unfaithful, s.relevance AS relevance, s.scorers AS scorers
FROM labels AS l
INNER JOIN
(
    SELECT tenant, event_id, use_case, toxicity, toxic, faithfulness, unfaithful, relevance, scorers
    FROM scored_events
    WHERE (tenant, event_id) IN (SELECT tenant, event_id FROM labels)
    LIMIT 1 BY tenant, event_id
) AS s ON s.tenant = l.tenant AND s.event_id = l.event_id
"""


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    n: int
    mean_score: float
    positive_rate: float


@dataclass(frozen=True)
class Threshold:
    value: float  # in the scorer's own units
    direction: str  # "score >= value" or "score < value" flags the event
    precision: Estimate
    recall: Estimate


@dataclass
class Agreement:
    scorer: str
    use_case: str
    labels: int
    positives: int
    versions: list[str]
    auc: Estimate | None = None
    precision: Estimate | None = None  # of the stored flag
    recall: Estimate | None = None
    calibration: list[Bin] = field(default_factory=list)
    expected_calibration_error: float | None = None
    target_precision: float = DEFAULT_TARGET_PRECISION
    threshold_for_target: Threshold | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def negatives(self) -> int:
        return self.labels - self.positives

    @property
    def enough_labels(self) -> bool:
        return min(self.positives, self.negatives) >= MIN_PER_CLASS


def load_pairs(client: Any, *, since: datetime, tenant: str = "") -> list[dict[str, Any]]:
    result = client.query(PAIRS_SQL, parameters={"since": since, "tenant": tenant})
    return [dict(zip(result.column_names, row)) for row in result.result_rows]


def measure(pairs: Iterable[dict[str, Any]], *, target_precision: float = DEFAULT_TARGET_PRECISION) -> list[Agreement]:
    """One Agreement per scorer and use case that has any labelled, scored event."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for pair in pairs:
        for link in LINKS:
            if pair["label"] == link.label and link.scorer in (pair["scorers"] or {}) and pair[link.score_column] is not None:
                if pair["human"] != 0.5:  # raters split evenly: no verdict
                    groups.setdefault((link.scorer, pair["use_case"]), []).append(pair)
    links = {link.scorer: link for link in LINKS}
    return [_agreement(links[scorer], use_case, rows, target_precision) for (scorer, use_case), rows in sorted(groups.items())]


def _agreement(link: ScorerLink, use_case: str, rows: list[dict[str, Any]], target_precision: float) -> Agreement:
    positive = np.array([(r["human"] > 0.5) == link.positive_when_label_is for r in rows])
    raw = np.array([float(r[link.score_column]) for r in rows])
    score = raw if link.higher_score_is_positive else 1.0 - raw  # higher = more likely the problem
    versions = sorted({f"{link.scorer} {r['scorers'][link.scorer]}" for r in rows})
    report = Agreement(link.scorer, use_case, len(rows), int(positive.sum()), versions, target_precision=target_precision)
    if len(versions) > 1:
        report.notes.append("labels span several scorer versions: the numbers mix them")
    if link.flag_column:
        _flag_agreement(report, positive, np.array([bool(r[link.flag_column]) for r in rows]))
    else:
        report.notes.append(f"{link.scorer} sets no flag: no precision or recall at a threshold")
    if not report.enough_labels:
        report.notes.append(
            f"too few labels: {report.positives} positive and {report.negatives} negative; "
            f"AUC, calibration and thresholds need {MIN_PER_CLASS} of each"
        )
        return report
    report.auc = roc_auc_interval(score, positive)
    report.calibration = _reliability(score, positive)
    report.expected_calibration_error = sum(b.n * abs(b.mean_score - b.positive_rate) for b in report.calibration) / len(rows)
    report.threshold_for_target = _threshold_for_precision(score, positive, target_precision, link.higher_score_is_positive)
    if report.threshold_for_target is None:
        report.notes.append(f"no threshold reaches precision {target_precision:.0%} on these labels")
    return report


def _flag_agreement(report: Agreement, positive: np.ndarray, flagged: np.ndarray) -> None:
    true_flags = int((flagged & positive).sum())
    if flagged.sum() >= MIN_FLAGGED:
        report.precision = wilson(true_flags, int(flagged.sum()))
    else:
        report.notes.append(f"only {int(flagged.sum())} flagged events labelled: precision needs {MIN_FLAGGED}")
    if positive.sum() >= MIN_PER_CLASS:
        report.recall = wilson(true_flags, int(positive.sum()))


def _reliability(score: np.ndarray, positive: np.ndarray) -> list[Bin]:
    bins = []
    index = np.minimum((np.clip(score, 0.0, 1.0) * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    for i in range(CALIBRATION_BINS):
        inside = index == i
        if inside.any():
            bins.append(Bin(i / CALIBRATION_BINS, (i + 1) / CALIBRATION_BINS, int(inside.sum()), float(score[inside].mean()), float(positive[inside].mean())))
    return bins


def _threshold_for_precision(score: np.ndarray, positive: np.ndarray, target: float, higher_is_positive: bool) -> Threshold | None:
    """The cut with the most recall whose flagged set, of at least MIN_FLAGGED events, reaches `target`
    precision; of cuts with that recall, the tightest (flagging more would add only false alarms)."""
    order = np.argsort(-score, kind="stable")
    s, y = score[order], positive[order]
    true_flags = np.cumsum(y)
    valid = [
        i for i in range(MIN_FLAGGED - 1, len(s))
        if (i + 1 == len(s) or s[i + 1] != s[i]) and true_flags[i] / (i + 1) >= target  # a cut falls between different scores
    ]
    if not valid:
        return None
    most = max(int(true_flags[i]) for i in valid)
    best = min(i for i in valid if true_flags[i] == most)
    flagged, hits = best + 1, int(true_flags[best])
    cut = float(s[best])
    value, direction = (cut, "score >= value") if higher_is_positive else (1.0 - cut, "score <= value")
    return Threshold(value, direction, wilson(hits, flagged), wilson(hits, int(y.sum())))


def render_text(reports: list[Agreement]) -> str:
    if not reports:
        return "no labelled, scored events in the range: nothing to compare"
    lines = []
    for r in reports:
        lines.append(f"{r.scorer} / {r.use_case}: {r.labels} labels ({r.positives} positive, {r.negatives} negative); {', '.join(r.versions)}")
        if r.auc:
            lines.append(f"  ROC-AUC                {r.auc.text()}")
        if r.precision:
            lines.append(f"  precision of the flag  {r.precision.text()}  ({r.precision.n} flagged)")
        if r.recall:
            lines.append(f"  recall of the flag     {r.recall.text()}  ({r.recall.n} positive)")
        if r.threshold_for_target:
            t = r.threshold_for_target
            op = ">=" if t.direction.startswith("score >=") else "<="
            lines.append(
                f"  for precision {r.target_precision:.0%}: flag when {r.scorer} {op} {t.value:.3f} -> precision {t.precision.text()}, recall {t.recall.text()}"
            )
        if r.calibration:
            lines.append(f"  calibration (ECE {r.expected_calibration_error:.3f}): " + "; ".join(
                f"[{b.low:.1f},{b.high:.1f}) n={b.n} score {b.mean_score:.2f} people {b.positive_rate:.2f}" for b in r.calibration
            ))
        lines += [f"  note: {note}" for note in r.notes]
    return "\n".join(lines)


def as_json(reports: list[Agreement]) -> list[dict[str, Any]]:
    from dataclasses import asdict

    def clean(value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return [clean({**asdict(r), "enough_labels": r.enough_labels}) for r in reports]
