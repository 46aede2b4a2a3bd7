"""Agreement and recommendation on chdb, over seeded rows whose answer is known (no Kafka, no models)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dashboards_data import new_database

from evalstream.cli.main import app
from evalstream.contracts import Feedback
from evalstream.drift.policy import DEFAULT_POLICY
from evalstream.genaiops import agreement as agree
from evalstream.genaiops import recommend as rec
from evalstream.genaiops.intervals import roc_auc, wilson
from evalstream.sinks import ClickHouseSink
from evalstream.sinks.feedback import FeedbackSink

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SCORERS = {"cost": "1", "toxicity": "t1", "faithfulness": "f1", "relevance": "r1"}


def row(offset: int, **overrides: Any) -> dict[str, Any]:
    base = {
        "event_id": uuid.uuid4(), "ts": NOW - timedelta(hours=2, seconds=offset), "tenant": "acme", "app": "support-bot",
        "environment": "prod", "region": "eu", "use_case": "rag-qa", "provider": "openai", "model": "gpt-4o-mini",
        "prompt_id": "answer-from-docs", "prompt_version": "7", "toxicity": 0.01, "toxic": False, "faithfulness": 0.9,
        "unfaithful": False, "relevance": 0.9, "refusal": False, "latency_ms": 800.0, "cost_usd": Decimal("0.0002"),
        "cost_unknown_model": False, "scorers": SCORERS, "source_topic": "seed", "source_partition": 0, "source_offset": offset,
    }
    return {**base, **overrides}


@pytest.fixture
def sink() -> ClickHouseSink:
    """A fresh database in the process's one chdb directory (chdb opens one directory per process)."""
    return new_database()[1]


def labelled(sink: ClickHouseSink, use_case: str, n: int, start: int, *, agree_with_scorer: bool) -> None:
    """n events spread over faithfulness 0..1 (flagged below 0.5), each labelled by a person who
    agrees with the scorer, or who says the opposite."""
    rows = [row(start + i, use_case=use_case, faithfulness=(i + 0.5) / n, unfaithful=(i + 0.5) / n < 0.5) for i in range(n)]
    sink.write(rows)
    feedback = [
        Feedback(event_id=r["event_id"], tenant="acme", app="support-bot", rater="ann", event_ts=r["ts"],
                 faithful=(r["faithfulness"] >= 0.5) == agree_with_scorer)
        for r in rows
    ]
    FeedbackSink(sink.dsn).write(feedback)


def test_intervals() -> None:
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [False, False, True, True]) == 1.0
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 0.0
    low = wilson(0, 20)
    assert low.value == 0 and 0.1 < low.high < 0.2  # zero of twenty is not "certainly zero"


def test_agreement_is_high_where_people_agree_and_low_where_they_disagree(sink: ClickHouseSink) -> None:
    labelled(sink, "rag-qa", 120, 0, agree_with_scorer=True)
    labelled(sink, "summaries", 120, 1000, agree_with_scorer=False)
    labelled(sink, "chat", 6, 2000, agree_with_scorer=True)
    pairs = agree.load_pairs(sink.client, since=NOW - timedelta(days=1))
    reports = {(r.scorer, r.use_case): r for r in agree.measure(pairs, target_precision=0.9)}
    assert set(reports) == {("faithfulness", "rag-qa"), ("faithfulness", "summaries"), ("faithfulness", "chat")}

    good, bad, few = reports[("faithfulness", "rag-qa")], reports[("faithfulness", "summaries")], reports[("faithfulness", "chat")]
    assert good.labels == 120 and good.positives == 60
    assert good.auc.value > 0.99 and good.auc.low > 0.95
    assert good.precision.value == 1.0 and good.recall.value == 1.0
    assert good.threshold_for_target is not None and 0.45 <= good.threshold_for_target.value <= 0.55
    assert good.expected_calibration_error < 0.3

    assert bad.auc.value < 0.01 and bad.auc.high < 0.1
    assert bad.precision.value == 0.0 and bad.precision.high < 0.1
    assert bad.threshold_for_target is None

    assert not few.enough_labels and few.auc is None
    assert any("too few labels" in note for note in few.notes)
    text = agree.render_text(list(reports.values()))
    assert "too few labels" in text and "ROC-AUC" in text


