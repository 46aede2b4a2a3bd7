"""Train the relevance and refusal heads; writes scorers/models/relevance_head.json.

Deterministic: `python training/train_relevance.py` reproduces the committed file from
training/data/relevance_train.jsonl (built by training/data/relevance_source.py); the refusal head
also learns from training/data/refusal_train.jsonl (hand-written declines, deflections, hand-overs
and partial refusals in many styles, and answers that only look like them: "I can't wait to help",
"Unfortunately the store closes at 5pm"). The evaluation
sets (evaluation/data/relevance_eval.jsonl, refusal_eval.jsonl, the sample workload) are never
read here: regularisation, calibration and thresholds all come from cross-validation on the
training set, folds grouped by question so that an answer and its variants stay on one side.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from uuid import UUID

import numpy as np

HERE = Path(__file__).resolve().parent
TRAIN = HERE / "data" / "relevance_train.jsonl"
REFUSAL_TRAIN = HERE / "data" / "refusal_train.jsonl"
OUT = HERE.parent / "scorers" / "models" / "relevance_head.json"
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
FOLDS = 5
PREVALENCE = 0.10  # thresholds are chosen for F1 with precision reweighted to this share of positives

# Which way each piece of evidence may push (+1: only up, -1: only down, 0: either way). A head
# trained on hand-written data learns how that data was written ("answers with numbers are
# off-topic" because the off-topic answers of this set came from factual siblings); the signs
# keep each feature to the meaning it has whatever the writing style.
RELEVANCE_SIGNS = {
    "question_cos_best": 1, "prompt_response_cos": 1, "source_response_cos": 1, "summary_task": 0, "summary_x_source_cos": 1,
    "word_overlap": 1, "question_coverage": 1, "log_words": 1, "empty": -1, "truncated": -1, "courtesy_share": -1, "typed_answer_missing": -1,
    "refusal_decline": -1, "refusal_decline_first": -1, "refusal_deflect": -1, "refusal_ai_disclaimer": -1, "refusal_policy": -1,
    "refusal_apology_start": -1, "refusal_prototype_cos": -1, "refusal_content_sentences": 1, "refusal_has_number": 1, "refusal_embedding_logit": -1,
}
REFUSAL_SIGNS = {
    "decline": 1, "decline_first": 1, "deflect": 1, "ai_disclaimer": 1, "policy": 1, "apology_start": 1, "prototype_cos": 1,
    "content_sentences": -1, "has_number": -1, "embedding_logit": 1,
}
EMBEDDING_HEAD_OUT = HERE.parent / "scorers" / "models" / "refusal_embedding_head.json"
EMBEDDING_C = 1.0


class SignConstrainedLogistic:
    """L2-regularised logistic regression, classes weighted to balance, with sign bounds on the weights."""

    def __init__(self, C: float, signs: list[int]) -> None:
        self.C, self.signs = C, signs

    def fit(self, Z: np.ndarray, y: np.ndarray) -> "SignConstrainedLogistic":
        from scipy.optimize import minimize

        weight = np.where(y == 1, len(y) / (2 * max(1, y.sum())), len(y) / (2 * max(1, (1 - y).sum())))
        n = Z.shape[1]

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:n], theta[n]
            z = Z @ w + b
            p = 1.0 / (1.0 + np.exp(-z))
            nll = float(np.sum(weight * (np.logaddexp(0.0, z) - y * z)))
            g = weight * (p - y)
            return nll + 0.5 / self.C * float(w @ w), np.append(Z.T @ g + w / self.C, g.sum())

        bounds = [(0, None) if s > 0 else (None, 0) if s < 0 else (None, None) for s in self.signs] + [(None, None)]
        result = minimize(loss, np.zeros(n + 1), jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 5000})
        self.coef_, self.intercept_ = result.x[:n], float(result.x[n])
        return self

    def decision_function(self, Z: np.ndarray) -> np.ndarray:
        return Z @ self.coef_ + self.intercept_


def reweighted_precision(tpr: float, fpr: float, prevalence: float) -> float:
    return prevalence * tpr / max(prevalence * tpr + (1 - prevalence) * fpr, 1e-12)


def threshold_for_prevalence(positive: np.ndarray, risk: np.ndarray, prevalence: float = PREVALENCE) -> tuple[float, dict]:
    """The risk threshold (flag when risk >= t) with the best F1 at `prevalence` positives; where
    several thresholds tie (a clean gap between the classes), the middle one of them."""
    candidates = []
    for t in np.round(np.arange(0.05, 0.96, 0.01), 2):
        flagged = risk >= t
        tpr = float((flagged & (positive == 1)).sum() / max(1, (positive == 1).sum()))
        fpr = float((flagged & (positive == 0)).sum() / max(1, (positive == 0).sum()))
        precision = reweighted_precision(tpr, fpr, prevalence)
        f1 = 2 * precision * tpr / max(precision + tpr, 1e-12)
        candidates.append((round(f1, 6), float(t), {"precision_at_10pct": round(precision, 3), "recall": round(tpr, 3), "fpr": round(fpr, 3)}))
    best = max(c[0] for c in candidates)
    tied = [c for c in candidates if c[0] == best]
    _, threshold, at = tied[len(tied) // 2]
    return threshold, at


def fit_head(X: np.ndarray, y: np.ndarray, groups: np.ndarray, features: tuple[str, ...], signs: dict[str, int], positive_is_low: bool) -> tuple[dict, np.ndarray]:
    """Cross-validated C, Platt scaling on out-of-fold logits, threshold; then the final fit on all rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    sign_list = [signs[name] for name in features]
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    Z = (X - mean) / scale
    folds = list(GroupKFold(n_splits=FOLDS).split(Z, y, groups))

    def oof_logits(C: float) -> np.ndarray:
        out = np.zeros(len(y))
        for train, test in folds:
            model = SignConstrainedLogistic(C, sign_list).fit(Z[train], y[train])
            out[test] = model.decision_function(Z[test])
        return out

    scores = {C: roc_auc_score(y, oof_logits(C)) for C in C_GRID}
    C = max(C_GRID, key=lambda c: (round(scores[c], 4), -c))  # ties: the stronger regularisation
    logits = oof_logits(C)
    platt = LogisticRegression(C=1e4, class_weight="balanced", max_iter=5000).fit(logits[:, None], y)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    oof_prob = 1.0 / (1.0 + np.exp(-(a * logits + b)))
    # The flagged class: an off-topic answer is flagged when relevance is LOW.
    positive, risk = (1 - y, 1.0 - oof_prob) if positive_is_low else (y, oof_prob)
    risk_threshold, at_threshold = threshold_for_prevalence(positive, risk)
    threshold = round(1.0 - risk_threshold, 2) if positive_is_low else risk_threshold
    final = SignConstrainedLogistic(C, sign_list).fit(Z, y)
    spec = {
        "features": list(features),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in final.coef_],
        "intercept": round(float(final.intercept_), 6),
        "signs": {name: sign for name, sign in zip(features, sign_list)},
        "platt": {"a": round(a, 6), "b": round(b, 6)},
        "regularisation_C": C,
        "cv_roc_auc_by_C": {str(c): round(s, 4) for c, s in scores.items()},
        "cv_roc_auc": round(float(roc_auc_score(y, oof_prob)), 4),
        "threshold": threshold,
        "threshold_how": f"best F1 on {FOLDS}-fold grouped out-of-fold probabilities with precision reweighted to {PREVALENCE:.0%} flagged-class prevalence",
        "at_threshold_cv": at_threshold,
    }
    return spec, oof_prob


