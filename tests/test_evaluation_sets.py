"""`evalstream evaluate` reads every independent faithfulness set that ships, each under its own name,
and none of them is a training file (the training script reads only training/data/)."""

from __future__ import annotations

import json

from conftest import REPO
from evalstream.evaluation import faithfulness
from evalstream.evaluation.quality import shipped_set


def test_each_independent_set_is_evaluated_under_its_own_name() -> None:
    sets = faithfulness.faithfulness_sets(None, None, None, [shipped_set(name) for name in faithfulness.INDEPENDENT_SETS])
    assert [name for name, _, _ in sets] == list(faithfulness.INDEPENDENT_SETS)
    for name, rows, _ in sets:
        assert {r["faithful"] for r in rows} == {0, 1}, name
        assert all(r["context"] and r["response"].strip() for r in rows), name


def test_no_independent_answer_is_in_the_training_data() -> None:
    trained = {json.loads(line)["response"] for path in (REPO / "training" / "data").glob("faithfulness_*.jsonl") for line in path.read_text().splitlines() if line.strip()}
    for name in faithfulness.INDEPENDENT_SETS:
        shared = [r["response"] for r in map(json.loads, shipped_set(name).read_text().splitlines()) if r["response"] in trained]
        assert not shared, (name, shared[:3])