def test_a_relabel_replaces_the_earlier_label_and_the_cli_reports(sink: ClickHouseSink, tmp_path: Path) -> None:
    labelled(sink, "rag-qa", 40, 0, agree_with_scorer=False)
    pairs = agree.load_pairs(sink.client, since=NOW - timedelta(days=1))
    # the same rater changes their mind an hour later, on every event: now they agree with the scorer
    relabels = [
        Feedback(event_id=p_id, tenant="acme", app="support-bot", rater="ann", ts=NOW + timedelta(hours=1), faithful=score >= 0.5)
        for p_id, score in sink.client.query("SELECT event_id, faithfulness FROM scored_events").result_rows
    ]
    FeedbackSink(sink.dsn).write(relabels)  # no event_ts: looked up from the stored event
    (after,) = agree.measure(agree.load_pairs(sink.client, since=NOW - timedelta(days=1)))
    assert len(pairs) == 40 and after.labels == 40 and after.auc.value > 0.99
    stamps = sink.client.query("SELECT countIf(event_ts = ts) FROM feedback").result_rows[0][0]
    assert stamps == 0  # the looked-up event time, not the rating time

    result = CliRunner().invoke(app, ["agreement", "--clickhouse", sink.dsn, "--since", (NOW - timedelta(days=1)).isoformat()])
    assert result.exit_code == 0, result.output
    assert "faithfulness / rag-qa: 40 labels" in result.output


def test_feedback_file_loads_directly_into_clickhouse(sink: ClickHouseSink, tmp_path: Path) -> None:
    stored = row(0)
    sink.write([stored])
    lines = [
        Feedback(event_id=stored["event_id"], tenant="acme", app="support-bot", rater="ann", thumbs="down", toxic=False,
                 faithful=False, correction="Within 14 days. Mail jane.doe@example.com for a label.").model_dump_json(),
        '{"event_id": "not-a-uuid", "tenant": "acme", "app": "support-bot", "rater": "ann", "thumbs": "up"}',
        '{"event_id": "%s", "tenant": "acme", "app": "support-bot", "rater": "ann"}' % uuid.uuid4(),  # says nothing
    ]
    path = tmp_path / "feedback.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["feedback", str(path), "--clickhouse", sink.dsn])
    assert result.exit_code == 1  # invalid lines were skipped
    assert "stored 1 feedback" in result.output and "line 2 skipped" in result.output and "line 3 skipped" in result.output
    got = dict(sink.client.query("SELECT label, value FROM feedback").result_rows)
    assert got == {"thumbs_up": 0.0, "toxic": 0.0, "faithful": 0.0, "correction": 1.0}
    (correction,) = sink.client.query("SELECT comment FROM feedback WHERE label = 'correction'").result_rows[0]
    assert correction.startswith("Within 14 days.") and "jane.doe@example.com" not in correction  # redacted before storing


def seed_options(sink: ClickHouseSink) -> None:
    """Four options for use case "support": the answer is gpt-4.1-mini v3."""
    options = [
        # model, version, events, unfaithful every, cost per event
        ("gpt-4o-mini", "3", 300, 3, "0.00010"),  # cheapest with evidence, a third unfaithful: inadequate
        ("gpt-4.1-mini", "3", 300, 50, "0.00040"),  # 2% unfaithful: adequate, the cheapest that is
        ("gpt-4.1", "3", 300, 100, "0.00200"),  # 1%: adequate, five times dearer
        ("gpt-4.1-nano", "3", 40, 10**6, "0.00005"),  # perfect and cheapest, on 40 events: too little evidence
    ]
    rows, offset = [], 0
    for model, version, n, every, cost in options:
        for i in range(n):
            bad = i % every == every - 1
            rows.append(row(offset, use_case="support", model=model, prompt_version=version, unfaithful=bad,
                            faithfulness=0.2 if bad else 0.9, cost_usd=Decimal(cost), latency_ms=500.0 + i))
            offset += 1
    sink.write(rows)


def test_recommendation_picks_the_cheapest_adequate_option_with_enough_evidence(sink: ClickHouseSink) -> None:
    seed_options(sink)
    options = rec.load_options(sink.client, use_case="support", since=NOW - timedelta(days=1))
    result = rec.recommend("support", options, rec.Targets(max_unfaithful_rate=0.10), min_events=100)
    assert result.choice is not None and (result.choice.model, result.choice.prompt_version) == ("gpt-4.1-mini", "3")
    by_model = {o.model: o for o in result.options}
    assert not by_model["gpt-4.1-nano"].adequate and "minimum sample" in "; ".join(by_model["gpt-4.1-nano"].shortfalls)
    assert not by_model["gpt-4o-mini"].adequate and by_model["gpt-4.1"].adequate
    assert abs(by_model["gpt-4.1-mini"].cost_per_1k - 0.4) < 1e-9
    assert by_model["gpt-4.1-mini"].latency_p95_ms is not None
    assert {o.model for o in result.options if o.pareto} == {"gpt-4o-mini", "gpt-4.1-mini", "gpt-4.1"}
    assert "gpt-4o-mini / v3" in result.why  # what the cheaper option gives up

    # a stricter target than the cheap adequate option can show with confidence: the dearer one
    strict = rec.recommend("support", rec.load_options(sink.client, use_case="support", since=NOW - timedelta(days=1)),
                           rec.Targets(max_unfaithful_rate=0.035), min_events=100)
    assert strict.choice is not None and strict.choice.model == "gpt-4.1"