def events_of(rows: list[dict]):
    from evalstream.producer import GenAIEvent

    ts = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return [
        GenAIEvent(event_id=UUID(int=i), ts=ts, tenant="train", app="train", region="train", use_case="train", provider="train",
                   model="train", prompt=r["prompt"], response=r["response"], context=r.get("context"))
        for i, r in enumerate(rows)
    ]


def fit_embedding_head(embedder, rows: list[dict], groups: np.ndarray) -> np.ndarray:
    """The refusal direction in embedding space (scorers/refusal.py `embedding_logit`): fitted on all
    rows and written out; returned are its out-of-fold logits, so that the heads above it learn how
    far to trust it on responses it has not seen."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from evalstream.scorers.refusal import EMBEDDING_LOGIT_CLIP, response_vector
    from evalstream.scorers.relevance import MAX_RESPONSE_SENTENCES, _sentences

    said = np.array([bool(r["response"].strip()) for r in rows])
    X = np.zeros((len(rows), embedder.dim))
    for i, r in enumerate(rows):
        if said[i]:
            X[i] = response_vector(embedder.encode(_sentences(r["response"], MAX_RESPONSE_SENTENCES)))
    y = np.array([r["refusal"] for r in rows])

    def model():
        return LogisticRegression(C=EMBEDDING_C, class_weight="balanced", max_iter=5000)

    oof = np.zeros(len(rows))
    for train, test in GroupKFold(n_splits=FOLDS).split(X, y, groups):
        train = train[said[train]]
        oof[test] = model().fit(X[train], y[train]).decision_function(X[test])
    final = model().fit(X[said], y[said])
    EMBEDDING_HEAD_OUT.write_text(json.dumps({
        "embedding_model": embedder.name, "regularisation_C": EMBEDDING_C, "rows": int(said.sum()), "refusals": int(y[said].sum()),
        "coef": [round(float(v), 6) for v in final.coef_[0]], "intercept": round(float(final.intercept_[0]), 6),
    }) + "\n")
    return np.where(said, np.clip(oof, -EMBEDDING_LOGIT_CLIP, EMBEDDING_LOGIT_CLIP), 0.0)


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    from evalstream.scorers.embeddings import Embedder
    from evalstream.scorers.refusal import FEATURES as REFUSAL_FEATURES
    from evalstream.scorers.relevance import FEATURES, RelevanceFeaturizer

    rows = read_rows(TRAIN)
    refusal_rows = read_rows(REFUSAL_TRAIN)  # refusal labels only: not used for the relevance head
    embedder = Embedder(device="cpu", backend="torch")  # the reference the committed heads are trained with
    groups = np.array([r["group"] for r in rows + refusal_rows])
    embedding_oof = fit_embedding_head(embedder, rows + refusal_rows, groups)
    X_rel, X_ref = RelevanceFeaturizer(embedder).transform(events_of(rows + refusal_rows))
    X_ref[:, REFUSAL_FEATURES.index("embedding_logit")] = embedding_oof
    # The relevance head already reads the refusal evidence through the patterns; kept at zero, the
    # embedding direction gets no weight there and changes the refusal flag only.
    X_rel[:, FEATURES.index("refusal_embedding_logit")] = 0.0
    X_rel = X_rel[: len(rows)]
    relevant = np.array([r["relevant"] for r in rows])
    refusal = np.array([r["refusal"] for r in rows + refusal_rows])
    relevance_spec, relevance_oof = fit_head(X_rel, relevant, groups[: len(rows)], FEATURES, RELEVANCE_SIGNS, positive_is_low=True)
    refusal_spec, _ = fit_head(X_ref, refusal, groups, REFUSAL_FEATURES, REFUSAL_SIGNS, positive_is_low=False)
    data_hash = hashlib.sha256(TRAIN.read_bytes() + REFUSAL_TRAIN.read_bytes()).hexdigest()[:12]
    spec = {
        "version": f"1-{data_hash}",
        "embedding_model": embedder.name,
        "trained_on": {"file": "training/data/relevance_train.jsonl", "rows": len(rows), "relevant": int(relevant.sum()), "refusals": int(refusal[: len(rows)].sum()),
                       "refusal_file": "training/data/refusal_train.jsonl", "refusal_rows": len(refusal_rows), "refusal_file_refusals": int(sum(r["refusal"] for r in refusal_rows)),
                       "sha256_12": data_hash},
        "relevance": relevance_spec,
        "refusal": refusal_spec,
    }
    OUT.write_text(json.dumps(spec, indent=1) + "\n")
    kinds = sorted({r["kind"] for r in rows})
    print(f"wrote {OUT}: relevance cv ROC-AUC {relevance_spec['cv_roc_auc']} (C={relevance_spec['regularisation_C']}, threshold {relevance_spec['threshold']}),"
          f" refusal cv ROC-AUC {refusal_spec['cv_roc_auc']} (threshold {refusal_spec['threshold']})", file=sys.stderr)
    for kind in kinds:
        idx = [i for i, r in enumerate(rows) if r["kind"] == kind]
        print(f"  {kind:32s} n={len(idx):3d} mean out-of-fold relevance {relevance_oof[idx].mean():.2f}", file=sys.stderr)
    for name, w in zip(FEATURES, relevance_spec["coef"]):
        print(f"  relevance coef {name:28s} {w:+.3f}", file=sys.stderr)
    for name, w in zip(REFUSAL_FEATURES, refusal_spec["coef"]):
        print(f"  refusal coef {name:28s} {w:+.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
