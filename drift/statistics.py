"""The drift statistics: the one list of them.

What each is tested by (detectors.STATISTICS), which summary of a window holds it
(windows.WindowStats.PARTS), which the policy may configure and which an alert names all
derive from this enum; a member's value is the statistic's name in policy files and alerts.
"""

from __future__ import annotations

from enum import StrEnum


class Statistic(StrEnum):
    TOXICITY_RATE = "toxicity_rate"
    ERROR_RATE = "error_rate"  # errors and refusals (content filter)
    FAITHFULNESS = "faithfulness"
    RELEVANCE = "relevance"
    COST_PER_EVENT = "cost_per_event"
    LATENCY_P95 = "latency_p95"
    UNFAITHFUL_RATE = "unfaithful_rate"  # share of events with context flagged unfaithful
    REFUSAL_RATE = "refusal_rate"  # share of events in which the model declined or deflected
