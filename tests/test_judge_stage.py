"""The judge stage, off the ingest path: score records -> the stored texts -> the judge -> judge_verdicts.

In process against chdb (the stage's choices, replays, a failing judge), and end to end on the
real broker: a worker configured with a hung judge stores everything and dead-letters nothing;
`evalstream judge` then judges from the stored texts and commits what it judged.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from conftest import EVALSTREAM, Flow, make_event
from dashboards_data import CHDB_DIR, new_database
from evalstream.config.settings import ScoringSettings
from evalstream.contracts import ScoreRecord
from evalstream.producer import EventProducer
from evalstream.scorers.llm_judge import JudgeSettings, LLMJudge
from evalstream.scorers.registry import default_scorers
from evalstream.sinks import ClickHouseSink
from evalstream.sinks.judge_verdicts import JudgeVerdictSink
from evalstream.streams.judge import JudgeStage
from evalstream.streams.pipeline import Pipeline, SourceRecord, score_record
from judge_server import ChatServer


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    server = ChatServer()
    yield server
    server.close()


@pytest.fixture
def store() -> tuple[ClickHouseSink, JudgeVerdictSink]:
    """A database of its own in the process's one chdb directory (chdb opens one per process)."""
    name, events = new_database()
    return events, JudgeVerdictSink(f"chdb://{CHDB_DIR}?database={name}")


def stored_records(events: ClickHouseSink, raw_events: list[dict]) -> list[bytes]:
    """The events scored (cost only) and stored as a worker would; their score records, as published."""
    pipeline = Pipeline(default_scorers(ScoringSettings(scorers=["cost"])), max_event_bytes=1 << 20)
    result = pipeline.process([SourceRecord("events", 0, i, json.dumps(e).encode()) for i, e in enumerate(raw_events)])
    assert not result.dead_letters
    events.write(result.rows)
    return [score_record(row) for row in result.rows]


def flagged(record: bytes, **flags: object) -> bytes:
    """The record as a worker whose faithfulness scorer flagged it would have published it."""
    return ScoreRecord.from_json(record).model_copy(update=flags).to_json()


def test_flagged_and_sampled_events_are_judged_from_their_stored_texts(chat: ChatServer, store) -> None:
    events, verdicts = store
    raw = [make_event(i) for i in range(6)]
    raw[4]["context"] = None  # nothing to be faithful to: never judged
    raw[5]["response"] = "   "
    records = stored_records(events, raw)
    records[0] = flagged(records[0], unfaithful=True)
    records[4] = flagged(records[4], toxic=True)
    never_sampled = LLMJudge(JudgeSettings(base_url=chat.url, model="judge-m", sample_rate=0.0))
    stage = JudgeStage(never_sampled, verdicts)
    rows = stage.process([*records, b"not a score record"])
    assert [str(r["event_id"]) for r in rows] == [raw[0]["event_id"]] and rows[0]["chosen"] == "flagged"
    assert len(chat.requests) == 1 and raw[0]["context"][0] in chat.requests[0]["body"]["messages"][1]["content"]
    assert (stage.stats.judged, stage.stats.not_judgeable, stage.stats.unreadable) == (1, 1, 1)

    sampled = JudgeStage(LLMJudge(JudgeSettings(base_url=chat.url, model="judge-m", sample_rate=1.0)), verdicts)
    rows = sampled.process(records)
    assert sorted(str(r["event_id"]) for r in rows) == sorted(e["event_id"] for e in raw[1:4])  # 0 was judged already
    assert {r["chosen"] for r in rows} == {"sampled"} and sampled.stats.already_judged == 1 and sampled.stats.not_judgeable == 2
    stored = verdicts.client.query("SELECT toString(event_id), chosen, faithfulness, reason FROM judge_verdicts ORDER BY chosen").result_rows
    assert len(stored) == 4 and stored[0][1:] == ("flagged", pytest.approx(0.2), "The context says 14 days.")


def test_a_replay_of_the_records_asks_the_judge_nothing_twice(chat: ChatServer, store) -> None:
    events, verdicts = store
    records = stored_records(events, [make_event(i) for i in range(4)])
    stage = JudgeStage(LLMJudge(JudgeSettings(base_url=chat.url, model="m", sample_rate=1.0)), verdicts)
    assert len(stage.process([*records, records[0]])) == 4  # a record published twice in one batch: judged once
    assert stage.process(records) == [] and len(chat.requests) == 4 and stage.stats.already_judged == 4


@pytest.mark.parametrize("mode", ["not_json", "hang"])
def test_a_failing_judge_costs_verdicts_only(chat: ChatServer, store, mode: str) -> None:
    events, verdicts = store
    records = stored_records(events, [make_event(i) for i in range(3)])
    chat.mode = mode
    judge = LLMJudge(JudgeSettings(base_url=chat.url, model="m", sample_rate=1.0, retries=1, timeout_s=0.5, backoff_s=0.01))
    stage = JudgeStage(judge, verdicts)
    assert stage.process(records) == []  # no exception, nothing stored, each failure counted
    assert stage.stats.failed == 3 and stage.stats.judged == 0
    assert verdicts.client.query("SELECT count() FROM judge_verdicts").result_rows[0][0] == 0


def test_records_of_events_not_stored_are_skipped_and_the_budget_holds(chat: ChatServer, store) -> None:
    events, verdicts = store
    records = stored_records(events, [make_event(i) for i in range(4)])
    elsewhere = ScoreRecord.from_json(records[0]).model_copy(update={"event_id": str(uuid.uuid4())}).to_json()
    stage = JudgeStage(LLMJudge(JudgeSettings(base_url=chat.url, model="m", sample_rate=1.0, budget_per_hour=2)), verdicts)
    assert len(stage.process([elsewhere, *records])) == 2
    assert (stage.stats.not_stored, stage.stats.over_budget, len(chat.requests)) == (1, 2, 2)


