"""Calibrate an NLI cross-encoder for the faithfulness slot, as the default model is calibrated.

`.venv/bin/python training/calibrate_nli.py /path/to/cross-encoder` (needs the torch extra) scores the
team's hand-written training events (training/data/faithfulness_*.jsonl, the files WRITTEN of
train_faithfulness.py; the cross-encoder was not trained on them, and evaluation/data/ is never read)
with the cross-encoder as the scorer uses it (each claim's best entailment among its matched context
windows; an event's least supported claim), then, with the classes weighted to a 10% unfaithful
prevalence, fits the isotonic map to the probability that every claim is supported and chooses the
flag threshold by the default model's rule (best F1 of "unfaithful"). It writes both into the model's
directory (scorers/nli.py CALIBRATION_FILE), where the scorer reads them; `evalstream evaluate` then
measures the calibrated model beside the default. `--limit N` takes a seeded sample of N events (a
quick try; the figures are then rough).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from train_faithfulness import PREVALENCE, SEED, WRITTEN, calibration_map, choose_threshold, prevalence_weights, read_rows

BATCH = 64  # events per call: progress, and bounded memory for the cross-encoder's pairs


def raw_faithfulness(model_dir: Path, rows: list[dict]) -> np.ndarray:
    """Each event's least supported claim (1.0 for an answer with no claim to check), uncalibrated."""
    from evalstream.evaluation.faithfulness import scores
    from evalstream.evaluation.metrics import as_event
    from evalstream.scorers.embeddings import Embedder
    from evalstream.scorers.faithfulness import FaithfulnessScorer
    from evalstream.scorers.nli import CrossEncoderSupport

    embedder = Embedder()
    scorer = FaithfulnessScorer(CrossEncoderSupport(model_dir, embedder, device=embedder.device, raw=True))
    out = []
    with Progress(console=Console(stderr=True)) as progress:
        task = progress.add_task(f"scoring {len(rows)} events with {model_dir.name}", total=len(rows))
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            out += scores(scorer, [as_event(r["prompt"], r["response"], r["context"]) for r in batch])
            progress.advance(task, len(batch))
    return np.array(out)


def main() -> None:
    from sklearn.metrics import roc_auc_score

    from evalstream.scorers.nli import CALIBRATION_FILE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path, help="a local directory with a sentence-transformers CrossEncoder")
    parser.add_argument("--limit", type=int, default=None, help="a seeded sample of this many events (a quick try)")
    args = parser.parse_args()
    if not args.model_dir.is_dir():
        parser.error(f"no cross-encoder at {args.model_dir}: give a local directory")

    rows = [row for path in WRITTEN for row in read_rows(path)]
    if args.limit is not None and args.limit < len(rows):
        rows = random.Random(SEED).sample(rows, args.limit)
    unfaithful = np.array([1 - r["faithful"] for r in rows])
    if len(set(unfaithful)) < 2:
        parser.error("the events drawn hold only one class; draw more (--limit)")
    raw = raw_faithfulness(args.model_dir, rows)
    weights = prevalence_weights(unfaithful)
    x, y = calibration_map(raw, unfaithful, weights)
    calibrated = np.interp(raw, x, y)
    threshold, precision, recall = choose_threshold(calibrated, unfaithful, weights)
    auc = roc_auc_score(1 - unfaithful, raw)
    if not 0.0 < threshold < 1.0:
        parser.exit(1, f"{args.model_dir.name} does not separate faithful from unfaithful events (ROC-AUC {auc:.3f}): "
                       "its best flag is every event; nothing written\n")
    if auc < 0.5:
        print(f"warning: ROC-AUC {auc:.3f}, below chance: is '{args.model_dir.name}' an entailment model, and its label names right?")
    spec = {
        "fitted_on": {"files": [f"training/data/{path.name}" for path in WRITTEN], "events": len(rows), "seed": SEED,
                      "sha256_12": hashlib.sha256(b"".join(path.read_bytes() for path in WRITTEN)).hexdigest()[:12]},
        "event_roc_auc": round(float(auc), 4),
        "calibration": {"method": "isotonic on the least supported claim's entailment", "prevalence": PREVALENCE,
                        "x": [round(float(v), 6) for v in x], "y": [round(float(v), 6) for v in y]},
        "threshold": round(threshold, 3),
        "threshold_rule": f"best F1 of 'unfaithful' with the classes weighted to {PREVALENCE:.0%} unfaithful",
        "at_threshold": {"precision_at_prevalence": round(precision, 3), "recall": round(recall, 3)},
    }
    out = args.model_dir / CALIBRATION_FILE
    out.write_text(json.dumps(spec, indent=1) + "\n")
    print(f"wrote {out}: {len(rows)} events, ROC-AUC {spec['event_roc_auc']}, threshold {spec['threshold']} "
          f"(precision {precision:.3f}, recall {recall:.3f} at {PREVALENCE:.0%} unfaithful; fitted, not held out)")


if __name__ == "__main__":
    main()
