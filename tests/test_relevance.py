"""Relevance (a calibrated probability that the response addresses the prompt) and the refusal flag.

The cases are written here, apart from the training data (training/data/relevance_train.jsonl),
in other subjects and phrasings: each checks one direction the score must take.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from evalstream.evaluation.metrics import as_event, quality, relevance_quality, reweighted_precision, workload_relevance_rows
from evalstream.scorers.embeddings import Embedder
from evalstream.scorers.relevance import FEATURES, RelevanceModel, RelevanceScorer, looks_truncated, typed_answer_missing


@pytest.fixture(scope="module")
def scorer() -> RelevanceScorer:
    return RelevanceScorer(Embedder(device="cpu"))


def score(scorer: RelevanceScorer, prompt: str, *responses: str, context: list[str] | None = None, finish_reason: str | None = None) -> list[dict]:
    return scorer.score([as_event(prompt, r, context, finish_reason) for r in responses])


QUESTION = "What time does the pharmacy on Elm Street close on Saturdays?"
ANSWER = "The Elm Street pharmacy closes at 6 pm on Saturdays; on Sundays it is shut."


def test_an_answer_scores_high_and_an_answer_to_another_question_low(scorer: RelevanceScorer) -> None:
    on, other, elsewhere = score(
        scorer, QUESTION, ANSWER,
        "The pharmacy on Elm Street can refill most prescriptions within an hour if you call ahead.",
        "Photosynthesis turns carbon dioxide and water into sugar using light.",
    )
    assert on["relevance"] >= 0.8
    assert other["relevance"] < on["relevance"] and elsewhere["relevance"] < 0.2


def test_greetings_and_offers_around_an_answer_do_not_make_it_off_topic(scorer: RelevanceScorer) -> None:
    (wrapped,) = score(scorer, QUESTION, f"Hi there, thanks for asking! {ANSWER} Is there anything else I can help you with today?")
    assert wrapped["relevance"] >= 0.8 and wrapped["refusal"] is False


@pytest.mark.parametrize(
    "filler",
    ["Thanks for your question! I'd be glad to look into this for you.", "Great question. There are many things to consider here.", "Have a wonderful day!"],
)
def test_generic_filler_is_not_relevant(scorer: RelevanceScorer, filler: str) -> None:
    (s,) = score(scorer, QUESTION, filler)
    assert s["relevance"] < 0.5


def test_empty_and_cut_off_answers_are_not_relevant(scorer: RelevanceScorer) -> None:
    empty, cut = score(scorer, QUESTION, "", "The Elm Street pharmacy closes at")
    assert empty["relevance"] == 0.0 and empty["refusal"] is False
    assert cut["relevance"] < 0.5
    assert looks_truncated("The Elm Street pharmacy closes at")
    assert not looks_truncated("- closes at 6 pm\n- shut on Sundays") and not looks_truncated("```python\nx = 1\n```")
    assert looks_truncated("Closes at 6 pm.", finish_reason="length")


def test_a_summary_of_the_text_in_the_prompt_is_relevant_and_one_of_another_text_is_not(scorer: RelevanceScorer) -> None:
    text = (
        "The city council voted on Monday to turn Harbour Road into a car-free zone from next spring. Delivery vans will "
        "still be allowed before 10 am. Shop owners had asked for more parking nearby, and the council promised a new "
        "300-space garage by 2028. Cyclists' groups welcomed the decision."
    )
    other = "Quarterly revenue grew 12% to 48 million dollars, driven by subscriptions, while hardware sales fell for the third quarter."
    good, bullets, wrong = score(
        scorer, f"Give me the gist of this article:\n\n{text}",
        "Harbour Road becomes car-free next spring, with deliveries allowed before 10 am and a 300-space garage promised by 2028.",
        "- Harbour Road car-free from next spring\n- Deliveries before 10 am\n- New 300-space garage by 2028\n- Cyclists are happy",
        other,
    )
    assert good["relevance"] >= 0.8 and bullets["relevance"] >= 0.8
    assert wrong["relevance"] < 0.3


def test_a_summary_of_the_attached_context_is_relevant(scorer: RelevanceScorer) -> None:
    document = ["The museum will close its west wing from 3 to 28 March for roof repairs. The cafe and shop stay open. Tickets bought for those dates can be refunded online."]
    (s,) = score(scorer, "TL;DR?", "West wing closed 3-28 March for roof repairs; cafe and shop open; refunds online.", context=document)
    assert s["relevance"] >= 0.8


@pytest.mark.parametrize(
    "refusal",
    [
        "Sorry, I can't help you with that.",
        "I'm unable to provide information on this topic.",
        "I must decline to answer that question.",
        "That's not something I'm able to discuss. Please get in touch with our customer service team instead.",
        "As an AI language model, I cannot give legal advice.",
    ],
)
def test_refusals_are_flagged_and_not_relevant(scorer: RelevanceScorer, refusal: str) -> None:
    (s,) = score(scorer, "Can my landlord keep my deposit for a broken window?", refusal)
    assert s["refusal"] is True
    assert s["relevance"] < 0.5


@pytest.mark.parametrize(
    "answer",
    [
        "No, the deposit can't be kept for ordinary wear and tear, but a broken window you caused can be deducted at the repair cost.",
        "Sorry for the wait! Yes: the landlord may deduct the cost of repairing the window from the deposit, with receipts.",
        "Unfortunately, we cannot tell from your message who broke the window; if you did, the repair can be deducted from the deposit.",
    ],
)
def test_answers_that_say_something_cannot_be_done_are_not_refusals(scorer: RelevanceScorer, answer: str) -> None:
    (s,) = score(scorer, "Can my landlord keep my deposit for a broken window?", answer)
    assert s["refusal"] is False
    assert s["relevance"] >= 0.5


def test_a_content_filter_block_is_a_refusal(scorer: RelevanceScorer) -> None:
    (s,) = score(scorer, QUESTION, "", finish_reason="content_filter")
    assert s == {"relevance": 0.0, "refusal": True}


def test_scores_are_probabilities_and_the_fields_are_declared(scorer: RelevanceScorer) -> None:
    results = score(scorer, QUESTION, ANSWER, "", "I can't help with that.", "Bananas are yellow.")
    assert all(set(r) == set(RelevanceScorer.fields) for r in results)
    assert all(0.0 <= r["relevance"] <= 1.0 and isinstance(r["refusal"], bool) for r in results)
    assert scorer.version.startswith("minilm-head-")


def test_the_shipped_heads_match_the_features_and_push_evidence_the_right_way() -> None:
    model = RelevanceModel()
    assert model.relevance.features == FEATURES
    spec = json.loads((Path(__file__).resolve().parents[1] / "scorers/models/relevance_head.json").read_text())
    for head in ("relevance", "refusal"):
        for name, weight in zip(spec[head]["features"], spec[head]["coef"]):
            sign = spec[head]["signs"][name]
            assert weight * sign >= 0, f"{head}: {name} has weight {weight} against its sign {sign}"


def test_a_typed_question_wants_a_quantity() -> None:
    assert typed_answer_missing(["How long does delivery take?"], "It depends on the courier.")
    assert not typed_answer_missing(["How long does delivery take?"], "Usually two to three working days.")
    assert not typed_answer_missing(["Who founded the company?"], "Ada Lovelace.")


# --- evaluation arithmetic ----------------------------------------------------------------------


def test_precision_is_reweighted_to_a_realistic_prevalence() -> None:
    # 10 positives, 10 negatives; 8 positives and 2 negatives flagged: TPR 0.8, FPR 0.2.
    q = quality("s", "set", [1] * 10 + [0] * 10, [0.9] * 8 + [0.1] * 2 + [0.9] * 2 + [0.1] * 8, 0.5, "x")
    assert q.precision == pytest.approx(0.8) and q.recall == pytest.approx(0.8) and q.prevalence == 0.5
    assert q.precision_at_10pct == pytest.approx(0.1 * 0.8 / (0.1 * 0.8 + 0.9 * 0.2))
    assert reweighted_precision(0.8, 0.2, 0.5) == pytest.approx(0.8)


def test_the_sample_workload_truth_labels_relevance_and_refusal(tmp_path: Path) -> None:
    events = [
        {"event_id": "a", "prompt": "q", "response": "an answer", "context": ["c"], "finish_reason": "stop"},
        {"event_id": "b", "prompt": "q", "response": "another passage's fact", "context": ["c"], "finish_reason": "stop"},
        {"event_id": "c", "prompt": "q", "response": "", "context": None, "finish_reason": "content_filter"},
        {"event_id": "d", "prompt": "q", "response": "cut o", "context": None, "finish_reason": "length"},
    ]
    truth = [
        {"event_id": "a", "off_topic": False, "refused": False, "truncated": False, "failed": None, "malformed": None, "use_case": "rag-qa"},
        {"event_id": "b", "off_topic": True, "refused": False, "truncated": False, "failed": None, "malformed": None, "use_case": "rag-qa"},
        {"event_id": "c", "off_topic": False, "refused": True, "truncated": False, "failed": None, "malformed": None, "use_case": "rag-qa"},
        {"event_id": "d", "off_topic": False, "refused": False, "truncated": True, "failed": None, "malformed": None, "use_case": "rag-qa"},
    ]
    for name, rows in (("events.jsonl.gz", events), ("truth.jsonl.gz", truth)):
        (tmp_path / name).write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    rows = workload_relevance_rows(tmp_path / "events.jsonl.gz", tmp_path / "truth.jsonl.gz")
    assert [(r["relevant"], r["refusal"]) for r in rows] == [(1, 0), (0, 0), (0, 1), (None, 0)]


def test_relevance_quality_flags_low_relevance_and_high_refusal() -> None:
    rows = [
        {"prompt": "q", "response": "on topic", "relevant": 1, "refusal": 0},
        {"prompt": "q", "response": "off topic", "relevant": 0, "refusal": 0},
        {"prompt": "q", "response": "I can't", "relevant": 0, "refusal": 1},
        {"prompt": "q", "response": "refusal-only row", "refusal": 0},  # a refusal set's row: no relevance label
    ]
    predict = lambda events: ([0.9, 0.05, 0.2, 0.8], [0.0, 0.1, 0.95, 0.2])  # noqa: E731
    off_topic, refusal = relevance_quality("set", rows, "stub", predict, relevance_threshold=0.1, refusal_threshold=0.5)
    assert (off_topic.positive, off_topic.n, off_topic.positives, off_topic.threshold) == ("off-topic", 3, 2, 0.1)
    assert off_topic.roc_auc == 1.0 and off_topic.recall == 0.5 and off_topic.precision == 1.0
    assert (refusal.positive, refusal.n, refusal.positives, refusal.recall, refusal.precision) == ("refusal", 4, 1, 1.0, 1.0)
