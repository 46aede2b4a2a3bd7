"""Train the offline faithfulness model on the team's hand-written pairs.

Deterministic: `python scorers/train_faithfulness.py` reproduces scorers/models/faithfulness_factcheck.json.
Each response sentence is one example: unsupported if the data names it so. The evaluation
set (evaluation/data/) is never seen here.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TRAIN = HERE / "data" / "faithfulness_train.jsonl"
OUT = HERE.parent / "scorers" / "models" / "faithfulness_factcheck.json"
C = 1.0


def claim_labels(row: dict, claims: list[str]) -> list[int]:
    return [0 if any(c in u or u in c for u in row["unsupported"]) else 1 for c in claims]


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from evalstream.scorers.claim_features import FEATURES
    from evalstream.scorers.embeddings import Embedder
    from evalstream.scorers.factcheck import features_for
    from evalstream.scorers.faithfulness import claims_of

    rows = [json.loads(line) for line in TRAIN.read_text().splitlines() if line.strip()]
    items = [(r["context"], claims_of(r["response"]) or [r["response"]]) for r in rows]
    matrices = features_for(Embedder(device="cpu", backend="torch"), items)  # the reference backend
    X = np.vstack(matrices)
    y = np.array([label for r, (_, claims) in zip(rows, items) for label in claim_labels(r, claims)])
    # Folds by context, so no passage is in both the fitting and the scoring part.
    context_of = {json.dumps(r["context"]): i for i, r in enumerate(rows)}
    groups = np.array([context_of[json.dumps(r["context"])] for r, (_, c) in zip(rows, items) for _ in c])

    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))
    cv = cross_val_predict(model, X, y, cv=GroupKFold(n_splits=5), groups=groups, method="predict_proba")[:, 1]
    cv_auc = roc_auc_score(y, cv)
    # Flag a claim as unsupported below the threshold that maximises F1 on "unsupported".
    candidates = np.round(np.arange(0.2, 0.81, 0.05), 2)
    f1 = [2 * ((cv < t) & (y == 0)).sum() / max((cv < t).sum() + (y == 0).sum(), 1) for t in candidates]
    threshold = float(candidates[int(np.argmax(f1))])

    model.fit(X, y)
    scaler, lr = model[0], model[1]
    data_hash = hashlib.sha256(TRAIN.read_bytes()).hexdigest()[:12]
    spec = {
        "version": f"1-{data_hash}",
        "features": list(FEATURES),
        "trained_on": {"file": "training/data/faithfulness_train.jsonl", "events": len(rows), "claims": int(len(y)), "sha256_12": data_hash},
        "cross_validated_claim_roc_auc": round(float(cv_auc), 4),
        "threshold": threshold,
        "mean": [round(float(v), 6) for v in scaler.mean_],
        "scale": [round(float(v), 6) for v in scaler.scale_],
        "coef": [round(float(v), 6) for v in lr.coef_[0]],
        "intercept": round(float(lr.intercept_[0]), 6),
    }
    OUT.write_text(json.dumps(spec, indent=1) + "\n")
    print(f"wrote {OUT}: {len(y)} claims, cross-validated claim AUC {cv_auc:.3f}, threshold {threshold}", file=sys.stderr)


if __name__ == "__main__":
    main()
