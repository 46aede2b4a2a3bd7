"""The sample workload's truth file: what its seeded generator did to each event, written beside it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from conftest import REPO
from evalstream.workload import generate

SAMPLE = REPO / "workload/sample_events.jsonl.gz"
TRUTH = REPO / "workload/sample_truth.jsonl.gz"


def test_regenerating_gives_the_same_events_and_truth_bytes(tmp_path: Path) -> None:
    out = tmp_path / "sample_events.jsonl.gz"
    generate.main([str(out)])  # the sample's own arguments are the defaults
    assert out.read_bytes() == SAMPLE.read_bytes()
    assert generate.truth_path(out).read_bytes() == TRUTH.read_bytes()


def test_the_truth_names_what_was_changed_and_the_answer_shows_it() -> None:
    lines = gzip.open(SAMPLE).read().splitlines()
    truths = [json.loads(line) for line in gzip.open(TRUTH)]
    assert [t["line"] for t in truths] == list(range(len(lines)))
    assert sum(bool(t["malformed"]) for t in truths) == 12
    pairs = [(json.loads(line), t) for line, t in zip(lines, truths) if not t["malformed"]]
    events, truths = [e for e, _ in pairs], [t for _, t in pairs]
    with_context = [(e, t) for e, t in pairs if t["has_context"]]
    unfaithful = [(e, t) for e, t in with_context if t["unfaithful"]]
    assert 0.08 < len(unfaithful) / len(with_context) < 0.18
    changed = [(e, t) for e, t in unfaithful if "changed_fact" in t]
    assert changed and all(t["changed_fact"]["wrong"].lower() in e["response"].lower() for e, t in changed)
    off_topic = [(e, t) for e, t in unfaithful if t["off_topic"]]
    assert off_topic and all(t["answer_from_passage"] is not None for _, t in off_topic)
    assert {e["event_id"] for e, t in zip(events, truths) if t["refused"]} and all(
        e["response"] in generate.REFUSALS or e["finish_reason"] == "content_filter" for e, t in pairs if t["refused"]
    )
    assert all(any(e["response"].startswith(r) for r in generate.RUDE) for e, t in pairs if t["toxic"])


def test_the_workload_faithfulness_rows_and_their_quality_rows() -> None:
    from evalstream.evaluation.faithfulness import faithful_copies_flagged, faithfulness_rows_quality, workload_faithfulness_rows

    rows = workload_faithfulness_rows(SAMPLE, TRUTH)
    assert 2500 < len(rows) < 2750 and all(r["context"] and r["response"].strip() for r in rows)
    unfaithful = [r for r in rows if r["faithful"] == 0]
    assert {r["kind"] for r in unfaithful} == {"changed_fact", "off_topic"} and 0.1 < len(unfaithful) / len(rows) < 0.16
    # A stand-in scorer that knows the truth for rag-qa and guesses 0.5 elsewhere.
    oracle = [(0.1 if r["faithful"] == 0 else 0.9) if r["use_case"] == "rag-qa" else 0.5 for r in rows]  # in row order
    qualities = faithfulness_rows_quality("sample", rows, "oracle", lambda events: oracle[: len(events)], 0.6, by_use_case=True)
    by_set = {q.dataset: q for q in qualities}
    assert set(by_set) == {"sample", "sample rag-qa", "sample summarization", "sample support-chat"}
    assert by_set["sample rag-qa"].roc_auc == 1.0 and by_set["sample rag-qa"].precision == 1.0 and by_set["sample rag-qa"].recall == 1.0
    assert by_set["sample summarization"].roc_auc == 0.5 and by_set["sample"].n == len(rows)
    copies = faithful_copies_flagged(rows, oracle, 0.6)
    faithful = [r for r in rows if r["faithful"] == 1]
    assert copies == sum(r["use_case"] != "rag-qa" for r in faithful) / len(faithful)  # the 0.5 guesses are below 0.6
