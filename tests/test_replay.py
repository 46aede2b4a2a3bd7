"""`evalstream replay` on chdb, from the stored rows: a changed flag threshold moves exactly the flags
it should, the originals stay as they were, and a stopped replay resumes without duplicates or gaps.

The originals are scored in the test by the same scorers the replay uses (cost and faithfulness
only: no toxicity or relevance model), so the answer is known from them: with the same model, a
replay under a new `unfaithful_below` for rag-qa flags an rag-qa event exactly where its
faithfulness is below the new threshold; support-chat keeps the model's default.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dashboards_data import new_database
from evalstream.cli.main import app
from evalstream.config.settings import ScoringSettings, Settings
from evalstream.drift.policy import load_policy
from evalstream.genaiops.replay_compare import compare
from evalstream.scorers.registry import default_scorers
from evalstream.sinks.replay import ReplaySink, ReplayState
from evalstream.streams.pipeline import Pipeline, SourceRecord
from evalstream.streams.replay import Replay, open_source, thresholds_json

SCORERS = ["cost", "faithfulness"]
ITEMS = ["jacket", "lamp", "chair", "kettle", "phone", "desk", "bike", "tent"]
ANSWERS = [
    "A {item} bought online can be returned within {days} days of delivery for a full refund.",  # verbatim
    "You can return the {item} within {days} days of delivery for a full refund.",  # restated
    "You can return the {item} within {wrong} days of delivery for a full refund.",  # one changed fact
    "You can return the {item} within {days} days. Shipping is free on every order over 50 dollars.",  # half supported
    "Heavy rain is expected in Paris tomorrow, and the {item} museum opens at 9 am on Sundays.",  # unsupported
]
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def events(n: int, start: datetime | None = None, *, tenants: tuple[str, ...] = ("acme", "globex")) -> list[dict[str, Any]]:
    """n events, one second apart from `start`, over two use cases and answers from verbatim to unsupported."""
    start = start or NOW - timedelta(hours=2)
    out = []
    for i in range(n):
        item, days = ITEMS[i % len(ITEMS)], 7 + (i * 3) % 40
        answer = ANSWERS[i % len(ANSWERS)].format(item=item, days=days, wrong=days + 16)
        out.append({
            "event_id": str(uuid.uuid4()), "ts": (start + timedelta(seconds=i)).isoformat(), "tenant": tenants[i % len(tenants)],
            "app": "support-bot", "region": "us", "use_case": "rag-qa" if i % 3 else "support-chat", "provider": "openai",
            "model": "gpt-4o-mini", "prompt_id": "answer-from-docs", "prompt_version": "7", "prompt": f"Can I return the {item}?",
            "context": [f"A {item} bought online can be returned within {days} days of delivery for a full refund."],
            "response": answer, "usage": {"input_tokens": 120, "output_tokens": 25}, "latency_ms": 700 + i % 50,
        })
    return out


def new_threshold(originals: list[dict[str, Any]], default: float) -> float:
    """A rag-qa threshold above the default, in the widest gap between the original scores above
    it: the events below it become flagged, those above stay clear, none sits at the edge."""
    above = sorted({round(r["faithfulness"], 4) for r in originals if r["use_case"] == "rag-qa" and r["faithfulness"] >= default})
    gaps = [(b - a, (a + b) / 2) for a, b in zip(above, above[1:]) if b - a > 0.002]
    assert gaps, f"no gap between the scores above the default threshold {default}: {above}"
    return round(max(gaps)[1], 4)


def policy_file(path: Path, unfaithful_below: float) -> Path:
    from evalstream.drift.policy import DEFAULT_POLICY, load_policy

    data = yaml.safe_load((Path(load_policy.__code__.co_filename).parent / DEFAULT_POLICY).read_text())
    data["use_cases"]["rag-qa"]["thresholds"] = {"unfaithful_below": unfaithful_below}
    path.write_text(yaml.safe_dump(data))
    return path


def expected_moves(originals: list[dict[str, Any]], threshold: float) -> set[str]:
    """The event ids whose `unfaithful` flag the new threshold sets: rag-qa, from the default to it."""
    return {str(r["event_id"]) for r in originals if r["use_case"] == "rag-qa" and not r["unfaithful"] and r["faithfulness"] < threshold}


def fingerprint(client: Any) -> tuple[int, int]:
    """Every column of every original row, hashed: changes if any value of any row does."""
    count, digest = client.query("SELECT count(), sum(cityHash64(toString(tuple(*)))) FROM scored_events").result_rows[0]
    return int(count), int(digest)


def faithfulness_threshold(pipeline: Pipeline, use_case: str) -> float:
    (scorer,) = [s for s in pipeline.scorers.scorers if s.name == "faithfulness"]
    return scorer.threshold_for(use_case)


def replayed_rows(client: Any, replay_id: str) -> list[dict[str, Any]]:
    result = client.query(
        "SELECT toString(event_id) AS id, use_case, faithfulness, unfaithful, scorers FROM replayed_scores WHERE replay_id = {r:String}",
        parameters={"r": replay_id},
    )
    return [dict(zip(result.column_names, row)) for row in result.result_rows]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(default_scorers(ScoringSettings(scorers=SCORERS)), max_event_bytes=1 << 20, redact_pii=False)


@pytest.fixture
def stored(pipeline: Pipeline) -> tuple[Any, list[dict[str, Any]]]:
    """A database holding 60 events scored now at the models' default thresholds (the originals)."""
    _, sink = new_database()
    result = pipeline.process([SourceRecord("genai.events", 0, i, json.dumps(e).encode()) for i, e in enumerate(events(60))])
    assert not result.dead_letters and len(result.rows) == 60
    sink.write(result.rows)
    originals = [{"event_id": str(r.event_id), "use_case": r.use_case, "faithfulness": r.faithfulness, "unfaithful": r.unfaithful} for r in result.rows]
    return sink, originals


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALSTREAM_SCORERS", json.dumps(SCORERS))
    monkeypatch.setenv("EVALSTREAM_REDACT_PII", "false")
    monkeypatch.setenv("EVALSTREAM_REPLAY_NICE", "0")  # in process: leave the test runner's priority alone
    for name in ("EVALSTREAM_DRIFT_POLICY", "EVALSTREAM_JUDGE_URL", "EVALSTREAM_REPLAY_MAX_RATE"):
        monkeypatch.delenv(name, raising=False)


