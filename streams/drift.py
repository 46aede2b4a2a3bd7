"""Drift detection over genai.scores (filled in by the drift issue)."""

from __future__ import annotations

from typing import Any


def install_drift(app: Any, settings: Any, scores_topic: Any) -> None:
    """Registers the drift agent and its tables on the workers' faust app."""
