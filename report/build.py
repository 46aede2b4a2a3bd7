"""Builds the report for one time range and tenant, and writes it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from evalstream.dashboards.sql import TimeRange
from evalstream.report.data import PanelData, collect, interval_for
from evalstream.report.panels import CHARTS, STATS

UNITS_S = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class Report:
    time_range: TimeRange
    tenant: str | None
    generated_at: datetime
    stats: list[PanelData]
    charts: list[PanelData]
    missing: list[str] = field(default_factory=list)  # panels named in panels.py but not on their board
    step_s: int = 60  # one point of a time series per step_s

    @property
    def title(self) -> str:
        return f"evalstream report: {self.tenant}" if self.tenant else "evalstream report"

    @property
    def span_text(self) -> str:
        hours = (self.time_range.end - self.time_range.start).total_seconds() / 3600
        return f"{hours / 24:.3g} days" if hours >= 48 else f"{hours:.3g} hours"

    @property
    def failed(self) -> list[PanelData]:
        return [panel for panel in (*self.stats, *self.charts) if panel.error]


def build_report(client: Any, start: datetime, end: datetime, tenant: str | None = None) -> Report:
    time_range = TimeRange(_utc(start), _utc(end), interval_for(start, end))
    stats = collect(client, STATS, time_range, tenant)
    charts = collect(client, CHARTS, time_range, tenant)
    now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    step_s = max(time_range.interval_s, charts.step_s)
    return Report(time_range, tenant, now, stats.panels, charts.panels, stats.missing + charts.missing, step_s)


def write_report(client: Any, out: Path, start: datetime, end: datetime, tenant: str | None = None) -> Report:
    from evalstream.report.html import render  # plotly is imported only by those who render

    report = build_report(client, start, end, tenant)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report), encoding="utf-8")
    return report


def parse_since(text: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """'30m', '24h', '7d', '2w': the range that ends now."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text)
    if not match or int(match[1]) == 0:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 24h, 7d, 2w)")
    end = now or datetime.now(timezone.utc).replace(microsecond=0)
    return end - timedelta(seconds=int(match[1]) * UNITS_S[match[2]]), end


def parse_range(text: str) -> tuple[datetime, datetime]:
    """'START..END' in ISO 8601 (UTC unless an offset is given), e.g. 2026-11-20T08:00..2026-11-20T14:00."""
    parts = text.split("..")
    if len(parts) != 2:
        raise ValueError(f"not a range: {text!r} (use START..END, e.g. 2026-11-20T08:00..2026-11-20T14:00)")
    try:
        start, end = (_utc(datetime.fromisoformat(part.strip())) for part in parts)
    except ValueError as exc:
        raise ValueError(f"not a range: {text!r}: {exc}") from None
    if start >= end:
        raise ValueError(f"the range {text!r} ends before it starts")
    return start, end


def data_time_range(client: Any) -> tuple[datetime, datetime] | None:
    """The whole hours that hold the stored events (a replay's events may be days old), or None when none are stored."""
    first, last, count = client.query("SELECT min(ts), max(ts), count() FROM scored_events").result_rows[0]
    if not count:
        return None
    start = _utc(first).replace(minute=0, second=0, microsecond=0)
    end = _utc(last).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return start, end


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
