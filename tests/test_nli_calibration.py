"""An NLI cross-encoder in the faithfulness slot is calibrated as the default model is: training/calibrate_nli.py
fits the map and the threshold on the team's training events and writes them beside the model, and the
scorer then reports the probability that every claim is supported and flags at that threshold. The
cross-encoder is a tiny one the test builds (no NLI weights reach this machine): these tests check the
plumbing and the guards, not a model's quality."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from test_faithfulness_models import build_cross_encoder

from evalstream.evaluation.metrics import as_event
from evalstream.scorers.embeddings import Embedder
from evalstream.scorers.faithfulness import FaithfulnessScorer
from evalstream.scorers.nli import CALIBRATION_FILE, CrossEncoderSupport

LABELS = {0: "contradiction", 1: "entailment", 2: "neutral"}
EVENTS = [
    as_event("When does cancellation take effect?", "Cancellation takes effect at the end of the current billing period.",
             ["Cancellation takes effect at the end of the current billing period. Refunds are not given for partial months."]),
    as_event("How fast are refunds?", "Refunds arrive within 3 days. They go back to your card.",
             ["Refunds are issued within 14 days of the request, to the original payment method."]),
    as_event("Can I bring my dog?", "Dogs are welcome on the terrace but not inside.",
             ["Dogs are welcome on the terrace. Only assistance dogs may come inside the restaurant."]),
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(device="cpu")


def calibrate(model_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "training" / "calibrate_nli.py"), str(model_dir), *args],
                          capture_output=True, text=True, timeout=600)


def test_the_calibration_is_fitted_on_training_events_and_used_by_the_scorer(tmp_path: Path, embedder: Embedder) -> None:
    model_dir = build_cross_encoder(tmp_path / "tiny-nli", LABELS)
    done = calibrate(model_dir, "--limit", "150")
    assert done.returncode == 0, done.stderr[-2000:]
    spec = json.loads((model_dir / CALIBRATION_FILE).read_text())
    assert spec["fitted_on"]["events"] == 150
    assert all(f.startswith("training/data/faithfulness_") for f in spec["fitted_on"]["files"])
    x, y = np.array(spec["calibration"]["x"]), np.array(spec["calibration"]["y"])
    assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) >= 0) and 0.0 <= y.min() and y.max() <= 1.0

    raw = FaithfulnessScorer(CrossEncoderSupport(model_dir, embedder, raw=True)).score(EVENTS)
    support = CrossEncoderSupport(model_dir, embedder)
    assert support.threshold == spec["threshold"] and support.name.startswith("nli:tiny-nli+calibrated-")
    calibrated = FaithfulnessScorer(support).score(EVENTS)
    for before, after in zip(raw, calibrated):
        assert after["faithfulness"] == pytest.approx(np.interp(before["faithfulness"], x, y))
        assert after["unfaithful"] == (after["faithfulness"] < spec["threshold"])


def test_without_a_calibration_the_entailment_is_reported_as_it_is(tmp_path: Path, embedder: Embedder) -> None:
    support = CrossEncoderSupport(build_cross_encoder(tmp_path / "tiny-nli", LABELS), embedder)
    assert support.threshold == 0.5 and support.name == "nli:tiny-nli" and support.calibrate(0.37) == 0.37


@pytest.mark.parametrize("broken", [
    {"calibration": {"x": [0.0, 0.5, 1.0], "y": [0.9, 0.4, 1.0]}, "threshold": 0.7},  # a higher score, a lower probability
    {"calibration": {"x": [0.0, 1.0], "y": [0.1, 1.0]}, "threshold": 1.2},
])
def test_a_calibration_that_cannot_be_a_probability_map_is_refused(tmp_path: Path, embedder: Embedder, broken: dict) -> None:
    model_dir = build_cross_encoder(tmp_path / "tiny-nli", LABELS)
    (model_dir / CALIBRATION_FILE).write_text(json.dumps(broken))
    with pytest.raises(ValueError, match=CALIBRATION_FILE):
        CrossEncoderSupport(model_dir, embedder)


def test_calibrating_a_directory_without_a_model_says_so(tmp_path: Path) -> None:
    done = calibrate(tmp_path / "missing")
    assert done.returncode == 2 and "no cross-encoder at" in done.stderr
