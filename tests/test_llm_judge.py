"""The LLM judge over a local chat-completions server: what it asks, what it makes of the answer,
and that its failures never reach scoring (it runs off the ingest path: streams/judge.py)."""

from __future__ import annotations

import json
import threading
from typing import Iterator

import pytest

from conftest import make_event
from evalstream.config.settings import ScoringSettings
from evalstream.scorers.llm_judge import HourlyBudget, JudgeFailure, JudgeInput, JudgeSettings, LLMJudge, Verdict
from evalstream.scorers.registry import build_judge, default_scorers
from evalstream.streams.pipeline import Pipeline, SourceRecord
from judge_server import ChatServer


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    server = ChatServer()
    yield server
    server.close()


def rag_input(i: int = 0) -> JudgeInput:
    return JudgeInput(event_id=f"e-{i}", prompt="How long do I have to return it?", context=["Returns are accepted within 14 days."], response="Returns take 30 days.")


def records(n: int) -> list[SourceRecord]:
    return [SourceRecord("events", 0, i, json.dumps(make_event(i)).encode()) for i in range(n)]


# --- the defects of the judge on the ingest path (issue: a reviewer's failure never fails scoring) --


@pytest.mark.parametrize("mode", ["not_json", "hang"])
def test_scoring_never_calls_the_judge_nor_dead_letters_because_of_it(chat: ChatServer, mode: str) -> None:
    """Configured as before (a judge URL, every event sampled), a judge answering 200 with prose
    sent every judged event to the DLQ, and a hung one held the batch for its timeouts and retries.
    The scoring path no longer calls it: every event is stored, none dead-lettered."""
    chat.mode = mode
    settings = ScoringSettings(scorers=["cost"], judge_url=chat.url, judge_sample_rate=1.0, judge_timeout_s=2.0)
    pipeline = Pipeline(default_scorers(settings), max_event_bytes=1 << 20)
    result = pipeline.process(records(8))
    assert [d.invalid.reason for d in result.dead_letters] == []
    assert len(result.rows) == 8 and all(r.judge_faithfulness is None for r in result.rows)
    assert chat.requests == []  # the scoring batch did not wait on the judge at all


# --- the judge itself: never raises, says why it gave no verdict ------------------------------------


def test_a_verdict_is_parsed_from_the_json_the_judge_was_asked_for(chat: ChatServer) -> None:
    judge = LLMJudge(JudgeSettings(base_url=chat.url, model="judge-model", api_key="sk-test"))
    verdict = judge.judge(rag_input())
    assert verdict == Verdict(0.2, ["Returns take 30 days."], "The context says 14 days.", "judge-model")
    (request,) = chat.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    body = request["body"]
    assert body["model"] == "judge-model" and body["response_format"] == {"type": "json_object"} and body["temperature"] == 0
    assert "Returns are accepted within 14 days." in body["messages"][1]["content"]
    assert "Returns take 30 days." in body["messages"][1]["content"]


@pytest.mark.parametrize(
    "reply",
    [
        "Sure! The answer looks fine.",  # prose, the reported case
        json.dumps({"faithfulness": "high"}),  # JSON, but not a number
        json.dumps({"faithfulness": float("nan")}),  # json.dumps writes NaN; a verdict must be a number in 0..1
        json.dumps(["faithfulness", 1]),  # not an object
        json.dumps({"reason": "no score"}),  # no faithfulness
    ],
)
def test_a_reply_that_is_not_the_json_asked_for_is_a_failure_not_an_exception(chat: ChatServer, reply: str) -> None:
    chat.content = reply
    judge = LLMJudge(JudgeSettings(base_url=chat.url, model="m", retries=2))
    result = judge.judge(rag_input())
    assert isinstance(result, JudgeFailure) and result.kind == "bad_reply"
    assert judge.failures == 1 and len(chat.requests) == 1  # not retried: the same question costs again


def test_a_200_whose_body_is_not_json_is_a_failure_not_an_exception(chat: ChatServer) -> None:
    chat.mode = "not_json"
    judge = LLMJudge(JudgeSettings(base_url=chat.url, model="m", retries=2))
    result = judge.judge(rag_input())
    assert isinstance(result, JudgeFailure) and result.kind == "bad_reply" and judge.failures == 1


