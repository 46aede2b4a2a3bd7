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

This module is the loop and the tables; the rest of an evaluation lives beside it: checks.py
(what is tested against what), lifecycle.py (when an alert fires and resolves), wording.py (how
the alert reads), state.py (what is kept per key), statistics.py (which statistics there are).
"""

from __future__ import annotations

from dataclasses import dataclass
import time
from typing import Any, Callable, Mapping, MutableMapping

from pydantic import ValidationError

from evalstream.contracts import Alert, DriftKey, ScoreRecord
from evalstream.drift.checks import Check, drift_checks, regression_checks
from evalstream.drift.lifecycle import Track
from evalstream.drift.policy import EffectivePolicy, Policy
from evalstream.drift.state import DAY, KeyState
from evalstream.drift.windows import WindowStats
from evalstream.drift.wording import baseline_reference, make_alert

MAX_VERSIONS = 8  # per family; older versions' state is dropped


Key = DriftKey  # the drift key lives in evalstream.contracts


@dataclass
class EngineStats:
    records: int = 0
    replayed: int = 0
    late: int = 0
    future: int = 0  # ts ahead of the wall clock by more than the allowed skew: dropped
    invalid: int = 0
    evaluations: int = 0
    fired: int = 0
    resolved: int = 0


class DriftEngine:
    def __init__(
        self,
        policy: Policy,
        buckets: MutableMapping[str, Any],
        keys: MutableMapping[str, Any],
        families: MutableMapping[str, Any],
        *,
        max_future_s: float = 300.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy
        # Event time drives the windows, but one record dated years ahead would make every later
        # record of its key "late" (drift goes dark, the baseline is erased): the clock is bounded
        # by the wall clock. The scoring workers already dead-letter such events; this holds for any writer.
        self.max_future_s = max_future_s
        self.wall_clock = wall_clock
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

    def process(self, record: ScoreRecord | Mapping[str, Any], offset: int) -> list[Alert]:
        """Fold one score record in; returns the alerts whose state changed (at bucket boundaries).

        A mapping is validated into a ScoreRecord first (tests and benchmarks write records as dicts).
        """
        if not isinstance(record, ScoreRecord):
            try:
                record = ScoreRecord.from_mapping(record)
            except ValidationError:
                self.stats.invalid += 1
                return []
        key, ts = record.drift_key, record.ts.timestamp()
        if ts > self.wall_clock() + self.max_future_s:
            self.stats.future += 1
            return []
        key_id = key.id
        raw = self.keys.get(key_id)
        state = KeyState.from_json(raw) if raw is not None else None
        if state is None:
            state = KeyState()
            self._register_version(key, ts)
        elif offset <= self._applied_offset(key_id, state):
            self.stats.replayed += 1
            return []
        start = int(ts // self.bucket_s) * self.bucket_s
        current = state.open[-1] if state.open else None
        if current is not None and start < current - self.window_s:
            self.stats.late += 1
            return []
        self.stats.records += 1
        self._add_to_bucket(key_id, start, record, ts, offset)

        alerts: list[Alert] = []
        if start not in state.open:
            if current is not None and start > current:
                self._retire(key, state, before=start - self.window_s)
                alerts = self._evaluate(key, state, window_end=start)
            state.open = sorted([*state.open, start])
            self.keys[key_id] = state.to_json()
        return alerts

    def _applied_offset(self, key_id: str, state: KeyState) -> int:
        applied = state.retired_offset
        for start in state.open:
            raw = self.buckets.get(f"{key_id}@{start}")
            if raw is not None:
                applied = max(applied, int(raw["last_offset"]))
        return applied

    def _add_to_bucket(self, key_id: str, start: int, record: ScoreRecord, ts: float, offset: int) -> None:
        bucket_id = f"{key_id}@{start}"
        raw = self.buckets.get(bucket_id)
        stats = WindowStats.from_json(raw) if raw is not None else WindowStats()
        stats.observe(record, ts)
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
        frozen = state.firing_drift()
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
        reference = baseline_reference(state.baseline_span(window_start))
        checks = drift_checks(policy, window, state.baseline(), reference) + self._regression_checks(key, policy, window)
        tested = sum(1 for c in checks if c.comparison is not None)
        alpha_each = policy.alpha / max(tested, 1)
        alerts = []
        for check in checks:
            track = state.tracks.setdefault(check.track_name, Track())
            transition = track.advance(check.comparison, policy.rules[check.statistic], policy, alpha_each, window_end)
            if transition is None:
                continue
            if transition == "firing":
                self.stats.fired += 1
            else:
                self.stats.resolved += 1
            alerts.append(make_alert(key, policy, check, transition, track.since, window, window_start, window_end))
        return alerts

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
        return regression_checks(policy, window, reference_data, key, predecessor)

    def _predecessor(self, key: Key) -> Key | None:
        versions = [(m, v) for m, v, _ in self.families.get(key.family) or []]
        if (key.model, key.prompt_version) not in versions:
            return None
        index = versions.index((key.model, key.prompt_version))
        if index == 0:
            return None
        model, prompt_version = versions[index - 1]
        return key._replace(model=model, prompt_version=prompt_version)
