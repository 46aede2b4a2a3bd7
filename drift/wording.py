"""How a drift alert reads: its summary line, its references and evidence, as the Alert contract."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from urllib.parse import quote

from evalstream.contracts import Alert, DriftKey, alert_id, fingerprint
from evalstream.drift.checks import Check
from evalstream.drift.detectors import STATISTICS
from evalstream.drift.lifecycle import Transition
from evalstream.drift.policy import EffectivePolicy
from evalstream.drift.state import DAY
from evalstream.drift.windows import WindowStats


def baseline_reference(span_seconds: float) -> str:
    return f"baseline, {_duration(span_seconds)}"


def summary(key: DriftKey, check: Check, transition: Transition, window_minutes: int) -> str:
    c = check.comparison
    assert c is not None
    spec = STATISTICS[check.statistic]
    if transition == "resolved":
        return (
            f"resolved: {spec.label} of {key.label()} is back to {spec.format(c.window_value)} "
            f"({check.reference}: {spec.format(c.baseline_value)}; last {window_minutes} min, n={c.window_n:,})"
        )
    text = (
        f"{spec.label} of {key.label()} {spec.worse} from {spec.format(c.baseline_value)} ({check.reference}) "
        f"to {spec.format(c.window_value)} (last {window_minutes} min, n={c.window_n:,}, {_p_text(c.p_value)})"
    )
    if check.detector != "drift":
        text += f": {check.detector.replace('_', ' ')}"
    return text


def make_alert(
    key: DriftKey,
    policy: EffectivePolicy,
    check: Check,
    transition: Transition,
    since: float,
    window: WindowStats,
    window_start: int,
    window_end: int,
) -> Alert:
    c = check.comparison
    assert c is not None
    fp = fingerprint(*key, check.statistic, check.detector)
    started_at, ts = _utc(since), _utc(window_end)
    exemplars = window.exemplars.get(check.statistic)
    fields = {**key._asdict(), "statistic": check.statistic, "detector": check.detector, "fingerprint": fp}
    return Alert(
        alert_id=alert_id(fp, transition, started_at, ts),
        fingerprint=fp,
        state=transition,
        severity=check.severity,
        ts=ts,
        started_at=started_at,
        **key._asdict(),
        statistic=check.statistic,
        detector=check.detector,
        window_value=_finite(c.window_value),
        baseline_value=_finite(c.baseline_value),
        window_start=_utc(window_start),
        window_end=ts,
        sample_size=c.window_n,
        baseline_size=c.baseline_n,
        baseline_description=check.reference,
        p_value=c.p_value,
        sample_event_ids=exemplars.event_ids if exemplars else [],
        policy=policy.policy_label(check.statistic, check.detector),
        runbook_url=policy.runbook_url.format(**{k: quote(str(v), safe="") for k, v in fields.items()}) if policy.runbook_url else "",  # names hold "/" and spaces
        summary=summary(key, check, transition, (window_end - window_start) // 60),
    )


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _duration(seconds: float) -> str:
    if seconds >= 2 * DAY:
        return f"{seconds / DAY:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{max(seconds, 0) / 60:.0f} min"


def _p_text(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def _finite(x: float) -> float:
    return x if math.isfinite(x) else 0.0
