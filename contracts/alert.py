"""The alert contract: what the drift detectors publish on genai.alerts and the notifiers deliver.

Imports nothing of evalstream. Consumers ignore fields they do not know, so a newer detector can
add fields without breaking an older notifier.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

Severity = Literal["critical", "error", "warning", "info"]
AlertState = Literal["firing", "resolved"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2, "critical": 3}


def fingerprint(tenant: str, app: str, use_case: str, model: str, prompt_version: str, region: str, statistic: str, detector: str) -> str:
    """Stable id of one problem: the same key, statistic and detector always give the same fingerprint."""
    parts = (tenant, app, use_case, model, prompt_version, region, statistic, detector)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: int = SCHEMA_VERSION
    alert_id: str = Field(description="unique per state change: a re-sent copy has the same id")
    fingerprint: str = Field(description="stable per problem (key + statistic + detector); PagerDuty dedup_key")
    state: AlertState
    severity: Severity
    ts: datetime = Field(description="event time of the evaluation that changed the state (the window's end)")
    started_at: datetime = Field(description="event time the problem was first seen")
    tenant: str
    app: str
    use_case: str
    model: str
    prompt_version: str
    region: str
    statistic: str = Field(description="a drift statistic name (drift/statistics.py)")
    detector: str = Field(description="drift (window vs its baseline), prompt_regression or model_regression")
    window_value: float
    baseline_value: float
    window_start: datetime
    window_end: datetime
    sample_size: int = Field(description="events in the window the statistic was computed on")
    baseline_size: int
    baseline_description: str = Field(description='e.g. "baseline, 7 days" or "prompt v7"')
    p_value: float
    sample_event_ids: list[str] = Field(default_factory=list, max_length=20)
    policy: str = Field(description="policy and the most specific layer that set this rule")
    runbook_url: str = ""
    summary: str
    emitted_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def firing(self) -> bool:
        return self.state == "firing"

    @property
    def key_label(self) -> str:
        return f"{self.tenant}/{self.app} / {self.model} / prompt v{self.prompt_version} in {self.region}"

    def title(self) -> str:
        return f"[{self.state.upper()}] {self.severity}: {self.statistic.replace('_', ' ')} ({self.detector}) {self.key_label}"


def alert_id(fingerprint_: str, state: str, started_at: datetime, ts: datetime) -> str:
    return hashlib.sha256(f"{fingerprint_}|{state}|{started_at.isoformat()}|{ts.isoformat()}".encode()).hexdigest()[:32]
