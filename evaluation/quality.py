"""Wires the scorers (and the light baselines they are measured against) to the quality sets."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from evalstream.evaluation.metrics import Quality, faithfulness_quality, toxicity_quality


def shipped_set(name: str) -> Path:
    """A labeled set shipped with the package (evaluation/data/), wherever it is installed."""
    return Path(str(resources.files("evalstream.evaluation").joinpath("data", name)))


def measure_all(toxicity_set: Path, faithfulness_set: Path) -> list[Quality]:
    from profanity_check import predict_prob

    from evalstream.scorers.embeddings import Embedder
    from evalstream.scorers.factcheck import FactCheckSupport
    from evalstream.scorers.faithfulness import CosineSupport, FaithfulnessScorer
    from evalstream.scorers.toxicity import ToxicityHead

    embedder = Embedder()
    head = ToxicityHead()
    results = toxicity_quality(
        toxicity_set,
        {
            "toxicity: minilm-head (default)": (lambda texts: head.predict(embedder.encode_documents(texts))[:, 0], head.threshold),
            "toxicity: alt-profanity-check": (lambda texts: predict_prob(texts), 0.5),
        },
    )
    cosine = FaithfulnessScorer(CosineSupport(embedder))
    factcheck = FaithfulnessScorer(FactCheckSupport(embedder))
    results += faithfulness_quality(
        faithfulness_set,
        {
            "faithfulness: factcheck (default)": (lambda events: _faithfulness(factcheck, events), factcheck.support_model.threshold),
            "faithfulness: cosine-minilm (baseline)": (lambda events: _faithfulness(cosine, events), cosine.support_model.threshold),
        },
    )
    return results


def _faithfulness(scorer, events) -> list[float]:
    return [1.0 if r["faithfulness"] is None else r["faithfulness"] for r in scorer.score(events)]
