"""Wires the scorers (and the light baselines they are measured against) to the quality sets.

Sets: (a) the hand-labeled sets shipped in evaluation/data/, (b) the bundled sample workload
with the truth file its generator writes, (c) sets written apart from the training data
(relevance_eval.jsonl, refusal_eval.jsonl, ...). None of them is read by a training script.
A set that is not there is skipped, never replaced by another.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from evalstream.evaluation.metrics import (
    Quality, faithfulness_quality, read_jsonl, relevance_quality, toxicity_quality, workload_relevance_rows,
)


def shipped_set(name: str) -> Path:
    """A labeled set shipped with the package (evaluation/data/), wherever it is installed."""
    return Path(str(resources.files("evalstream.evaluation").joinpath("data", name)))


def sample_workload() -> tuple[Path, Path]:
    """The bundled sample workload and its generator's truth file."""
    root = resources.files("evalstream.workload")
    return Path(str(root.joinpath("sample_events.jsonl.gz"))), Path(str(root.joinpath("sample_truth.jsonl.gz")))


@dataclass
class EvaluationSets:
    toxicity: Path | None = None
    faithfulness: Path | None = None
    relevance: Path | None = None  # rows with prompt, response, relevant, refusal
    refusal: Path | None = None  # rows with prompt, response, refusal
    workload: Path | None = None
    workload_truth: Path | None = None

    @classmethod
    def defaults(cls) -> "EvaluationSets":
        events, truth = sample_workload()
        return cls(
            shipped_set("toxicity_eval.jsonl"), shipped_set("faithfulness_eval.jsonl"), shipped_set("relevance_eval.jsonl"),
            shipped_set("refusal_eval.jsonl"), events, truth,
        )

    def present(self) -> "EvaluationSets":
        """The same sets, each None where its file does not exist."""
        return EvaluationSets(*(p if p is not None and p.exists() else None for p in (
            self.toxicity, self.faithfulness, self.relevance, self.refusal, self.workload, self.workload_truth)))


ROW_KEYS = {  # what each kind of labeled set's rows need
    "toxicity": ("text", "toxic"),
    "faithfulness": ("prompt", "response", "context", "faithful"),
    "relevance": ("prompt", "response", "relevant", "refusal"),
    "refusal": ("prompt", "response", "refusal"),
}


def check_sets(sets: EvaluationSets) -> None:
    """Reads each labeled set that is there: DatasetError at the first row that cannot be scored, before anything is."""
    present = sets.present()
    for kind, keys in ROW_KEYS.items():
        path = getattr(present, kind)
        if path is not None:
            read_jsonl(path, keys)


def measure_all(sets: EvaluationSets | Path | None = None, faithfulness_set: Path | None = None, *,
                embedder=None, faithfulness_support=None, on_set: Callable[[str], None] = lambda name: None) -> list[Quality]:
    """Every scorer on every set present; `faithfulness_support`, a support model other than the default (the one
    EVALSTREAM_FAITHFULNESS_MODEL names), is measured beside the default and the baseline. `on_set` is told each
    set as its scoring starts (progress). (Old call style: measure_all(toxicity_set, faithfulness_set).)"""
    if not isinstance(sets, EvaluationSets):
        sets = EvaluationSets(toxicity=sets, faithfulness=faithfulness_set) if sets is not None else EvaluationSets.defaults()
    sets = sets.present()
    if embedder is None:
        from evalstream.scorers.embeddings import Embedder

        embedder = Embedder()
    results: list[Quality] = []
    if sets.toxicity:
        on_set(f"toxicity: {sets.toxicity.name}")
        results += _toxicity(embedder, sets.toxicity)
    results += _faithfulness(embedder, sets, faithfulness_support, on_set)
    results += _relevance(embedder, sets, on_set)
    return results


def _toxicity(embedder, dataset: Path) -> list[Quality]:
    from profanity_check import predict_prob

    from evalstream.scorers.toxicity import ToxicityHead

    head = ToxicityHead()
    return toxicity_quality(
        dataset,
        {
            "toxicity: minilm-head (default)": (lambda texts: head.predict(embedder.encode_documents(texts))[:, 0], head.threshold),
            "toxicity: alt-profanity-check": (lambda texts: predict_prob(texts), 0.5),
        },
    )


def _faithfulness(embedder, sets: EvaluationSets, configured, on_set: Callable[[str], None]) -> list[Quality]:
    """(a) the hand-labeled set, (b) the sample workload, (c) the sets written apart: evaluation/faithfulness.py."""
    from evalstream.evaluation import faithfulness

    labeled = faithfulness.faithfulness_sets(sets.faithfulness, sets.workload, sets.workload_truth, [shipped_set(name) for name in faithfulness.INDEPENDENT_SETS])
    return faithfulness.measure(embedder, labeled, configured, on_set)


def _relevance(embedder, sets: EvaluationSets, on_set: Callable[[str], None]) -> list[Quality]:
    """The relevance head (default) and the old prompt/response cosine (baseline) on each relevance set."""
    import numpy as np

    from evalstream.scorers.relevance import RelevanceScorer

    scorer = RelevanceScorer(embedder)
    labeled: list[tuple[str, list[dict]]] = []
    if sets.relevance:
        labeled.append((sets.relevance.name, read_jsonl(sets.relevance)))
    if sets.refusal:
        labeled.append((sets.refusal.name, [{**r, "relevant": None} for r in read_jsonl(sets.refusal)]))
    if sets.workload and sets.workload_truth:
        labeled.append((f"{sets.workload.name} (generator truth)", workload_relevance_rows(sets.workload, sets.workload_truth)))

    def cosine(events):
        prompts = embedder.encode_documents([e.prompt for e in events])
        responses = embedder.encode_documents([e.response for e in events])
        cos = np.clip((prompts * responses).sum(axis=1), 0.0, 1.0)
        return np.where([bool(e.response.strip()) for e in events], cos, 0.0), np.zeros(len(events))

    out: list[Quality] = []
    for name, rows in labeled:
        on_set(f"relevance and refusal: {name}")
        out += relevance_quality(name, rows, "minilm-head (default)", scorer.predict, scorer.threshold, scorer.refusal_threshold)
        out += [q for q in relevance_quality(name, rows, "cosine (baseline)", cosine, 0.3, 0.5) if q.positive == "off-topic"]
    return out