def test_what_one_question_carries_is_bounded(chat: ChatServer) -> None:
    judge = LLMJudge(JudgeSettings(base_url=chat.url, model="m"))
    huge = JudgeInput(event_id="e", prompt="q" * 500_000, context=["c" * 500_000] * 2, response="r" * 500_000)
    assert isinstance(judge.judge(huge), Verdict)
    assert len(chat.requests[0]["body"]["messages"][1]["content"]) < 40_000


def test_retryable_statuses_are_retried_then_succeed(chat: ChatServer) -> None:
    judge = LLMJudge(JudgeSettings(base_url=chat.url, model="m", retries=3, backoff_s=0.01))
    chat.fail_next = 2
    assert isinstance(judge.judge(rag_input()), Verdict) and len(chat.requests) == 3


def test_a_hung_judge_times_out_and_gives_up_after_its_retries(chat: ChatServer) -> None:
    judge = LLMJudge(JudgeSettings(base_url=chat.url, model="m", retries=1, timeout_s=0.3, backoff_s=0.01))
    chat.mode = "hang"
    result = judge.judge(rag_input())
    assert isinstance(result, JudgeFailure) and result.kind == "unavailable" and len(chat.requests) == 2


def test_an_unreachable_judge_is_a_failure(chat: ChatServer) -> None:
    chat.close()
    judge = LLMJudge(JudgeSettings(base_url=chat.url, model="m", retries=0, timeout_s=1.0))
    assert judge.judge(rag_input()).kind == "unavailable"


def test_judge_many_runs_calls_concurrently_and_keeps_each_result_in_place(chat: ChatServer) -> None:
    judge = LLMJudge(JudgeSettings(base_url=chat.url, model="m", concurrency=4))
    chat.delay_s = 30.0  # every call waits until four are in flight at once, then all are released
    released = threading.Thread(target=lambda: _release_when(chat, 4), daemon=True)
    released.start()
    results = judge.judge_many([rag_input(i) for i in range(4)])
    assert all(isinstance(r, Verdict) for r in results) and len(chat.requests) == 4


def _release_when(chat: ChatServer, in_flight: int) -> None:
    import time

    while len(chat.requests) < in_flight:
        time.sleep(0.01)
    chat.released.set()


# --- what is judged: every flagged event, a sample of the rest, within an hourly budget ----------


def test_flagged_events_are_always_chosen_and_the_rest_sampled_by_event_id(chat: ChatServer) -> None:
    judge = LLMJudge(JudgeSettings(base_url=chat.url, model="m", sample_rate=0.25))
    assert judge.reason_to_judge("a", unfaithful=True) == "flagged"
    assert judge.reason_to_judge("a", toxic=True) == "flagged"
    assert judge.reason_to_judge("a", relevance=0.05) == "flagged"  # off-topic
    ids = [f"event-{i}" for i in range(2000)]
    sampled = [i for i in ids if judge.reason_to_judge(i, relevance=0.9) == "sampled"]
    assert 0.2 < len(sampled) / len(ids) < 0.3
    again = LLMJudge(JudgeSettings(base_url=chat.url, model="m", sample_rate=0.25))
    assert sampled == [i for i in ids if again.reason_to_judge(i, relevance=0.9) == "sampled"]  # a replay chooses the same
    assert LLMJudge(JudgeSettings(base_url=chat.url, model="m", sample_rate=0.0)).reason_to_judge("a") is None


def test_the_hourly_budget_refuses_past_its_cap() -> None:
    budget = HourlyBudget(3)
    assert [budget.take() for _ in range(5)] == [True, True, True, False, False]


def test_the_judge_is_built_from_the_settings_only_when_a_url_is_set(chat: ChatServer) -> None:
    assert build_judge(ScoringSettings()) is None
    judge = build_judge(ScoringSettings(judge_url=chat.url, judge_model="j", judge_sample_rate=0.5, judge_timeout_s=3.0))
    assert judge is not None and (judge.settings.model, judge.settings.sample_rate, judge.settings.timeout_s) == ("j", 0.5, 3.0)
