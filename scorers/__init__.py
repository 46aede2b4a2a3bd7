"""Scorers map a batch of events to one result per event. They know nothing of Kafka or storage."""

from evalstream.scorers.base import Scorer, ScorerSet

__all__ = ["Scorer", "ScorerSet"]
