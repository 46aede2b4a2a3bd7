"""Train the toxicity heads on the team's labeled data; writes scorers/models/toxicity_head.json.

Deterministic: `python training/train_toxicity.py` reproduces the committed file. The evaluation
set (evaluation/data/) is never seen here. The training set holds, besides abuse and its hard
negatives, polite refusals, apologies and safety deflections (categories assistant_refusal,
apology, empathy_and_redirect): without them a short first-person "I can't help with that" sat
next to the veiled threats in embedding space and was flagged. tests/test_toxicity_refusals.py
checks other phrasings, never trained on.
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
PREVALENCE = 0.10

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


def rates_at(y: np.ndarray, p: np.ndarray, threshold: float, prevalence: float = PREVALENCE) -> dict:
    """Recall, false-positive rate and precision with the positives reweighted to `prevalence`."""
    flagged = p >= threshold
    tpr, fpr = float(flagged[y == 1].mean()), float(flagged[y == 0].mean())
    precision = prevalence * tpr / max(prevalence * tpr + (1 - prevalence) * fpr, 1e-12)
    return {"recall": round(tpr, 3), "fpr": round(fpr, 3), "precision_at_10pct" if prevalence == PREVALENCE else "precision": round(precision, 3)}


def best_f1_threshold(y: np.ndarray, p: np.ndarray, prevalence: float) -> float:
    """The threshold on a 0.05 grid with the best F1, precision reweighted to `prevalence` positives."""
    candidates = np.round(np.arange(0.2, 0.81, 0.05), 2)
    f1 = []
    for t in candidates:
        at = rates_at(y, p, float(t), prevalence)
        precision = next(v for k, v in at.items() if k.startswith("precision"))
        f1.append(2 * precision * at["recall"] / max(precision + at["recall"], 1e-12))
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
    # Best F1 on the folds as they are (37% toxic) wants a low threshold, best F1 with precision
    # reweighted to 10% toxic a high one; both curves are flat between the two (F1 0.81-0.83 and
    # 0.57-0.61 from 0.4 to 0.6), so the flag sits midway between them.
    at_balanced, at_10pct = best_f1_threshold(Y["toxicity"], cv_prob, 0.5), best_f1_threshold(Y["toxicity"], cv_prob, PREVALENCE)
    threshold = round((at_balanced + at_10pct) / 2, 2)
    at_threshold = rates_at(Y["toxicity"], cv_prob, threshold)

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
        "threshold_how": f"midway between the best-F1 thresholds of 5-fold cross-validated probabilities on the training set as it is ({at_balanced}) and reweighted to {PREVALENCE:.0%} toxic ({at_10pct})",
        "at_threshold_cv": at_threshold,
        "labels": heads,
    }
    OUT.write_text(json.dumps(spec) + "\n")
    print(f"wrote {OUT}: {len(rows)} rows, threshold {threshold}, positives {[h['positives'] for h in heads.values()]}", file=sys.stderr)


if __name__ == "__main__":
    main()
