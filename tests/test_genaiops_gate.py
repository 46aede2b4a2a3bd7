"""The prompt-version gate on chdb: a candidate with more unfaithful answers fails, a good one passes.

Robust to a retrained faithfulness model by construction:
- production's rows are scored in the test by the same scorers the gate scores the candidate
  with, so the gate compares like with like whatever the model's calibration is today;
- the answers differ in a way every faithfulness model must see: a restatement of the context
  against claims the context says nothing about (weather, opening hours). A precondition checks
  that the scorer still tells them apart, so a broken model fails with that message, not a gate one.
Only cost and faithfulness run (EVALSTREAM_SCORERS): no toxicity or relevance model is loaded.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dashboards_data import new_database
from evalstream.cli.main import app
from evalstream.config.settings import ScoringSettings
from evalstream.drift.policy import load_policy
from evalstream.scorers.registry import default_scorers
from evalstream.streams.pipeline import Pipeline, SourceRecord

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SCORERS = ["cost", "faithfulness"]
ITEMS = ["jacket", "lamp", "chair", "kettle", "phone", "desk", "bike", "tent"]
DAYS = [7, 10, 14, 21, 30, 45]
FAITHFUL = "You can return the {item} within {days} days of delivery for a full refund."
UNSUPPORTED = "Heavy rain is expected in Paris tomorrow, and the {item} museum opens at 9 am on Sundays."


def event(i: int, version: str, *, faithful: bool = True) -> dict[str, Any]:
    item, days = ITEMS[i % len(ITEMS)], DAYS[i // len(ITEMS) % len(DAYS)]
    return {
        "event_id": str(uuid.uuid4()), "ts": (NOW - timedelta(hours=1, seconds=i)).isoformat(), "tenant": "acme", "app": "support-bot",
        "region": "us", "use_case": "rag-qa", "provider": "openai", "model": "gpt-4o-mini", "prompt_id": "answer-from-docs",
        "prompt_version": version, "prompt": f"Can I return the {item}?",
        "context": [f"A {item} bought online can be returned within {days} days of delivery for a full refund."],
        "response": (FAITHFUL if faithful else UNSUPPORTED).format(item=item, days=days),
        "usage": {"input_tokens": 120, "output_tokens": 25}, "latency_ms": 700 + i % 50,
    }


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(default_scorers(ScoringSettings(scorers=SCORERS)), max_event_bytes=1 << 20, redact_pii=False)


@pytest.fixture
def production(pipeline: Pipeline) -> Any:
    """150 production events of version 7, scored now by the scorers the gate will use."""
    _, sink = new_database()
    records = [SourceRecord("seed", 0, i, json.dumps(event(i, "7")).encode()) for i in range(150)]
    result = pipeline.process(records)
    assert not result.dead_letters and len(result.rows) == 150
    sink.write(result.rows)
    return sink


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    """The shipped policy with smaller minimum samples, so the test scores few events."""
    data = yaml.safe_load((Path(load_policy.__code__.co_filename).parent / "policies/default.yaml").read_text())
    data["global"].update(min_window_samples=50, min_baseline_samples=100)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def write_candidate(path: Path, *, unfaithful_every: int | None) -> Path:
    lines = [event(1000 + i, "8", faithful=not (unfaithful_every and i % unfaithful_every == 0)) for i in range(60)]
    path.write_text("".join(json.dumps(e) + "\n" for e in lines))
    return path


def run_gate(production: Any, candidate: Path, policy: Path, markdown: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("EVALSTREAM_SCORERS", json.dumps(SCORERS))
    monkeypatch.setenv("EVALSTREAM_REDACT_PII", "false")
    args = ["gate", "--clickhouse", production.dsn, "--prompt-id", "answer-from-docs", "--candidate", str(candidate),
            "--policy", str(policy), "--markdown", str(markdown)]
    return CliRunner().invoke(app, args)


def test_the_scorer_still_tells_a_restatement_from_unsupported_claims(pipeline: Pipeline) -> None:
    scores = pipeline.scorers.score([
        *(pipeline.parse(SourceRecord("t", 0, i, json.dumps(event(i, "8")).encode())) for i in range(20)),
        *(pipeline.parse(SourceRecord("t", 0, i, json.dumps(event(i, "8", faithful=False)).encode())) for i in range(20)),
    ])
    faithful, unsupported = scores[:20], scores[20:]
    assert sum(s["unfaithful"] for s in unsupported) >= 15 and sum(s["unfaithful"] for s in faithful) <= 2
    assert min(s["faithfulness"] for s in faithful) > max(s["faithfulness"] for s in unsupported)


def test_a_candidate_with_more_unfaithful_answers_fails_the_gate(production, policy, tmp_path, monkeypatch) -> None:
    candidate = write_candidate(tmp_path / "candidate.jsonl", unfaithful_every=3)  # a third unsupported
    result = run_gate(production, candidate, policy, tmp_path / "gate.md", monkeypatch)
    assert result.exit_code == 1, result.output
    lines = {line.split()[1] + " " + line.split()[2]: line for line in result.output.splitlines() if line.strip().startswith(("PASS", "FAIL"))}
    assert lines["unfaithful rate"].strip().startswith("FAIL"), result.output
    assert lines["mean faithfulness"].strip().startswith("FAIL"), result.output
    assert "v8 (candidate) against v7 (production)" in result.output and "verdict: FAIL" in result.output
    report = (tmp_path / "gate.md").read_text()
    assert "**FAIL**" in report and "| unfaithful rate |" in report


def test_a_good_candidate_passes_the_gate(production, policy, tmp_path, monkeypatch) -> None:
    candidate = write_candidate(tmp_path / "candidate.jsonl", unfaithful_every=None)
    result = run_gate(production, candidate, policy, tmp_path / "gate.md", monkeypatch)
    assert result.exit_code == 0, result.output
    assert "verdict: PASS" in result.output and "unfaithful rate" in result.output
    assert "— **PASS**" in (tmp_path / "gate.md").read_text()


def test_the_gate_refuses_to_sign_off_on_too_little_production_traffic(pipeline, policy, tmp_path, monkeypatch) -> None:
    _, sink = new_database()
    rows = pipeline.process([SourceRecord("seed", 0, i, json.dumps(event(i, "7")).encode()) for i in range(20)]).rows
    sink.write(rows)
    candidate = write_candidate(tmp_path / "candidate.jsonl", unfaithful_every=None)
    result = run_gate(sink, candidate, policy, tmp_path / "gate.md", monkeypatch)
    assert result.exit_code == 1 and "too few samples" in result.output, result.output
