"""Which scorers run, built once per process and shared by the workers and the offline command."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from evalstream.config.settings import ALL_SCORERS, ScoringSettings
from evalstream.scorers import ScorerSet
from evalstream.scorers.cost import CostScorer

__all__ = ["ALL_SCORERS", "ScoringSettings", "build_judge", "default_scorers", "support_model"]


def default_scorers(
    settings: ScoringSettings | None = None,
    *,
    unfaithful_below: Mapping[str, float] | None = None,
    toxic_above: Mapping[str, float] | None = None,
    refusal_above: Mapping[str, float] | None = None,
) -> ScorerSet:
    """The keyword mappings are flag thresholds per use case ({use case: threshold}); the callers
    read them from the drift policy file, a use case not named keeps the model's default."""
    settings = settings or ScoringSettings()
    unknown = set(settings.scorers) - set(ALL_SCORERS)
    if unknown:
        raise ValueError(f"unknown scorers {sorted(unknown)}; choose from {ALL_SCORERS}")
    scorers: list = []
    if "cost" in settings.scorers:
        scorers.append(CostScorer())
    if set(settings.scorers) & {"toxicity", "faithfulness", "relevance"}:
        from evalstream.scorers.embeddings import Embedder
        from evalstream.scorers.faithfulness import FaithfulnessScorer
        from evalstream.scorers.relevance import RelevanceScorer
        from evalstream.scorers.toxicity import ToxicityScorer

        embedder = Embedder(
            settings.embedding_model, device=settings.device, backend=settings.embedding_backend, cache_size=settings.embedding_cache_size
        )
        if "toxicity" in settings.scorers:
            scorers.append(
                ToxicityScorer(
                    embedder,
                    detoxify=_detoxify(settings, embedder.device),
                    confirm_above=settings.detoxify_confirm_above,
                    sample_rate=settings.detoxify_sample_rate,
                    thresholds=toxic_above,
                )
            )
        if "faithfulness" in settings.scorers:
            scorers.append(FaithfulnessScorer(support_model(settings.faithfulness_model, embedder), thresholds=unfaithful_below))
        if "relevance" in settings.scorers:
            scorers.append(RelevanceScorer(embedder, refusal_thresholds=refusal_above))
    # No LLM judge here: it runs off the ingest path, in its own stage (`evalstream judge`, build_judge).
    return ScorerSet(scorers)


def build_judge(settings: ScoringSettings):
    """The LLM judge of the judge stage, or None when no EVALSTREAM_JUDGE_URL is set."""
    if not settings.judge_url:
        return None
    from evalstream.scorers.llm_judge import JudgeSettings, LLMJudge

    return LLMJudge(
        JudgeSettings(
            base_url=settings.judge_url,
            model=settings.judge_model,
            api_key=settings.judge_api_key.get_secret_value() if settings.judge_api_key else None,
            sample_rate=settings.judge_sample_rate,
            budget_per_hour=settings.judge_budget_per_hour,
            timeout_s=settings.judge_timeout_s,
            retries=settings.judge_retries,
            concurrency=settings.judge_concurrency,
        )
    )


def support_model(choice: str, embedder):
    """The faithfulness support model that EVALSTREAM_FAITHFULNESS_MODEL names: factcheck, cosine or nli:/path."""
    from evalstream.scorers.factcheck import FactCheckSupport
    from evalstream.scorers.faithfulness import CosineSupport

    if choice == "factcheck":
        return FactCheckSupport(embedder)
    if choice == "cosine":
        return CosineSupport(embedder)
    if choice.startswith("nli:"):
        from evalstream.scorers.nli import CrossEncoderSupport

        return CrossEncoderSupport(Path(choice.removeprefix("nli:")), embedder, device=embedder.device)
    raise ValueError(f"EVALSTREAM_FAITHFULNESS_MODEL={choice!r}: use factcheck, cosine or nli:/path/to/model")


def _detoxify(settings: ScoringSettings, device: str):
    if settings.detoxify_checkpoint is None:
        return None
    from evalstream.scorers.detoxify_model import DetoxifyModel, write_bert_base_config

    config_dir = settings.detoxify_config_dir
    if config_dir is None:
        config_dir = write_bert_base_config(Path.home() / ".cache" / "evalstream" / "bert-base-uncased")
    return DetoxifyModel(settings.detoxify_checkpoint, config_dir, device=device)