def test_recommend_cli_never_goes_below_the_policys_minimum_sample(sink: ClickHouseSink) -> None:
    seed_options(sink)
    result = CliRunner().invoke(app, ["recommend", "--clickhouse", sink.dsn, "--use-case", "support", "--min-events", "5"])
    assert result.exit_code == 0, result.output
    assert "minimum sample 100 events" in result.output  # the shipped policy's min_window_samples
    assert "recommendation: gpt-4.1-mini / v3" in result.output


def test_recommend_cli_takes_the_use_cases_targets_from_the_policy_and_a_flag_overrides_them(sink: ClickHouseSink, tmp_path: Path) -> None:
    seed_options(sink)
    data = yaml.safe_load(resources.files("evalstream.drift").joinpath(DEFAULT_POLICY).read_text())
    data["use_cases"]["support"] = {"targets": {"max_unfaithful_rate": 0.035}}  # stricter than the global 10%
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(data))
    command = ["recommend", "--clickhouse", sink.dsn, "--use-case", "support", "--policy", str(policy)]
    strict = CliRunner().invoke(app, command)
    assert strict.exit_code == 0, strict.output
    assert "recommendation: gpt-4.1 / v3" in strict.output
    relaxed = CliRunner().invoke(app, [*command, "--max-unfaithful-rate", "0.10"])
    assert "recommendation: gpt-4.1-mini / v3" in relaxed.output


def board_panel_rows(client: Any, title: str) -> list[dict[str, Any]]:
    """A panel of the models board, expanded as Grafana would over the last 6 hours, run on `client`."""
    from dashboards_queries import Scenario, resolve_variables
    from evalstream.dashboards import catalog
    from evalstream.dashboards.sql import TimeRange, expand

    (board,) = [b for b in catalog.load_boards() if b["uid"] == "evalstream-models"]
    scenario = Scenario("last 6 h", TimeRange(NOW - timedelta(hours=6), NOW + timedelta(minutes=1), 30))
    (query,) = [q for q in catalog.clickhouse_queries(board) if q.name == title]
    result = client.query(expand(query.sql, scenario.time_range, resolve_variables(client, board, scenario)))
    return [dict(zip(result.column_names, r)) for r in result.result_rows]


def test_the_agreement_panel_shows_the_same_verdicts(sink: ClickHouseSink) -> None:
    labelled(sink, "rag-qa", 120, 0, agree_with_scorer=True)
    labelled(sink, "summaries", 120, 1000, agree_with_scorer=False)
    labelled(sink, "chat", 6, 2000, agree_with_scorer=True)
    rows = {r["use_case"]: r for r in board_panel_rows(sink.client, "Scorer agreement with human labels")}
    assert rows["rag-qa"]["roc_auc"] > 0.99 and rows["rag-qa"]["flag_precision"] == 1.0
    assert rows["summaries"]["roc_auc"] < 0.01 and rows["summaries"]["flag_recall"] == 0.0
    assert rows["chat"]["roc_auc"] is None and rows["chat"]["evidence"] == "too few labels"


def test_the_options_panel_shows_the_evidence_behind_each_option(sink: ClickHouseSink) -> None:
    seed_options(sink)
    rows = board_panel_rows(sink.client, "Model options per use case: quality, cost and evidence")
    assert [r["model"] for r in rows] == ["gpt-4.1-nano", "gpt-4o-mini", "gpt-4.1-mini", "gpt-4.1"]  # cheapest first
    by_model = {r["model"]: r for r in rows}
    assert by_model["gpt-4.1-nano"]["evidence"] == "too few events"
    assert by_model["gpt-4.1-mini"]["unfaithful_rate_upper95"] < 0.10 < by_model["gpt-4o-mini"]["unfaithful_rate_upper95"]
    assert abs(float(by_model["gpt-4.1-mini"]["cost_usd_per_1k_events"]) - 0.4) < 1e-9
