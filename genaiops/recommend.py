"""Cost-aware advice: per use case, which model and prompt version to run.

Each option (model, prompt version) seen for the use case is measured from the stored events:
flag rates and mean scores with 95% intervals, latency p95, cost per 1,000 priced events. An
option is *adequate* when the worse end of each targeted statistic's interval meets the target
(evidence that it is good enough, not a lucky point estimate) and it has at least the policy's
minimum sample of events (drift's min_window_samples for the use case): below that nothing is
recommended from it, however good it looks. The advice is the cheapest adequate option with a
known cost; the Pareto front shows what a cheaper option gives up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from evalstream.genaiops.intervals import Estimate, wilson

OPTIONS_SQL = """
SELECT model, prompt_version, any(provider) AS provider, count() AS events,
       countIf(mapContains(scorers, 'toxicity')) AS toxicity_scored, countIf(mapContains(scorers, 'toxicity') AND toxic = 1) AS toxic_events,
       count(unfaithful) AS unfaithful_scored, countIf(unfaithful = 1) AS unfaithful_events,
       countIf(mapContains(scorers, 'relevance')) AS refusal_scored, countIf(mapContains(scorers, 'relevance') AND refusal = 1) AS refusal_events,
       count(faithfulness) AS faithfulness_scored, avg(faithfulness) AS faithfulness_mean, stddevSamp(faithfulness) AS faithfulness_sd,
       quantile(0.95)(latency_ms) AS latency_p95_ms,
       countIf(cost_usd IS NOT NULL) AS priced_events, sum(cost_usd) AS cost_usd_total
FROM (SELECT * FROM scored_events WHERE use_case = {use_case:String} AND ts >= {since:DateTime64(3, 'UTC')}
        AND ({tenant:String} = '' OR tenant = {tenant:String}) AND ({app:String} = '' OR app = {app:String})
      LIMIT 1 BY tenant, event_id)
GROUP BY model, prompt_version
ORDER BY model, prompt_version
"""


@dataclass(frozen=True)
class Targets:
    """What "good enough" means; None: not targeted. `evalstream recommend` takes them from the drift
    policy's `targets` (inherited over its layers, so a use case can set its own); these defaults
    are the shipped policy's (about 10% unfaithful answers is normal, toxicity in the low single percent)."""

    max_unfaithful_rate: float | None = 0.10
    max_toxic_rate: float | None = 0.02
    max_refusal_rate: float | None = 0.05
    min_faithfulness: float | None = None  # mean calibrated faithfulness


@dataclass
class Option:
    model: str
    prompt_version: str
    provider: str
    events: int
    toxic_rate: Estimate
    unfaithful_rate: Estimate
    refusal_rate: Estimate
    faithfulness: Estimate
    latency_p95_ms: float | None
    priced_events: int
    cost_per_1k: float | None  # USD per 1,000 priced events; None: no event priced
    adequate: bool = False
    enough_events: bool = False
    shortfalls: list[str] = field(default_factory=list)
    pareto: bool = False

    @property
    def name(self) -> str:
        return f"{self.model} / v{self.prompt_version}"


@dataclass
class Recommendation:
    use_case: str
    min_events: int
    targets: Targets
    options: list[Option]
    choice: Option | None
    why: str


def load_options(client: Any, *, use_case: str, since: datetime, tenant: str = "", app: str = "") -> list[Option]:
    result = client.query(OPTIONS_SQL, parameters={"use_case": use_case, "since": since, "tenant": tenant, "app": app})
    return [_option(dict(zip(result.column_names, row))) for row in result.result_rows]


def _option(r: dict[str, Any]) -> Option:
    mean, sd, n = r["faithfulness_mean"], r["faithfulness_sd"], int(r["faithfulness_scored"])
    if n and mean is not None and not math.isnan(float(mean)):
        half = 1.96 * float(sd) / math.sqrt(n) if n > 1 and sd is not None and not math.isnan(float(sd)) else math.nan
        faithfulness = Estimate(float(mean), float(mean) - half, float(mean) + half, n)
    else:
        faithfulness = Estimate(math.nan, math.nan, math.nan, 0)
    priced = int(r["priced_events"])
    total = r["cost_usd_total"]
    latency = r["latency_p95_ms"]
    return Option(
        model=r["model"], prompt_version=r["prompt_version"], provider=r["provider"], events=int(r["events"]),
        toxic_rate=wilson(int(r["toxic_events"]), int(r["toxicity_scored"])),
        unfaithful_rate=wilson(int(r["unfaithful_events"]), int(r["unfaithful_scored"])),
        refusal_rate=wilson(int(r["refusal_events"]), int(r["refusal_scored"])),
        faithfulness=faithfulness,
        latency_p95_ms=None if latency is None or math.isnan(float(latency)) else float(latency),
        priced_events=priced,
        cost_per_1k=float(total) * 1000 / priced if priced and total is not None else None,
    )


