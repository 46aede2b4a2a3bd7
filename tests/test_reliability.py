"""One bad event never stalls or freezes a worker; storage stays exactly-once through replays.
In process, on real chdb (issue 13): each test reproduces a defect of the first version."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

import pytest
from clickhouse_connect.driver.exceptions import OperationalError

from evalstream.contracts import Alert, DriftKey, GenAIEvent, StoredRow, alert_id, fingerprint
from evalstream.drift.engine import DriftEngine
from evalstream.drift.policy import load_policy
from evalstream.scorers import ScorerSet
from evalstream.scorers.base import ScorerContractError
from evalstream.scorers.cost import CostScorer
from evalstream.sinks import ClickHouseSink
from evalstream.sinks.clickhouse import insert_token
from evalstream.streams.alert_archive import AlertArchive
from evalstream.streams.pipeline import DeadLetter, Pipeline, SourceRecord
from evalstream.streams.scoring_view import MAX_PREMISES_PER_EVENT, MAX_SENTENCES_PER_TEXT, scoring_view
from evalstream.streams.validate import EventTimeBounds, Invalid, parse_event
from reliability_support import Event, Message, encoded, harness, now_event
from test_contracts import full_row
from test_schema import database  # noqa: F401  (a fresh chdb database per test)

JSON_BOMB = b"[" * 100_000 + b"]" * 100_000  # 200 kB, well inside the 1 MiB event limit


# --- one bad event ---------------------------------------------------------------------------------


def test_a_json_bomb_among_valid_events_is_dead_lettered_and_the_rest_stored(database: str) -> None:  # noqa: F811
    h = harness(database)
    payloads = [encoded(now_event(i)) for i in range(18)]
    payloads.insert(7, JSON_BOMB)
    h.run(h.events(payloads))

    assert h.rows() == 18
    (bomb,) = h.dead_letters
    assert (bomb.record.offset, bomb.invalid.kind) == (7, "too_deep")
    assert "too deeply nested" in bomb.invalid.reason
    assert h.stream.committable(0, 0) == 19  # the commit moves past all of them
    assert len(h.published) == 18


def test_an_event_that_breaks_processing_is_found_and_dead_lettered(database: str) -> None:  # noqa: F811
    class RedactorBug(Pipeline):
        def parse_redacted(self, record: SourceRecord) -> Any:
            if record.offset == 3:
                raise RecursionError("a redactor recursing on one event")
            return super().parse_redacted(record)

    h = harness(database)
    h.writer.pipeline = RedactorBug(ScorerSet([CostScorer()]), max_event_bytes=1 << 20)
    h.run(h.events([encoded(now_event(i)) for i in range(10)]))
    assert h.rows() == 9
    (broken,) = h.dead_letters
    assert (broken.record.offset, broken.invalid.kind) == (3, "processing_failed")
    assert h.stream.committable(0, 0) == 10


def test_a_scorer_bug_puts_the_batch_back_and_stops_loudly(database: str) -> None:  # noqa: F811
    class Undeclared(CostScorer):
        def score(self, events: Sequence[GenAIEvent]) -> list[dict[str, Any]]:
            return [{**s, "coherence": 1.0} for s in super().score(events)]

    h = harness(database, ScorerSet([Undeclared()]))
    with pytest.raises(ScorerContractError):
        h.run(h.events([encoded(now_event(i)) for i in range(10)]))
    assert h.stream.acked == [] and len(h.writer._buffer) == 10  # nothing lost: back in the buffer, unacked


def test_rows_clickhouse_refuses_are_bisected_out_and_dead_lettered(database: str) -> None:  # noqa: F811
    sink = ClickHouseSink(database)
    rows = [full_row(i, event_id=uuid.uuid4()) for i in range(20)]
    rows[4] = replace(rows[4], input_tokens=2**32)  # the column is UInt32
    rows[13] = replace(rows[13], prompt="Jane Doe \ud800")  # not Unicode: the client cannot encode it
    outcome = sink.write_isolating(rows)

    assert sorted(r.source_offset for r, _ in outcome.refused) == [4, 13]
    assert len(outcome.stored) == 18 and sink.query("SELECT count() FROM scored_events")[1][0][0] == 18
    reasons = " ".join(why for _, why in outcome.refused)
    assert "input_tokens" in reasons and "Jane" not in reasons and "4294967296" not in reasons


def test_a_batch_spanning_more_partitions_than_one_insert_takes_is_split_not_dropped(database: str) -> None:  # noqa: F811
    sink = ClickHouseSink(database)
    start = datetime(2015, 1, 1, tzinfo=timezone.utc)
    rows = [full_row(i, event_id=uuid.uuid4(), ts=start + timedelta(days=31 * i)) for i in range(130)]  # 130 months
    outcome = sink.write_isolating(rows)
    assert (len(outcome.stored), outcome.refused) == (130, [])


def test_a_row_clickhouse_refuses_is_dead_lettered_by_the_worker_and_acked(database: str) -> None:  # noqa: F811
    class HugeCount(CostScorer):
        def score(self, events: Sequence[GenAIEvent]) -> list[dict[str, Any]]:
            scores = super().score(events)
            return [{**s, "output_tokens": 2**40} if e.prompt == "huge" else s for e, s in zip(events, scores)]

    h = harness(database, ScorerSet([HugeCount()]))
    h.run(h.events([encoded(now_event(i, prompt="huge" if i == 5 else f"q{i}")) for i in range(12)]))
    assert h.rows() == 11
    (refused,) = h.dead_letters
    assert (refused.record.offset, refused.invalid.kind) == (5, "storage_refused")
    assert h.stream.committable(0, 0) == 12
    assert len(h.published) == 11 and h.writer.stats.refused_by_storage == 1


class FlakySink:
    """The real sink behind a connection that drops the first `failures` writes."""

    def __init__(self, sink: ClickHouseSink, failures: int) -> None:
        self.sink, self.failures = sink, failures

    def write_isolating(self, rows: Any, outcome: Any = None) -> Any:
        if self.failures:
            self.failures -= 1
            raise OperationalError("connection refused")
        return self.sink.write_isolating(rows, outcome)


def test_a_transient_storage_error_is_retried_until_stored(database: str) -> None:  # noqa: F811
    h = harness(database)
    h.writer.sink = FlakySink(h.sink, failures=2)
    h.run(h.events([encoded(now_event(i)) for i in range(5)]))
    assert (h.rows(), h.writer.stats.write_retries, h.dead_letters) == (5, 2, [])
    assert h.stream.committable(0, 0) == 5


def test_a_dead_letter_the_topic_refuses_is_sent_without_its_payload(database: str) -> None:  # noqa: F811
    h = harness(database)
    sent = []

    async def refuses_payloads(dead: Any) -> None:
        if dead.record.value is not None:
            raise RuntimeError("MessageSizeTooLarge")
        sent.append(dead)

    h.writer.send_dead_letter = refuses_payloads
    h.run(h.events([encoded(now_event(0)), b"not json", encoded(now_event(2))]))
    (bare,) = sent
    assert bare.record.offset == 1 and "payload left out" in bare.invalid.reason
    assert h.rows() == 2 and h.stream.committable(0, 0) == 3


def test_a_failed_score_publish_is_retried_and_nothing_acked_before(database: str) -> None:  # noqa: F811
    h = harness(database)
    attempts = []

    async def flaky_publish(rows: list[StoredRow]) -> None:
        attempts.append((len(rows), list(h.stream.acked)))
        if len(attempts) == 1:
            raise RuntimeError("broker unavailable")
        h.published.extend(rows)

    h.writer.publish_scores = flaky_publish
    h.run(h.events([encoded(now_event(i)) for i in range(4)]))
    assert attempts == [(4, []), (4, [])] and len(h.published) == 4
    assert h.stream.committable(0, 0) == 4


def test_score_records_are_published_only_for_rows_stored_now(database: str) -> None:  # noqa: F811
    h = harness(database)
    payloads = [encoded(now_event(i)) for i in range(6)]
    first = h.events(payloads)
    h.run(first)
    replay = [Event(replace(e.message, acked=False)) for e in first]  # a restarted worker reads them again
    h.run(replay)
    assert (h.rows(), len(h.published), h.writer.stats.replayed) == (6, 6, 6)


def test_batches_are_cut_by_bytes_as_well_as_count(database: str) -> None:  # noqa: F811
    h = harness(database, max_events=1000, max_bytes=50 * 1024)
    big = [encoded(now_event(i, response="word " * 6000)) for i in range(6)]  # ~30 kB each
    h.run(h.events(big))
    assert (h.writer.stats.batches, h.rows()) == (3, 6)  # two events of ~30 kB reach 50 kB


def test_a_revoked_partitions_buffered_events_are_dropped_unacked(database: str) -> None:  # noqa: F811
    h = harness(database)
    events = h.events([encoded(now_event(i)) for i in range(3)], partition=0) + h.events([encoded(now_event(9))], partition=1)

    class TP:
        def __init__(self, topic: str, partition: int) -> None:
            self.topic, self.partition = topic, partition

    async def scenario() -> None:
        for e in events:
            await h.writer.add(h.stream, e)
        await h.writer.on_partitions_revoked({TP("genai.events", 0)})
        await h.writer.flush()

    h.loop.run_until_complete(scenario())
    assert h.rows() == 1 and h.stream.acked == [(1, 0)]


# --- bounded input -----------------------------------------------------------------------------


def test_event_time_outside_the_bounds_is_dead_lettered_with_the_reason() -> None:
    bounds = EventTimeBounds(max_backfill=timedelta(days=30), max_skew=timedelta(minutes=5))
    now = datetime.now(timezone.utc)
    for ts, expected in [(now + timedelta(days=365 * 74), "ahead"), (datetime(1970, 1, 2, tzinfo=timezone.utc), "in the past"),
                         (now + timedelta(minutes=10), "ahead"), (now - timedelta(days=31), "in the past")]:
        parsed = parse_event(encoded(now_event(0, ts=ts.isoformat())), max_bytes=1 << 20, time_bounds=bounds)
        assert parsed.kind == "ts_out_of_bounds" and expected in parsed.reason, ts
    for ts in (now + timedelta(minutes=4), now - timedelta(days=29)):
        assert isinstance(parse_event(encoded(now_event(0, ts=ts.isoformat())), max_bytes=1 << 20, time_bounds=bounds), GenAIEvent)


@pytest.mark.parametrize(
    "raw, kind",
    [
        (JSON_BOMB, "too_deep"),
        (b"[" * 1_000_000, "too_deep"),
        (b'{"latency_ms": 1e400}', "bad_json"),
        (b'{"latency_ms": NaN}', "bad_json"),
        (b'{"x": ' + b"9" * 5000 + b"}", "bad_json"),
        (b'{"prompt": "\\ud800"}', "not_unicode"),
        (b"\xff\xfe", "not_utf8"),
    ],
)
def test_hostile_json_becomes_a_reason_never_an_exception(raw: bytes, kind: str) -> None:
    started = time.thread_time()  # CPU of this thread: a guard against backtracking, not a speed target
    assert parse_event(raw, max_bytes=2 << 20).kind == kind
    assert time.thread_time() - started < 2.0


def test_scorers_see_a_bounded_number_of_sentences_and_premises() -> None:
    tiny = "Ab. " * 50_000  # 200,000 characters of 4-character sentences
    event = GenAIEvent.model_validate(now_event(0, prompt=tiny, response=tiny, context=[tiny] * 5, usage=None))
    started = time.thread_time()
    view = scoring_view(event)
    assert time.thread_time() - started < 10.0
    assert view.cut and view.usage_estimated
    assert len(view.event.response.splitlines()) == MAX_SENTENCES_PER_TEXT
    assert sum(len(p.splitlines()) for p in view.event.context) == MAX_PREMISES_PER_EVENT
    assert view.event.usage.input_tokens > 100_000  # the whole text's estimate, not the cut one's
    small = GenAIEvent.model_validate(now_event(1))
    assert scoring_view(small).event is small


def score_record(ts: datetime, i: int = 0) -> dict[str, Any]:
    key = DriftKey("acme", "support-bot", "rag-qa", "gpt-4o-mini", "7", "us")
    return {"event_id": f"e{i}-{ts.isoformat()}", "ts": ts.isoformat(), **key._asdict(), "toxic": False, "faithfulness": 0.9}


def test_the_drift_clock_ignores_one_record_dated_decades_ahead() -> None:
    engine = DriftEngine(load_policy(), {}, {}, {})
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    engine.process(score_record(now - timedelta(minutes=3)), 1)
    engine.process(score_record(datetime(2100, 1, 1, tzinfo=timezone.utc)), 2)
    engine.process(score_record(now - timedelta(minutes=2)), 3)
    assert (engine.stats.future, engine.stats.late, engine.stats.records) == (1, 0, 2)


def an_alert() -> Alert:
    key = DriftKey("acme", "support-bot", "rag-qa", "gpt-4o-mini", "7", "eu")
    fp, t0 = fingerprint(*key, "toxicity_rate", "drift"), datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
    return Alert(
        alert_id=alert_id(fp, "firing", t0, t0), fingerprint=fp, state="firing", severity="critical", ts=t0, started_at=t0,
        **key._asdict(), statistic="toxicity_rate", detector="drift", window_value=0.2, baseline_value=0.01,
        window_start=t0 - timedelta(minutes=10), window_end=t0, sample_size=120, baseline_size=9000,
        baseline_description="baseline, 7 days", p_value=1e-6, policy="global", summary="toxicity rose",
    )


# --- exactly once in ClickHouse ------------------------------------------------------------------


def test_new_events_at_offsets_seen_before_are_stored(database: str) -> None:  # noqa: F811
    """A topic recreated: its offsets start at 0 again. The old token (offsets only) made ClickHouse drop these."""
    sink = ClickHouseSink(database)
    before = [full_row(i, event_id=uuid.uuid4()) for i in range(4)]
    after = [full_row(i, event_id=uuid.uuid4()) for i in range(4)]
    assert sink.write(before) == 4 and sink.write(after) == 4
    assert sink.query("SELECT count(), uniqExact(event_id) FROM scored_events")[1] == [(8, 8)]
    assert insert_token("t", 0, before) != insert_token("t", 0, after)


def test_the_event_id_check_matches_tenant_hour_and_id_together(database: str) -> None:  # noqa: F811
    sink = ClickHouseSink(database)
    shared_id, hour_a, hour_b = uuid.uuid4(), datetime(2026, 11, 20, 9, tzinfo=timezone.utc), datetime(2026, 11, 20, 11, tzinfo=timezone.utc)
    sink.write([full_row(0, event_id=shared_id, tenant="globex", ts=hour_b)])
    # Another tenant's event with the same id, batched with a globex event of hour_b: three unpaired
    # sets (tenants, hours, ids) matched the stored row and dropped it.
    batch = [full_row(1, event_id=shared_id, tenant="acme", ts=hour_a), full_row(2, event_id=uuid.uuid4(), tenant="globex", ts=hour_b)]
    assert sink.write(batch) == 2


def test_the_alert_archive_retries_until_stored(database: str) -> None:  # noqa: F811
    archive = AlertArchive("http://127.0.0.1:9/", max_backoff_s=0.05)  # nothing listens: connection refused

    async def scenario() -> bool:
        storing = asyncio.ensure_future(archive.store(an_alert()))
        deadline = time.monotonic() + 30
        while archive.retries < 5:  # well past the old 4 tries
            assert time.monotonic() < deadline and not storing.done()
            await asyncio.sleep(0.05)
        archive.dsn = database  # storage is back
        return await asyncio.wait_for(storing, 60)

    assert asyncio.run(scenario()) is True
    assert ClickHouseSink(database).query("SELECT count() FROM alerts")[1] == [(1,)]


def test_a_dead_letter_always_fits_the_dead_letter_topic() -> None:
    from evalstream.kafka.topics import MAX_MESSAGE_BYTES  # noqa: PLC0415

    # 15 MiB of characters that JSON escaping inflates (quotes, control characters, non-ASCII)
    text = ('"\x01é\u202e' * (15 * 1024 * 1024 // 8)).encode("utf-8")[: 15 * 1024 * 1024]
    for raw in (encoded(now_event(0, response=text.decode("utf-8", "ignore"))), text, b"\xff" * (15 * 1024 * 1024)):
        letter = DeadLetter(SourceRecord("genai.events", 0, 1, raw), Invalid("oversized", "too big"))
        body = letter.to_json()
        assert len(body) <= MAX_MESSAGE_BYTES
        assert json.loads(body)["payload_bytes"] == len(raw)