def test_a_later_verdict_replaces_the_earlier_one_for_readers(chat: ChatServer, store) -> None:
    events, verdicts = store
    records = stored_records(events, [make_event(0)])
    JudgeStage(LLMJudge(JudgeSettings(base_url=chat.url, model="m", sample_rate=1.0)), verdicts).process(records)
    (first,) = verdicts.client.query("SELECT * FROM judge_verdicts").named_results()
    verdicts.write([{**first, "chosen": "flagged", "faithfulness": 0.4}])  # judged again later (a rerun)
    latest = verdicts.client.query(
        "SELECT argMax(chosen, judged_at), argMax(faithfulness, judged_at) FROM judge_verdicts GROUP BY tenant, event_id, judge_model"
    ).result_rows
    assert latest == [("flagged", pytest.approx(0.4))]


def test_verdicts_of_events_from_spans_go_back_to_their_traces(chat: ChatServer, store) -> None:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    events, verdicts = store
    span = {"source": "otlp", "trace_id": "ab" * 16, "span_id": "cd" * 8}
    records = stored_records(events, [make_event(0, metadata=span), make_event(1)])
    sent: list[bytes] = []
    stage = JudgeStage(LLMJudge(JudgeSettings(base_url=chat.url, model="m", sample_rate=1.0)), verdicts, publish=sent.append)
    assert len(stage.process(records)) == 2
    (request,) = sent
    (log_record,) = ExportLogsServiceRequest.FromString(request).resource_logs[0].scope_logs[0].log_records
    attributes = {kv.key: kv.value for kv in log_record.attributes}
    assert log_record.trace_id.hex() == span["trace_id"] and log_record.span_id.hex() == span["span_id"]
    assert attributes["gen_ai.evaluation.name"].string_value == "judge_faithfulness"
    assert attributes["gen_ai.evaluation.score.value"].double_value == pytest.approx(0.2)


# --- the command ---------------------------------------------------------------------------------


def test_the_command_says_in_one_line_what_is_missing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVALSTREAM_")}
    env["EVALSTREAM_CLICKHOUSE"] = f"chdb://{tmp_path / 'chdb'}"
    no_judge = subprocess.run([*EVALSTREAM, "judge"], env=env, capture_output=True, text=True, timeout=120)
    assert no_judge.returncode == 2 and "EVALSTREAM_JUDGE_URL" in no_judge.stderr and "Traceback" not in no_judge.stderr
    env["EVALSTREAM_JUDGE_URL"] = "http://127.0.0.1:1/v1"
    no_broker = subprocess.run([*EVALSTREAM, "judge", "--bootstrap", "127.0.0.1:1"], env=env, capture_output=True, text=True, timeout=120)
    assert no_broker.returncode == 1 and "127.0.0.1:1" in no_broker.stderr and len(no_broker.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "chdb").exists()  # nothing set up before the checks


# --- end to end on the real broker ---------------------------------------------------------------


def run_judge(flow: Flow, chat: ChatServer, group: str, scores_topic: str) -> subprocess.CompletedProcess:
    env = {**flow.env, "EVALSTREAM_SCORES_TOPIC": scores_topic, "EVALSTREAM_JUDGE_URL": chat.url, "EVALSTREAM_JUDGE_SAMPLE_RATE": "1",
           "EVALSTREAM_JUDGE_GROUP_ID": group, "EVALSTREAM_JUDGE_TIMEOUT_S": "1", "EVALSTREAM_JUDGE_RETRIES": "1"}
    return subprocess.run([*EVALSTREAM, "judge", "--drain"], env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_scoring_never_waits_for_the_judge_which_judges_later_from_the_stored_texts(flow: Flow) -> None:
    n = 60
    scores_topic = f"{flow.events_topic}.scores"
    hung, babbling, good = ChatServer(), ChatServer(), ChatServer()
    hung.mode, babbling.mode = "hang", "not_json"
    try:
        events = [make_event(i) for i in range(n)]
        with EventProducer(flow.bootstrap, topic=flow.events_topic) as producer:
            assert all(producer.send(e, wait_s=10) for e in events)
        # Configured as before the judge stage: the judge's URL (hung), every event sampled.
        worker = flow.start_worker(scorers='["cost"]', scores_topic=scores_topic, judge_url=hung.url, judge_sample_rate=1, judge_timeout_s=30)
        flow.wait_committed(n)
        assert flow.stop_worker(worker) == 0
        assert hung.requests == [] and flow.dead_letters(expected=0, timeout=5) == []
        (row,) = flow.query("SELECT count() AS n, uniqExact(event_id) AS ids FROM scored_events")
        assert (row["n"], row["ids"]) == (n, n)

        failed = run_judge(flow, babbling, "judge-a", scores_topic)  # a judge that answers prose: nothing stored, nothing raised
        assert failed.returncode == 0, failed.stderr[-3000:]
        assert len(babbling.requests) == n and "judge failures 60" in failed.stderr
        judged = run_judge(flow, good, "judge-b", scores_topic)
        assert judged.returncode == 0, judged.stderr[-3000:]
        (row,) = flow.query("SELECT count() AS n, uniqExact(event_id) AS ids, groupUniqArray(chosen) AS chosen FROM judge_verdicts")
        assert (row["n"], row["ids"], row["chosen"]) == (n, n, ["sampled"])
        again = run_judge(flow, good, "judge-b", scores_topic)  # its offsets were committed: nothing to judge again
        assert again.returncode == 0 and len(good.requests) == n
    finally:
        for server in (hung, babbling, good):
            server.close()