def recommend(use_case: str, options: list[Option], targets: Targets, min_events: int) -> Recommendation:
    for option in options:
        _judge(option, targets, min_events)
    _mark_pareto(options)
    adequate = [o for o in options if o.adequate and o.cost_per_1k is not None]
    if not adequate:
        judged = [o for o in options if o.enough_events]
        why = (
            f"no option meets the targets with confidence ({len(judged)} of {len(options)} have at least {min_events} events)"
            if options else f"no events of use case {use_case!r} in the range"
        )
        return Recommendation(use_case, min_events, targets, options, None, why)
    choice = min(adequate, key=lambda o: (o.cost_per_1k, -o.events))
    cheaper = [o for o in options if o.cost_per_1k is not None and o.cost_per_1k < choice.cost_per_1k]
    why = f"the cheapest of {len(adequate)} option(s) meeting every target at the worse end of its 95% interval, on {choice.events} events"
    if cheaper:
        why += "; cheaper but not adequate: " + "; ".join(f"{o.name} ({', '.join(o.shortfalls)})" for o in cheaper)
    return Recommendation(use_case, min_events, targets, options, choice, why)


def _judge(option: Option, targets: Targets, min_events: int) -> None:
    option.enough_events = option.events >= min_events
    if not option.enough_events:
        option.shortfalls.append(f"only {option.events} events, the policy's minimum sample is {min_events}")
    for label, estimate, limit in (
        ("unfaithful rate", option.unfaithful_rate, targets.max_unfaithful_rate),
        ("toxic rate", option.toxic_rate, targets.max_toxic_rate),
        ("refusal rate", option.refusal_rate, targets.max_refusal_rate),
    ):
        if limit is None:
            continue
        if estimate.n < min_events:
            option.shortfalls.append(f"{label} measured on {estimate.n} events (needs {min_events})")
        elif estimate.high > limit:
            option.shortfalls.append(f"{label} up to {estimate.high:.1%} > {limit:.1%}")
    if targets.min_faithfulness is not None:
        f = option.faithfulness
        if f.n < min_events:
            option.shortfalls.append(f"faithfulness measured on {f.n} events (needs {min_events})")
        elif math.isnan(f.low) or f.low < targets.min_faithfulness:
            option.shortfalls.append(f"mean faithfulness down to {f.low:.3f} < {targets.min_faithfulness:.3f}")
    if option.cost_per_1k is None:
        option.shortfalls.append("cost unknown (model not in the price table)")
    option.adequate = not option.shortfalls


def _quality(option: Option) -> tuple[float, ...]:
    """Higher is better on each: what the Pareto front trades against cost (unmeasured counts as worst)."""
    def good(x: float) -> float:
        return -math.inf if math.isnan(x) else x

    return (good(-option.unfaithful_rate.value), good(-option.toxic_rate.value), good(-option.refusal_rate.value), good(option.faithfulness.value))


def _mark_pareto(options: list[Option]) -> None:
    """An option with enough events and a known cost is on the front unless another is no dearer,
    no worse on every quality measure and better on one of them (or cheaper)."""
    candidates = [o for o in options if o.enough_events and o.cost_per_1k is not None]
    for o in candidates:
        qo = _quality(o)
        o.pareto = not any(
            other is not o and other.cost_per_1k <= o.cost_per_1k and all(a >= b for a, b in zip(_quality(other), qo))
            and (other.cost_per_1k < o.cost_per_1k or any(a > b for a, b in zip(_quality(other), qo)))
            for other in candidates
        )


def render_text(rec: Recommendation) -> str:
    lines = [f"use case {rec.use_case}: {len(rec.options)} option(s); minimum sample {rec.min_events} events (drift policy)"]
    for o in rec.options:
        cost = f"${o.cost_per_1k:.4f}/1k" if o.cost_per_1k is not None else "cost unknown"
        latency = f"{o.latency_p95_ms:,.0f} ms" if o.latency_p95_ms is not None else "n/a"
        mark = "*" if rec.choice is o else ("P" if o.pareto else " ")
        lines.append(
            f" {mark} {o.name:<28} n={o.events:<6} unfaithful {_rate(o.unfaithful_rate)}  toxic {_rate(o.toxic_rate)}  "
            f"refusal {_rate(o.refusal_rate)}  faithfulness {_mean(o.faithfulness)}  p95 {latency}  {cost}"
            + (f"  -- {'; '.join(o.shortfalls)}" if o.shortfalls else "  -- adequate")
        )
    lines.append("(* recommended, P on the Pareto front of quality against cost)")
    lines.append(f"recommendation: {rec.choice.name if rec.choice else 'none'}: {rec.why}")
    return "\n".join(lines)


def _rate(e: Estimate) -> str:
    return "n/a" if not e.n else f"{e.value:.1%} [{e.low:.1%}, {e.high:.1%}]"


def _mean(e: Estimate) -> str:
    return "n/a" if not e.n else f"{e.value:.3f} [{e.low:.3f}, {e.high:.3f}]"
