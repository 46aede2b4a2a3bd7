"""The alert lifecycle of one (statistic, detector) of one key: ok -> pending -> firing -> ok.

A track moves one step per evaluation. It fires after `fire_after` consecutive bad evaluations
(significant at its share of alpha and a large enough change) and resolves after
`resolve_after` consecutive clear ones. While firing, an evaluation still counts as bad at the
looser `resolve_alpha` and half the minimum change: hysteresis, so a statistic that hovers at
the threshold does not flap. An evaluation without a verdict (too few samples) leaves the
track as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from evalstream.drift.detectors import Comparison
from evalstream.drift.policy import EffectivePolicy, EffectiveRule

Transition = Literal["firing", "resolved"]


@dataclass
class Track:
    state: str = "ok"  # ok | pending | firing
    streak: int = 0  # consecutive bad evaluations (ok, pending) or clear ones (firing)
    since: float = 0.0  # event time of the first bad evaluation

    def advance(
        self, comparison: Comparison | None, rule: EffectiveRule, policy: EffectivePolicy, alpha: float, now: float
    ) -> Transition | None:
        """One evaluation on; returns the transition when the track fired or resolved."""
        if comparison is None:
            return None
        if self.state == "firing":
            return self._while_firing(comparison, rule, policy)
        return self._while_not_firing(comparison, rule, policy, alpha, now)

    def _while_firing(self, c: Comparison, rule: EffectiveRule, policy: EffectivePolicy) -> Transition | None:
        still_bad = c.p_value < policy.resolve_alpha and rule.large_enough(c.change_abs, c.change_rel, scale=0.5)
        self.streak = 0 if still_bad else self.streak + 1
        if self.streak < policy.resolve_after:
            return None
        self.state, self.streak = "ok", 0
        return "resolved"

    def _while_not_firing(self, c: Comparison, rule: EffectiveRule, policy: EffectivePolicy, alpha: float, now: float) -> Transition | None:
        bad = c.p_value < alpha and rule.large_enough(c.change_abs, c.change_rel)
        if not bad:
            self.state, self.streak = "ok", 0
            return None
        if self.streak == 0:
            self.since = now
        self.streak += 1
        self.state = "pending"
        if self.streak < policy.fire_after:
            return None
        self.state, self.streak = "firing", 0
        return "firing"
