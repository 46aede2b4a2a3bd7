"""Flag thresholds per use case, set in the drift policy file and applied by the workers' scorers.

The scorers are built as the commands build them (cli.common.scorer_set), from the file that
EVALSTREAM_DRIFT_POLICY names: the real models, no stand-ins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from conftest import make_event
from evalstream.cli.common import scorer_set
from evalstream.config.settings import Settings
from evalstream.drift.policy import PolicyError, load_policy
from evalstream.producer import GenAIEvent

SHIPPED_POLICY = Path(__file__).resolve().parents[1] / "drift/policies/default.yaml"
CONTEXT = ["Unused items can be returned within 14 days of delivery for a full refund. Refunds go back to the original payment method within 5 business days."]
RESTATED = "Returns are accepted for unused items, and the refund arrives within 5 business days."  # faithful, in other words
RUDE = "You idiot, read the policy yourself."
REFUSAL = "I'm sorry, I can't help with that."


def policy_file(tmp_path: Path, where: list[str], value: Any) -> Path:
    policy = yaml.safe_load(SHIPPED_POLICY.read_text())
    node = policy
    for step in where[:-1]:
        node = node.setdefault(step, {})
    node[where[-1]] = value
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path


def scored(settings: Settings, use_case: str) -> list[dict]:
    events = [GenAIEvent.model_validate(make_event(i, use_case=use_case, context=CONTEXT, response=r)) for i, r in enumerate((RESTATED, RUDE, REFUSAL))]
    return scorer_set(settings).score(events)


def settings_with_policy(monkeypatch: pytest.MonkeyPatch, path: Path | None) -> Settings:
    if path is None:
        monkeypatch.delenv("EVALSTREAM_DRIFT_POLICY", raising=False)
    else:
        monkeypatch.setenv("EVALSTREAM_DRIFT_POLICY", str(path))
    monkeypatch.delenv("EVALSTREAM_JUDGE_URL", raising=False)
    return Settings().override("scoring", scorers=["faithfulness", "toxicity", "relevance"], device="cpu")


def test_a_use_case_threshold_in_the_policy_file_moves_that_use_case_flags_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    thresholds = {"unfaithful_below": 0.99, "toxic_above": 0.95, "refusal_above": 1.0}
    path = policy_file(tmp_path, ["use_cases", "rag-qa", "thresholds"], thresholds)
    assert load_policy(path).flag_thresholds() == {name: {"rag-qa": value} for name, value in thresholds.items()}

    restated, rude, refusal = scored(settings_with_policy(monkeypatch, None), "rag-qa")  # the shipped policy: the models' defaults
    assert 0.5 < restated["faithfulness"] < 0.99 and not restated["unfaithful"], restated  # faithful at the default threshold
    assert rude["toxicity"] < 0.95 and rude["toxic"], rude
    assert refusal["refusal"], refusal

    custom = settings_with_policy(monkeypatch, path)
    restated, rude, refusal = scored(custom, "rag-qa")
    assert restated["unfaithful"] and restated["unsupported_sentences"] == [RESTATED], restated
    assert not rude["toxic"] and not refusal["refusal"]
    restated, rude, refusal = scored(custom, "support-chat")  # another use case keeps the defaults
    assert not restated["unfaithful"] and rude["toxic"] and refusal["refusal"]


@pytest.mark.parametrize(
    "where, value, message",
    [
        (["use_cases", "rag-qa", "thresholds", "unfaithful_below"], 1.5, "use_cases.rag-qa.thresholds.unfaithful_below: Input should be less than or equal to 1"),
        (["use_cases", "rag-qa", "thresholds", "toxic_above"], -0.1, "use_cases.rag-qa.thresholds.toxic_above: Input should be greater than or equal to 0"),
        (["use_cases", "rag-qa", "thresholds", "unfaithful_above"], 0.5, "use_cases.rag-qa.thresholds.unfaithful_above: Extra inputs are not permitted"),
        (["regions", "eu", "thresholds"], {"toxic_above": 0.3}, "regions.eu.thresholds: Extra inputs are not permitted"),  # per use case only
        (["global", "thresholds"], {"toxic_above": 0.3}, "global.thresholds: Extra inputs are not permitted"),
    ],
)
def test_a_bad_threshold_is_refused_with_its_place(where: list[str], value: Any, message: str, tmp_path: Path) -> None:
    path = policy_file(tmp_path, where, value)
    with pytest.raises(PolicyError) as error:
        load_policy(path)
    assert str(path) in str(error.value) and message in str(error.value), str(error.value)


def test_the_commands_stop_on_a_bad_policy_with_the_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = policy_file(tmp_path, ["use_cases", "rag-qa", "thresholds", "unfaithful_below"], 1.5)
    with pytest.raises(typer.Exit) as stopped:
        scorer_set(settings_with_policy(monkeypatch, path))
    assert stopped.value.exit_code == 2
    assert "use_cases.rag-qa.thresholds.unfaithful_below" in capsys.readouterr().err
