"""Which scorers run, built once per process and shared by the workers and the offline command."""

from __future__ import annotations

from evalstream.scorers import ScorerSet
from evalstream.scorers.cost import CostScorer


def default_scorers() -> ScorerSet:
    return ScorerSet([CostScorer()])
