"""Drift per key over EVENT time: buckets -> window and baseline -> tests -> alert lifecycle.

Time is the `ts` of each record, never the wall clock, so a replayed workload behaves like live
traffic. Per key (tenant, app, use_case, model, prompt_version, region):
- records fall into buckets of `bucket_minutes` by their ts; the window is the last
  `window_minutes` of complete buckets; a record older than the window is late and dropped;
- when a key's first record of a new bucket arrives, the buckets that left the window are
  folded into day blocks of the baseline (blocks older than `baseline_days` expire), and the
  window is evaluated against the baseline, once per bucket;
- a statistic that is firing is not folded into the baseline: a problem must not become the
  new normal and resolve itself; its clean buckets join the baseline again once it resolved;
- a key whose prompt_version or model replaced another one of the same (tenant, app, use_case,
  region) is also compared with that predecessor's data: the prompt/model regression detector.

State lives in three mutable mappings, faust tables in the worker (recovered from their
changelog topics after a restart), plain dicts in the tests and the benchmark:
- buckets:  "<key>@<bucket start>" -> WindowStats JSON; written per record, small;
- keys:     "<key>" -> KeyState JSON (open buckets, baseline blocks, alert tracks); written
  once per bucket boundary;
- families: "<family>" -> the versions seen, in order of first appearance.
Every record is applied once: a bucket remembers the highest source offset folded in, and a
key's records all come from one partition (the scores topic is keyed by tenant/app), so a
record replayed after a crash (offset not above what was applied) is skipped.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, MutableMapping, NamedTuple

from evalstream.contracts.alert import Alert, alert_id, fingerprint
from evalstream.drift.detectors import STATISTICS, Comparison
from evalstream.drift.policy import EffectivePolicy, Policy
from evalstream.drift.windows import WindowStats

DAY = 86_400
MAX_VERSIONS = 8  # per family; older versions' state is dropped


class Key(NamedTuple):
    tenant: str
    app: str
    use_case: str
    model: str
    prompt_version: str
    region: str

    @classmethod
    def of(cls, record: dict[str, Any]) -> Key:
        return cls(*(str(record[f]) for f in cls._fields))

    @property
    def id(self) -> str:
        return json.dumps(list(self), separators=(",", ":"))

    @property
    def family(self) -> str:
        return json.dumps([self.tenant, self.app, self.use_case, self.region], separators=(",", ":"))

    def label(self) -> str:
        return f"{self.tenant}/{self.app} / {self.model} / prompt v{self.prompt_version} in {self.region}"


@dataclass
class Track:
    """The alert lifecycle of one (statistic, detector) of one key: ok -> pending -> firing -> ok."""

    state: str = "ok"
    streak: int = 0  # consecutive bad evaluations (ok, pending) or clear ones (firing)
    since: float = 0.0  # event time of the first bad evaluation


@dataclass
class KeyState:
    open: list[int] = field(default_factory=list)  # starts of buckets not yet folded into the baseline
    blocks: list[tuple[int, WindowStats]] = field(default_factory=list)  # (day start, summary), oldest first
    retired_offset: int = -1
    baseline_since: float | None = None
    tracks: dict[str, Track] = field(default_factory=dict)  # "<statistic>/<detector>"

    def to_json(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "blocks": [[day, stats.to_json()] for day, stats in self.blocks],
            "retired_offset": self.retired_offset,
            "baseline_since": self.baseline_since,
            "tracks": {name: [t.state, t.streak, t.since] for name, t in self.tracks.items() if t.state != "ok" or t.streak},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyState:
        return cls(
            open=[int(s) for s in data["open"]],
            blocks=[(int(day), WindowStats.from_json(stats)) for day, stats in data["blocks"]],
            retired_offset=int(data["retired_offset"]),
            baseline_since=data.get("baseline_since"),
            tracks={name: Track(t[0], int(t[1]), float(t[2])) for name, t in data.get("tracks", {}).items()},
        )

    def baseline(self) -> WindowStats:
        return WindowStats.merged((stats for _, stats in self.blocks), exemplars=False)


@dataclass
class EngineStats:
    records: int = 0
    replayed: int = 0
    late: int = 0
    invalid: int = 0
    evaluations: int = 0
    fired: int = 0
    resolved: int = 0


def parse_ts(value: Any) -> float:
    ts = datetime.fromisoformat(str(value))
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.timestamp()


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


@dataclass(frozen=True)
class Check:
    """One test at one evaluation: a statistic of the window against a reference."""

    statistic: str
    detector: str  # drift | prompt_regression | model_regression
    comparison: Comparison | None
    reference: str  # "baseline, 7 days" or "prompt v7"
    severity: str
    baseline_model: str = ""
    baseline_prompt_version: str = ""


class DriftEngine:
    def __init__(
        self,
        policy: Policy,
        buckets: MutableMapping[str, Any],
        keys: MutableMapping[str, Any],
        families: MutableMapping[str, Any],
    ) -> None:
        self.policy = policy
        self.buckets = buckets
        self.keys = keys
        self.families = families
        self.bucket_s = policy.windows.bucket_seconds
        self.window_s = policy.windows.window_buckets * self.bucket_s
        self.baseline_s = policy.windows.baseline_days * DAY
        self.stats = EngineStats()
        self._effective: dict[tuple[str, str, str], EffectivePolicy] = {}

    def effective(self, key: Key) -> EffectivePolicy:
        cache_key = (key.tenant, key.region, key.use_case)
        if cache_key not in self._effective:
            if len(self._effective) > 4096:
                self._effective.clear()
            self._effective[cache_key] = self.policy.resolve(*cache_key)
        return self._effective[cache_key]

    # -- records -----------------------------------------------------------------------------

    def process(self, record: dict[str, Any], offset: int) -> list[Alert]:
        """Fold one score record in; returns the alerts whose state changed (at bucket boundaries)."""
        try:
            key = Key.of(record)
            ts = parse_ts(record["ts"])
        except (KeyError, TypeError, ValueError):
            self.stats.invalid += 1
            return []
        raw = self.keys.get(key.id)
        state = KeyState.from_json(raw) if raw is not None else None
        if state is None:
            state = KeyState()
            self._register_version(key, ts)
        elif offset <= self._applied_offset(key, state):
            self.stats.replayed += 1
            return []
        start = int(ts // self.bucket_s) * self.bucket_s
        current = state.open[-1] if state.open else None
        if current is not None and start < current - self.window_s:
            self.stats.late += 1
            return []
        self.stats.records += 1
        self._add_to_bucket(key, start, record, ts, offset)

        alerts: list[Alert] = []
        if start not in state.open:
            if current is not None and start > current:
                self._retire(key, state, before=start - self.window_s)
                alerts = self._evaluate(key, state, window_end=start)
            state.open = sorted([*state.open, start])
            self.keys[key.id] = state.to_json()
        return alerts

    def _applied_offset(self, key: Key, state: KeyState) -> int:
        applied = state.retired_offset
        for start in state.open:
            raw = self.buckets.get(f"{key.id}@{start}")
            if raw is not None:
                applied = max(applied, int(raw["last_offset"]))
        return applied

    def _add_to_bucket(self, key: Key, start: int, record: dict[str, Any], ts: float, offset: int) -> None:
        bucket_id = f"{key.id}@{start}"
        raw = self.buckets.get(bucket_id)
        stats = WindowStats.from_json(raw) if raw is not None else WindowStats()
        stats.observe({**record, "_ts": ts})
        stats.last_offset = max(stats.last_offset, offset)
        self.buckets[bucket_id] = stats.to_json()

    def _register_version(self, key: Key, ts: float) -> None:
        versions = list(self.families.get(key.family) or [])
        if any(m == key.model and v == key.prompt_version for m, v, _ in versions):
            return
        versions.append([key.model, key.prompt_version, ts])
        for model, prompt_version, _ in versions[:-MAX_VERSIONS]:
            self._forget(key._replace(model=model, prompt_version=prompt_version))
        self.families[key.family] = versions[-MAX_VERSIONS:]

    def _forget(self, key: Key) -> None:
        raw = self.keys.get(key.id)
        if raw is None:
            return
        for start in raw["open"]:
            self.buckets.pop(f"{key.id}@{start}", None)
        del self.keys[key.id]

    # -- baseline ----------------------------------------------------------------------------

    def _retire(self, key: Key, state: KeyState, *, before: int) -> None:
        """Fold the buckets older than the window into the baseline's day blocks; expire old blocks."""
        frozen = {name.split("/")[0] for name, track in state.tracks.items() if track.state == "firing" and name.endswith("/drift")}
        for start in [s for s in state.open if s < before]:
            raw = self.buckets.pop(f"{key.id}@{start}", None)
            if raw is None:
                continue
            stats = WindowStats.from_json(raw)
            day = start // DAY * DAY
            if not state.blocks or state.blocks[-1][0] != day:
                state.blocks.append((day, WindowStats()))
            state.blocks[-1][1].merge(stats, skip=frozen, exemplars=False)
            state.retired_offset = max(state.retired_offset, stats.last_offset)
            state.baseline_since = start if state.baseline_since is None else min(state.baseline_since, start)
        state.open = [s for s in state.open if s >= before]
        horizon = before - self.baseline_s
        state.blocks = [(day, stats) for day, stats in state.blocks if day + DAY > horizon]
        if state.blocks and state.baseline_since is not None:
            state.baseline_since = max(state.baseline_since, state.blocks[0][0], horizon)

    def _window(self, key: Key, state: KeyState, window_end: int) -> WindowStats:
        starts = [s for s in state.open if window_end - self.window_s <= s < window_end]
        return WindowStats.merged(WindowStats.from_json(raw) for s in starts if (raw := self.buckets.get(f"{key.id}@{s}")) is not None)

    def _all_data(self, key: Key, state: KeyState) -> WindowStats:
        """Everything kept of a key: its baseline and its open buckets (a predecessor's reference)."""
        total = state.baseline()
        for start in state.open:
            if (raw := self.buckets.get(f"{key.id}@{start}")) is not None:
                total.merge(WindowStats.from_json(raw), exemplars=False)
        return total

    # -- evaluation --------------------------------------------------------------------------

    def _evaluate(self, key: Key, state: KeyState, *, window_end: int) -> list[Alert]:
        self.stats.evaluations += 1
        policy = self.effective(key)
        window = self._window(key, state, window_end)
        window_start = window_end - self.window_s
        checks = self._drift_checks(policy, window, state, window_start) + self._regression_checks(key, policy, window)
        tested = sum(1 for c in checks if c.comparison is not None)
        alpha_each = policy.alpha / max(tested, 1)
        alerts = []
        for check in checks:
            track = state.tracks.setdefault(f"{check.statistic}/{check.detector}", Track())
            transition = self._advance(track, check, policy, alpha_each, window_end)
            if transition:
                alerts.append(self._alert(key, policy, check, transition, track.since, window, window_start, window_end))
        return alerts

    def _drift_checks(self, policy: EffectivePolicy, window: WindowStats, state: KeyState, window_start: int) -> list[Check]:
        baseline = state.baseline()
        span = window_start - state.baseline_since if state.baseline_since is not None else 0
        reference = f"baseline, {_duration(span)}"
        checks = []
        for name, spec in STATISTICS.items():
            rule = policy.rules[name]
            if rule.enabled:
                comparison = spec.comparison(window, baseline, min_window=policy.min_window_samples, min_baseline=policy.min_baseline_samples)
                checks.append(Check(name, "drift", comparison, reference, rule.severity))
        return checks

    def _regression_checks(self, key: Key, policy: EffectivePolicy, window: WindowStats) -> list[Check]:
        if not policy.regression.enabled:
            return []
        predecessor = self._predecessor(key)
        if predecessor is None:
            return []
        raw = self.keys.get(predecessor.id)
        if raw is None:
            return []
        reference_data = self._all_data(predecessor, KeyState.from_json(raw))
        if predecessor.model != key.model:
            detector, reference = "model_regression", f"{predecessor.model} / prompt v{predecessor.prompt_version}"
        else:
            detector, reference = "prompt_regression", f"prompt v{predecessor.prompt_version}"
        checks = []
        for name in policy.regression.statistics:
            if policy.rules[name].enabled:
                comparison = STATISTICS[name].comparison(
                    window, reference_data, min_window=policy.min_window_samples, min_baseline=policy.min_baseline_samples
                )
                checks.append(Check(name, detector, comparison, reference, policy.regression.severity, predecessor.model, predecessor.prompt_version))
        return checks

    def _predecessor(self, key: Key) -> Key | None:
        versions = [(m, v) for m, v, _ in self.families.get(key.family) or []]
        if (key.model, key.prompt_version) not in versions:
            return None
        index = versions.index((key.model, key.prompt_version))
        if index == 0:
            return None
        model, prompt_version = versions[index - 1]
        return key._replace(model=model, prompt_version=prompt_version)

    def _advance(self, track: Track, check: Check, policy: EffectivePolicy, alpha_each: float, now: int) -> str | None:
        """Moves a track one evaluation on; returns "firing" or "resolved" when it changed state."""
        c = check.comparison
        if c is None:
            return None  # too few samples to judge: keep whatever state it is in
        rule = policy.rules[check.statistic]
        if track.state == "firing":
            # Hysteresis: firing goes on while the change is still there at a looser level.
            still_bad = c.p_value < policy.resolve_alpha and rule.large_enough(c.change_abs, c.change_rel, scale=0.5)
            track.streak = 0 if still_bad else track.streak + 1
            if track.streak < policy.resolve_after:
                return None
            track.state, track.streak = "ok", 0
            self.stats.resolved += 1
            return "resolved"
        bad = c.p_value < alpha_each and rule.large_enough(c.change_abs, c.change_rel)
        if not bad:
            track.state, track.streak = "ok", 0
            return None
        if track.streak == 0:
            track.since = now
        track.streak += 1
        track.state = "pending"
        if track.streak < policy.fire_after:
            return None
        track.state, track.streak = "firing", 0
        self.stats.fired += 1
        return "firing"

    def _alert(
        self, key: Key, policy: EffectivePolicy, check: Check, state: str, since: float, window: WindowStats, window_start: int, window_end: int
    ) -> Alert:
        c = check.comparison
        assert c is not None
        spec = STATISTICS[check.statistic]
        firing = state == "firing"
        minutes = self.window_s // 60
        if firing:
            summary = (
                f"{spec.label} of {key.label()} {spec.worse} from {spec.format(c.baseline_value)} ({check.reference}) "
                f"to {spec.format(c.window_value)} (last {minutes} min, n={c.window_n:,}, {_p_text(c.p_value)})"
            )
            if check.detector != "drift":
                summary += f": {check.detector.replace('_', ' ')}"
        else:
            summary = (
                f"resolved: {spec.label} of {key.label()} is back to {spec.format(c.window_value)} "
                f"({check.reference}: {spec.format(c.baseline_value)}; last {minutes} min, n={c.window_n:,})"
            )
        fp = fingerprint(*key, check.statistic, check.detector)
        started_at, ts = _utc(since), _utc(window_end)
        exemplars = window.exemplars.get(check.statistic)
        fields = {**key._asdict(), "statistic": check.statistic, "detector": check.detector, "fingerprint": fp}
        return Alert(
            alert_id=alert_id(fp, state, started_at, ts),
            fingerprint=fp,
            state=state,
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
            runbook_url=policy.runbook_url.format(**fields) if policy.runbook_url else "",
            summary=summary,
        )


def _finite(x: float) -> float:
    return x if math.isfinite(x) else 0.0
