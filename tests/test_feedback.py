"""Human feedback through the real broker: `evalstream feedback FILE` -> genai.feedback -> the scoring
workers -> the feedback table; invalid feedback -> the dead-letter topic with its reason."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import EVALSTREAM, Flow, make_event
from evalstream.config.settings import KafkaSettings
from evalstream.contracts import Feedback
from evalstream.kafka.progress import GroupProgress
from evalstream.producer import EventProducer


def wait_feedback_committed(flow: Flow, topic: str, n: int, timeout: float = 120.0) -> None:
    progress = GroupProgress(KafkaSettings(bootstrap=flow.bootstrap), flow.group_id, topic)
    deadline = time.monotonic() + timeout
    try:
        while (done := progress.committed()) < n:
            assert all(p.poll() is None for p in flow.workers), f"worker died:\n{flow.worker_log()[-3000:]}"
            assert time.monotonic() < deadline, f"only {done}/{n} feedback committed:\n{flow.worker_log()[-3000:]}"
            time.sleep(0.5)
    finally:
        progress.close()


def test_feedback_through_kafka_lands_in_the_table_and_invalid_feedback_is_dead_lettered(flow: Flow) -> None:
    feedback_topic = f"{flow.events_topic}.feedback"
    flow.env["EVALSTREAM_FEEDBACK_TOPIC"] = feedback_topic
    events = [make_event(i, tenant="acme", app="support-bot", ts=(datetime.now(timezone.utc) - timedelta(days=2)).isoformat()) for i in range(2)]
    producer = EventProducer(flow.bootstrap, topic=flow.events_topic, feedback_topic=feedback_topic)
    for e in events:
        assert producer.send(e)
    assert producer.flush(30) == 0
    worker = flow.start_worker(scorers='["cost"]')
    flow.wait_committed(2)

    # days later: labels on both events (one without its event time), and one on an event never stored
    never_stored = str(uuid.uuid4())
    lines = [
        {"event_id": events[0]["event_id"], "tenant": "acme", "app": "support-bot", "rater": "ann", "thumbs": "down",
         "faithful": False, "correction": "Within 14 days of delivery.", "comment": "customer +1 415 555 2671 called"},
        {"event_id": events[1]["event_id"], "tenant": "acme", "app": "support-bot", "rater": "bob", "toxic": True,
         "event_ts": events[1]["ts"]},
        {"event_id": never_stored, "tenant": "acme", "app": "support-bot", "rater": "ann", "relevant": True},
    ]
    path = flow.workdir / "feedback.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    loaded = subprocess.run([*EVALSTREAM, "feedback", str(path)], env=flow.env, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert "published 3 of 3 feedback" in loaded.stderr and "through Kafka" in loaded.stderr

    # what a broken client might send: the contract's checks run in the workers too
    assert producer.send_raw(b'{"event_id": "not-a-uuid", "tenant": "acme", "app": "support-bot"}', key=b"acme/support-bot", topic=feedback_topic)
    assert producer.send_raw(b"thumbs up!", topic=feedback_topic)
    assert not producer.feedback(event_id=never_stored, tenant="acme", app="support-bot", rater="ann")  # says nothing: never sent
    assert producer.flush(30) == 0

    wait_feedback_committed(flow, feedback_topic, 5)
    letters = [letter for letter in flow.dead_letters(2) if letter["source"]["topic"] == feedback_topic]
    assert sorted(letter["error_kind"] for letter in letters) == ["bad_json", "schema"]
    schema = next(letter for letter in letters if letter["error_kind"] == "schema")
    assert "event_id" in schema["reason"] and "rater" in schema["reason"]
    assert flow.stop_worker(worker) == 0

    rows = flow.query("SELECT toString(event_id) AS id, label, value, annotator, comment, toString(event_ts) AS event_ts, toString(ts) AS ts FROM feedback ORDER BY id, label")
    got = {(r["id"], r["label"]): r for r in rows}
    first, second = events[0]["event_id"], events[1]["event_id"]
    assert {k: v["value"] for k, v in got.items()} == {
        (first, "correction"): 1.0, (first, "faithful"): 0.0, (first, "thumbs_up"): 0.0,
        (second, "toxic"): 1.0, (never_stored, "relevant"): 1.0,
    }
    assert got[(first, "correction")]["comment"] == "Within 14 days of delivery."
    assert "555 2671" not in got[(first, "faithful")]["comment"] and got[(first, "faithful")]["comment"].startswith("customer ")
    stored_ts = flow.query(f"SELECT toString(ts) AS ts FROM scored_events WHERE event_id = '{first}'")[0]["ts"]
    assert got[(first, "faithful")]["event_ts"] == stored_ts  # looked up: the event's time
    assert got[(never_stored, "relevant")]["event_ts"] == got[(never_stored, "relevant")]["ts"]  # not stored: the rating time


@pytest.mark.parametrize("bad", [{"thumbs": "sideways"}, {"event_ts": "2026-11-20T10:00:00"}, {}])
def test_the_feedback_contract_refuses_what_says_nothing_or_is_malformed(bad: dict) -> None:
    from pydantic import ValidationError

    base = {"event_id": str(uuid.uuid4()), "tenant": "acme", "app": "support-bot", "rater": "ann"}
    with pytest.raises(ValidationError):
        Feedback.model_validate({**base, **({"faithful": True} if bad else {}), **bad})
