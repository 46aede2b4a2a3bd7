"""Kafka client errors are logged once per interval, with a count of those held back."""

from __future__ import annotations

import logging

from evalstream.kafka.client_logs import OncePerInterval


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(name: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)


def test_a_client_retrying_in_a_tight_loop_is_one_line_per_interval_with_a_count() -> None:
    clock = Clock()
    quiet = OncePerInterval(interval=10.0, clock=clock)
    passed = []
    for i in range(3000):  # 30 s of a failed reconnect every 10 ms
        clock.now = i * 0.01
        r = record("aiokafka.conn", "Unable connect to node with id %s: %s", 1, "refused")
        if quiet.filter(r):
            passed.append(r.getMessage())
    assert len(passed) == 3
    assert passed[0] == "Unable connect to node with id 1: refused"
    assert passed[1] == "Unable connect to node with id 1: refused (and 999 more like it in the last 10 s)"


def test_other_loggers_and_other_templates_are_not_held_back() -> None:
    quiet = OncePerInterval(interval=10.0, clock=Clock())
    assert all(quiet.filter(record("evalstream.worker", "stored %d rows", i)) for i in range(100))
    assert quiet.filter(record("aiokafka.client", "Unable to update metadata from %s", [1]))
    assert quiet.filter(record("aiokafka.consumer.fetcher", "Failed fetch messages from %s", 1))
    assert not quiet.filter(record("aiokafka.client", "Unable to update metadata from %s", [1]))