RANGE = ["--from", (NOW - timedelta(hours=3)).isoformat(), "--to", NOW.isoformat()]


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["replay", *args])


def test_a_replay_with_a_changed_threshold_moves_exactly_the_flags_it_should(stored, pipeline, environment, tmp_path: Path) -> None:
    sink, originals = stored
    default = faithfulness_threshold(pipeline, "rag-qa")
    threshold = new_threshold(originals, default)
    should_move = expected_moves(originals, threshold)
    assert 0 < len(should_move) < sum(r["use_case"] == "rag-qa" and not r["unfaithful"] for r in originals)  # some move, not all
    before = fingerprint(sink.client)

    policy = policy_file(tmp_path / "policy.yaml", threshold)
    result = invoke(*RANGE, "--source", "stored", "--policy", str(policy), "--clickhouse", sink.dsn, "--replay-id", "stricter", "--compare", "--max-rate", "1000")
    assert result.exit_code == 0, result.output
    assert "from the stored rows of scored_events (texts as stored) (--source stored)" in result.output and "replay stricter finished: 60 events replayed" in result.output

    original = {r["event_id"]: r for r in originals}
    replayed = {r["id"]: r for r in replayed_rows(sink.client, "stricter")}
    assert replayed.keys() == original.keys()
    for event_id, row in replayed.items():
        assert row["faithfulness"] == pytest.approx(original[event_id]["faithfulness"], abs=1e-4)  # the same model
        limit = threshold if row["use_case"] == "rag-qa" else default
        assert bool(row["unfaithful"]) == (row["faithfulness"] < limit), (row, limit)
        assert row["scorers"] == pipeline.scorers.versions
    moved = {event_id for event_id, row in replayed.items() if bool(row["unfaithful"]) != original[event_id]["unfaithful"]}
    assert moved == should_move

    comparison = compare(sink.client, "stricter", NOW - timedelta(hours=3), NOW)
    assert comparison.flags == ["unfaithful"] and comparison.means == ["faithfulness"]  # what the replay's scorers set
    assert comparison.moved == {"unfaithful": (len(should_move), 0)}
    assert comparison.without_original == 0 and sum(k.events for k in comparison.keys) == 60
    by_use_case = {k.key[2]: 0 for k in comparison.keys}
    for k in comparison.keys:
        by_use_case[k.key[2]] += k.flags["unfaithful"].up
    assert by_use_case["support-chat"] == 0
    acme_rag = next(k for k in comparison.keys if k.key[0] == "acme" and k.key[2] == "rag-qa")
    flags = acme_rag.flags["unfaithful"]
    assert f"{flags.original}->{flags.replay} +{flags.up}/-0" in result.output

    assert fingerprint(sink.client) == before  # nothing of the originals changed
    state = ReplaySink(sink.dsn, "stricter").load_state()
    assert state.state == "finished" and state.source == "stored" and state.events == 60
    assert json.loads(state.thresholds) == {"unfaithful_below": {"rag-qa": threshold}}

    again = invoke("--replay-id", "stricter", "--clickhouse", sink.dsn, "--compare")  # a finished replay: compared, not run again
    assert again.exit_code == 0 and "finished before" in again.output and "+0/-0" in again.output, again.output
    assert ReplaySink(sink.dsn, "stricter").replayed() == (60, 60)


