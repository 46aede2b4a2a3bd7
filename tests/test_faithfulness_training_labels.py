"""The faithfulness training labels: each claim of an unfaithful answer is matched to the sentence the
writer named unsupported, whatever opener or case the split claim kept ("Yes, the 5 ATM rating ..." is
named, the claim is "The 5 ATM rating ..."). A miss trains the model on an unsupported claim labelled
supported, which is the label noise this guards against."""

from __future__ import annotations

import importlib.util

import pytest

from conftest import REPO
from evalstream.scorers.sentences import checked_sentences

spec = importlib.util.spec_from_file_location("train_faithfulness", REPO / "training" / "train_faithfulness.py")
train_faithfulness = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train_faithfulness)


def labels(response: str, unsupported: list[str]) -> list[int]:
    row = {"response": response, "unsupported": unsupported, "faithful": 0 if unsupported else 1}
    return train_faithfulness.claim_labels(row, checked_sentences(response))


@pytest.mark.parametrize(
    ("response", "unsupported", "expected"),
    [
        ("Yes, the 5 ATM rating makes it suitable for diving.", ["Yes, the 5 ATM rating makes it suitable for diving."], [0]),
        ("Good news - at £38 you qualify for free delivery!", ["Good news - at £38 you qualify for free delivery!"], [0]),
        ("Dogs ride free. The crossing takes 35 minutes.", ["the crossing takes 35 minutes"], [1, 0]),
        ("Dogs ride free. The crossing takes 35 minutes.", ["The crossing takes 35 minutes, and dogs ride free"], [0, 0]),
        ("Dogs ride free. The crossing takes 50 minutes.", [], [1, 1]),
    ],
)
def test_the_named_sentence_is_the_unsupported_claim(response: str, unsupported: list[str], expected: list[int]) -> None:
    assert labels(response, unsupported) == expected


@pytest.mark.parametrize("path", train_faithfulness.WRITTEN, ids=lambda p: p.name)
def test_every_unfaithful_training_answer_has_an_unsupported_claim(path) -> None:
    missed = []
    for row in train_faithfulness.read_rows(path):
        claims = checked_sentences(row["response"]) or [row["response"]]
        if row["faithful"] == 0 and all(train_faithfulness.claim_labels(row, claims)):
            missed.append((row.get("id"), row["unsupported"]))
    assert not missed, f"{len(missed)} unfaithful rows whose named sentences match no claim, e.g. {missed[:3]}"
