"""Train the toxicity heads on the team's labeled data; writes scorers/models/toxicity_head.json.

Deterministic: `python -m evalstream.scorers.train_toxicity` (or `python scorers/train_toxicity.py`)
reproduces the committed file. The evaluation set (evaluation/data/) is never seen here.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TRAIN = HERE / "data" / "toxicity_train.jsonl"
OUT = HERE.parent / "scorers" / "models" / "toxicity_head.json"
C = 3.0  # chosen by cross-validation on the training set

# Which labels each hand-labelled category of toxic text carries (non-toxic ones carry none).
CATEGORY_LABELS = {
    "insult_no_profanity": {"insult"},
    "profane_insult": {"insult", "obscene"},
    "harassment": {"insult"},
    "threat_explicit": {"threat", "severe_toxicity"},
    "threat_veiled": {"threat"},
    "identity_contempt": {"identity_attack"},
    "dehumanizing": {"identity_attack", "severe_toxicity"},
    "sexual_harassment": {"obscene"},
    "self_harm_encouragement": {"severe_toxicity"},
    "non_english_toxic": set(),
}


def labels_of(row: dict) -> dict[str, int]:
    from evalstream.scorers.toxicity import LABELS

    extra = CATEGORY_LABELS.get(row["category"], set()) if row["toxic"] else set()
    return {label: int(row["toxic"]) if label == "toxicity" else int(label in extra) for label in LABELS}


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> float:
    candidates = np.round(np.arange(0.2, 0.81, 0.05), 2)
    f1 = []
    for t in candidates:
        pred = p >= t
        tp, fp, fn = (pred & (y == 1)).sum(), (pred & (y == 0)).sum(), (~pred & (y == 1)).sum()
        f1.append(2 * tp / max(2 * tp + fp + fn, 1))
    return float(candidates[int(np.argmax(f1))])


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from evalstream.scorers.embeddings import Embedder
    from evalstream.scorers.toxicity import LABELS

    rows = [json.loads(line) for line in TRAIN.read_text().splitlines() if line.strip()]
    embedder = Embedder(device="cpu", backend="torch")  # the reference the committed head was trained with
    X = embedder.encode_documents([r["text"] for r in rows]).astype(np.float64)
    Y = {label: np.array([labels_of(r)[label] for r in rows]) for label in LABELS}

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=7)
    cv_prob = cross_val_predict(LogisticRegression(C=C, max_iter=5000), X, Y["toxicity"], cv=folds, method="predict_proba")[:, 1]
    threshold = best_f1_threshold(Y["toxicity"], cv_prob)

    heads = {}
    for label in LABELS:
        model = LogisticRegression(C=C, max_iter=5000).fit(X, Y[label])
        heads[label] = {"coef": [round(float(v), 6) for v in model.coef_[0]], "intercept": round(float(model.intercept_[0]), 6), "positives": int(Y[label].sum())}
    data_hash = hashlib.sha256(TRAIN.read_bytes()).hexdigest()[:12]
    spec = {
        "version": f"1-{data_hash}",
        "embedding_model": embedder.name,
        "trained_on": {"file": "training/data/toxicity_train.jsonl", "rows": len(rows), "sha256_12": data_hash},
        "regularisation_C": C,
        "threshold": threshold,
        "threshold_how": "best F1 of 5-fold cross-validated probabilities on the training set",
        "labels": heads,
    }
    OUT.write_text(json.dumps(spec) + "\n")
    print(f"wrote {OUT}: {len(rows)} rows, threshold {threshold}, positives {[h['positives'] for h in heads.values()]}", file=sys.stderr)


if __name__ == "__main__":
    main()