def test_a_stopped_replay_resumes_without_duplicates_or_gaps(stored, pipeline, environment) -> None:
    sink, originals = stored
    settings = Settings()
    replay = ReplaySink(sink.dsn, "resumed")
    state = ReplayState("resumed", NOW - timedelta(hours=3), NOW, "", "stored", pipeline.scorers.versions, "default (shipped)",
                        thresholds_json(load_policy().flag_thresholds()))
    stop = threading.Event()

    def stop_after_two_batches(progress: Any, _: Any) -> None:
        if progress.read >= 16:
            stop.set()  # what Ctrl-C does

    first = Replay(state, open_source(settings, replay, state, []), pipeline, replay, max_rate=1000, batch_size=8, stop=stop, on_batch=stop_after_two_batches)
    assert first.run().state == "stopped"
    assert replay.replayed() == (16, 16)

    # a second run dies after storing a batch, before saving its position: the next run reads it again
    crashing = ReplaySink(sink.dsn, "resumed")
    resumed = crashing.load_state()
    assert (resumed.state, resumed.events) == ("stopped", 16)
    saves = []

    def killed_before_the_position_is_saved(s: ReplayState) -> None:
        saves.append(s.events)
        if len(saves) == 2:  # the first save marks it running; the second would record the batch
            raise RuntimeError("killed")
        ReplaySink.save_state(crashing, s)

    crashing.save_state = killed_before_the_position_is_saved
    with pytest.raises(RuntimeError, match="killed"):
        Replay(resumed, open_source(settings, crashing, resumed, []), pipeline, crashing, max_rate=1000, batch_size=8).run()
    assert replay.replayed() == (24, 24)

    # batches cut otherwise this time: the re-read batch is not the insert ClickHouse's own deduplication would drop
    result = invoke("--replay-id", "resumed", "--clickhouse", sink.dsn, "--batch-size", "12", "--max-rate", "1000")
    assert result.exit_code == 0, result.output
    assert "replay resumed resumed" in result.output and "events replayed in this run (60 in all)" in result.output
    assert replay.replayed() == (60, 60)  # no duplicate
    assert {r["id"] for r in replayed_rows(sink.client, "resumed")} == {r["event_id"] for r in originals}  # no gap


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--from", "2026-11-02", "--to", "2026-11-01"], 2, "is not before --to"),
        (["--from", "2020-01-01", "--to", "2020-01-02", "--source", "stored"], 1, "nothing to replay: no events from 2020-01-01"),
        (["--from", "yesterday"], 2, "--from 'yesterday' is not a time"),
        (["--replay-id", "never-started"], 2, "--from is required to start a replay"),
        (["--from", "2026-11-01", "--clickhouse", "http://default:s3cret@127.0.0.1:1/evalstream"], 1, "cannot reach ClickHouse at http://default:***@127.0.0.1:1"),
    ],
)
def test_a_replay_that_cannot_run_says_why_in_one_line(args: list[str], code: int, says: str, environment) -> None:
    _, sink = new_database()
    result = invoke(*(args if "--clickhouse" in args else [*args, "--clickhouse", sink.dsn]))
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in result.output, result.output


def test_a_replay_resumes_only_as_it_started(stored, environment, tmp_path: Path) -> None:
    sink, _ = stored
    state = ReplayState("strict", NOW - timedelta(hours=3), NOW, "", "stored", {"faithfulness": "old-model"}, "default (shipped)", "{}")
    ReplaySink(sink.dsn, "strict").save_state(state)
    other_range = invoke("--replay-id", "strict", "--clickhouse", sink.dsn, "--from", "2020-01-01")
    assert other_range.exit_code == 2 and "started with other options: --from 2020-01-01" in other_range.output, other_range.output
    other_models = invoke("--replay-id", "strict", "--clickhouse", sink.dsn)
    assert other_models.exit_code == 2 and "old-model" in other_models.output and "start a new replay" in other_models.output, other_models.output
