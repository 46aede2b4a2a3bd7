"""`evalstream evaluate`, the command the quality targets are measured with, run as a user runs it: every
shipped set and the sample workload, the figures written as JSON. A faithfulness model configured in
EVALSTREAM_FAITHFULNESS_MODEL (an NLI cross-encoder from a local directory; here a tiny one the test
builds) is measured beside the default on the same sets, so a user who has one can compare them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import EVALSTREAM
from test_faithfulness_models import build_cross_encoder

from evalstream.evaluation.faithfulness import INDEPENDENT_SETS
from evalstream.evaluation.metrics import precision_at_recall

CONFIGURED = "faithfulness: nli:tiny-nli (configured)"
DEFAULT = "faithfulness: factcheck (default)"


def evaluate(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EVALSTREAM_")}
    return subprocess.run([*EVALSTREAM, "evaluate", "--json", str(tmp_path / "quality.json")], env={**clean, **env}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    tmp_path = tmp_path_factory.mktemp("evaluate")
    model_dir = build_cross_encoder(tmp_path / "tiny-nli", {0: "contradiction", 1: "entailment", 2: "neutral"})
    done = evaluate(tmp_path, EVALSTREAM_FAITHFULNESS_MODEL=f"nli:{model_dir}")
    assert done.returncode == 0, done.stderr[-2000:]
    started = ["scoring toxicity: toxicity_eval.jsonl", *(f"scoring faithfulness: {name}" for name in INDEPENDENT_SETS),
               "scoring relevance and refusal: relevance_eval.jsonl"]
    assert all(line in done.stderr for line in started), done.stderr  # progress: each set as its scoring starts
    return json.loads((tmp_path / "quality.json").read_text())


def test_the_configured_model_is_measured_on_every_faithfulness_set_the_default_is(figures: list[dict]) -> None:
    default = {(q["dataset"], q["n"]) for q in figures if q["scorer"] == DEFAULT}
    configured = {(q["dataset"], q["n"]) for q in figures if q["scorer"] == CONFIGURED}
    assert configured == default  # the same sets, the same events, the workload per use case too
    datasets = {dataset for dataset, _ in default}
    assert {"faithfulness_eval.jsonl", *INDEPENDENT_SETS} <= datasets
    assert any(d.startswith("sample_events") and d.endswith("rag-qa") for d in datasets)
    for q in figures:
        if q["scorer"] == CONFIGURED:
            assert 0.0 <= q["roc_auc"] <= 1.0 and q["threshold"] == 0.5


def test_the_default_figures_hold_where_the_targets_are_met(figures: list[dict]) -> None:
    """Guards on the figures the README's quality table reports (with room for CPUs whose int8 kernels differ)."""
    by = {(q["scorer"], q["dataset"]): q for q in figures}
    workload = by[(DEFAULT, "sample_events.jsonl.gz (generator truth)")]
    assert workload["roc_auc"] >= 0.95 and workload["precision"] >= 0.8 and workload["recall"] >= 0.8, workload
    # the targets on the sample workload: precision >= 0.6 at recall >= 0.8, fewer than 5% of faithful copies flagged
    assert workload["precision_at_recall_80"] >= 0.6 and workload["copies_flagged"] < 0.05, workload
    assert by[("toxicity: minilm-head (default)", "toxicity_eval.jsonl")]["roc_auc"] >= 0.95
    assert by[("relevance: minilm-head (default)", "relevance_eval.jsonl")]["roc_auc"] >= 0.85
    assert by[(DEFAULT, "faithfulness_eval.jsonl")]["roc_auc"] > by[("faithfulness: cosine-minilm (baseline)", "faithfulness_eval.jsonl")]["roc_auc"]


def test_a_configured_model_that_cannot_load_is_named_in_one_line(tmp_path: Path) -> None:
    done = evaluate(tmp_path, EVALSTREAM_FAITHFULNESS_MODEL=f"nli:{tmp_path / 'missing'}")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr[-2000:]
    assert "EVALSTREAM_FAITHFULNESS_MODEL=nli:" in lines[0] and "no cross-encoder at" in lines[0]
    assert not (tmp_path / "quality.json").exists()  # it stopped before scoring anything


@pytest.mark.parametrize(
    ("flag", "lines", "said"),
    [
        ("--faithfulness-set", ['{"prompt": "q", "response": "a", "context": ["c"], "faithful": 1}', '{"prompt": "q", "response": "a", "context": ["c"]}'],
         "answers.jsonl line 2: no faithful (each row needs prompt, response, context, faithful)"),
        ("--faithfulness-set", ['{"prompt": "q", "response": "a", "context": ["c"], "faithful": "yes"}'], "answers.jsonl line 1: faithful is 'yes', not one of 0, 1"),
        ("--toxicity-set", ['{"text": "hi", "toxic": 0}', "", "not json"], "answers.jsonl line 3: not JSON"),
        ("--relevance-set", ['{"prompt": "q", "response": "a", "relevant": 1}'], "answers.jsonl line 1: no refusal"),
    ],
)
def test_a_set_with_a_row_that_cannot_be_scored_is_named_with_its_line(tmp_path: Path, flag: str, lines: list[str], said: str) -> None:
    (tmp_path / "answers.jsonl").write_text("\n".join(lines) + "\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EVALSTREAM_")}
    done = subprocess.run([*EVALSTREAM, "evaluate", flag, str(tmp_path / "answers.jsonl")], env=clean, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert said in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "scoring" not in done.stderr  # before anything was scored


def test_precision_at_a_recall_is_that_of_the_best_threshold_finding_enough() -> None:
    truth, risk = np.array([1, 0, 1, 0, 1]), np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    assert precision_at_recall(truth, risk, 0.6) == pytest.approx(2 / 3)  # risk >= 0.7 finds 2 of 3, with one false flag
    assert precision_at_recall(truth, risk, 0.8) == pytest.approx(3 / 5)  # finding all 3 takes every event
    assert precision_at_recall(np.zeros(3, dtype=int), risk[:3], 0.8) == 0.0
