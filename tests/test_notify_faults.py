"""`evalstream notify` against a real broker when receivers fail: one channel's outage never holds
back another, a channel that refuses for good falls back, and a receiver that is down for a while
gets every alert exactly once when it is back.

EVALSTREAM_TEST_RECEIVER_DOWN_S sets the outage of the last test (default 60 s; the issue's
figure is 600 s).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from test_notifiers import (  # noqa: F401 (topics, receivers: fixtures)
    Notify, Receiver, Topics, check_signature, committed, make_alert, notifier_config, publish, read_topic, receivers, topics, wait_until,
)

RECEIVER_DOWN_S = float(os.environ.get("EVALSTREAM_TEST_RECEIVER_DOWN_S", "60"))


def alerts_for(tenants: list[str]) -> list:
    return [make_alert(tenant=t) for t in tenants]


def publish_alerts(topics: Topics, alerts: list) -> None:
    publish(topics.bootstrap, topics.alerts, [(a.fingerprint.encode(), a.model_dump_json().encode()) for a in alerts])


@pytest.mark.parametrize("outage", ["hangs", "answers 503"])
def test_a_slack_outage_does_not_hold_pages_back_and_the_notifier_keeps_polling(topics: Topics, receivers: dict[str, Receiver], tmp_path: Path, outage: str) -> None:
    hold = threading.Event()
    receivers["slack"] = Receiver(hold=hold) if outage == "hangs" else Receiver(fail_always=True)
    receivers["pager"] = Receiver(ok_status=202)
    # Before lanes, the loop sent Slack's message first, on the poll thread: a hung receiver held the
    # pages for attempts x 40 s, a 503 one for its backoffs (20-30 s each).
    slack_retry = {"max_attempts": 4, "initial_backoff_s": 20, "max_backoff_s": 30, "timeout_s": 40}
    notify = Notify(topics.bootstrap, tmp_path, notifier_config(topics, [
        {"name": "slack", "type": "slack", "url": receivers["slack"].url, "retry": slack_retry, "group_by": ["tenant"]},
        {"name": "pager", "type": "pagerduty", "url": receivers["pager"].url, "secret_env": "NOTIFY_ROUTING_KEY"},
    ]))
    first, later = alerts_for(["acme", "globex", "initech"]), alerts_for(["umbrella", "hooli"])
    publish_alerts(topics, first)
    try:
        proc = notify.start()
        receivers["pager"].wait_delivered(3, timeout=90)
        assert len(receivers["slack"].requests) < slack_retry["max_attempts"]  # paged while Slack's first message still retries
        publish_alerts(topics, later)  # read and paged while Slack is still out: the loop keeps polling
        receivers["pager"].wait_delivered(5, timeout=60)
        assert not receivers["slack"].delivered()

        hold.set()
        receivers["slack"].fail_always = False
        wait_until(lambda: committed(topics.bootstrap, topics.group, topics.alerts) == 5, 180, notify.log)
        assert notify.stop(proc) == 0
        pages = [r.json()["dedup_key"] for r in receivers["pager"].delivered()]
        assert sorted(pages) == sorted(a.fingerprint for a in first + later)  # each once
        delivered = "".join(r.body.decode() for r in receivers["slack"].delivered())
        assert all(delivered.count(a.fingerprint) == 1 for a in first + later)
    finally:
        hold.set()
        notify.close()


def test_a_channel_that_refuses_for_good_falls_back_and_dead_letters(topics: Topics, receivers: dict[str, Receiver], tmp_path: Path) -> None:
    receivers["pager"] = Receiver(ok_status=400, ok_body=b'{"status": "invalid event", "message": "Invalid routing key"}')  # a revoked key
    receivers["slack"] = Receiver()
    notify = Notify(topics.bootstrap, tmp_path, notifier_config(topics, [
        {"name": "pager", "type": "pagerduty", "url": receivers["pager"].url, "secret_env": "NOTIFY_ROUTING_KEY", "fallback": "backup-slack"},
        {"name": "backup-slack", "type": "slack", "url_env": "NOTIFY_SLACK_URL", "min_severity": "critical"},
    ]), env={"NOTIFY_SLACK_URL": receivers["slack"].url})
    alert = make_alert()
    publish_alerts(topics, [alert])
    try:
        proc = notify.start()
        (letter,) = read_topic(topics.bootstrap, topics.dlq, expected=1)
        assert letter["channel"] == "pager" and letter["fallback"] == "backup-slack" and "HTTP 400" in letter["reason"] and letter["attempts"] == 1
        # Its own message (it takes critical alerts) and the fallback's, which says why it came
        messages = receivers["slack"].wait_delivered(2)
        notes = [m.body.decode() for m in messages if "not delivered to pager" in m.body.decode()]
        assert len(notes) == 1 and alert.fingerprint in notes[0] and "HTTP 400" in notes[0]
        wait_until(lambda: committed(topics.bootstrap, topics.group, topics.alerts) == 1, 30, notify.log)
        assert notify.stop(proc) == 0
        assert len(receivers["pager"].requests) == 1  # a 400 is not retried
        assert receivers["slack"].url not in notify.log()
    finally:
        notify.close()


@pytest.mark.slow
def test_a_receiver_down_for_a_while_gets_every_alert_exactly_once_when_it_is_back(topics: Topics, receivers: dict[str, Receiver], tmp_path: Path) -> None:
    hook = Receiver()
    port = hook.server.server_address[1]
    url = hook.url
    hook.close()  # down: connections refused
    retry = {"max_attempts": 5, "initial_backoff_s": 1, "max_backoff_s": 10, "timeout_s": 5}
    notify = Notify(topics.bootstrap, tmp_path, notifier_config(topics, [
        {"name": "audit-hook", "type": "webhook", "url": url, "secret_env": "NOTIFY_WEBHOOK_SECRET", "retry": retry, "give_up_after_s": RECEIVER_DOWN_S + 600},
    ]))
    batches = [alerts_for([f"tenant-{b}-{i}" for i in range(25)]) for b in range(4)]  # 100 alerts, 4 times during the outage
    try:
        proc = notify.start()
        down_since = time.monotonic()
        for b, batch in enumerate(batches):
            wait_until(lambda: time.monotonic() - down_since >= b * RECEIVER_DOWN_S / len(batches), RECEIVER_DOWN_S + 60)
            publish_alerts(topics, batch)
        wait_until(lambda: time.monotonic() - down_since >= RECEIVER_DOWN_S, RECEIVER_DOWN_S + 60)
        assert proc.poll() is None and committed(topics.bootstrap, topics.group, topics.alerts) == 0
        receivers["hook"] = Receiver(port=port)
        back = time.monotonic()
        sent = [a.alert_id for batch in batches for a in batch]
        wait_until(lambda: len(delivered_ids(receivers["hook"])) >= len(sent), 300, notify.log)
        drained_s = time.monotonic() - back
        wait_until(lambda: committed(topics.bootstrap, topics.group, topics.alerts) == len(sent), 60, notify.log)
        assert notify.stop(proc) == 0
        ids = delivered_ids(receivers["hook"])
        for request in receivers["hook"].delivered():
            check_signature(request)
        letters = read_topic(topics.bootstrap, topics.dlq, expected=0, timeout=5)
        print(f"\nreceiver down {RECEIVER_DOWN_S:.0f} s: alerts sent {len(sent)}, delivered {len(set(ids))}, duplicates {len(ids) - len(set(ids))}, "
              f"dead letters {len(letters)}, drained {drained_s:.1f} s after it came back, in {len(receivers['hook'].delivered())} request(s)")
        assert sorted(ids) == sorted(sent) and letters == []
    finally:
        notify.close()


def delivered_ids(receiver: Receiver) -> list[str]:
    return [a["alert_id"] for r in receiver.delivered() for a in r.json()["alerts"]]


def test_a_rebalance_waits_for_the_deliveries_in_flight_so_no_alert_goes_out_twice(topics: Topics, receivers: dict[str, Receiver], tmp_path: Path) -> None:
    hold = threading.Event()
    receivers["slack"] = Receiver(hold=hold)
    notify = Notify(topics.bootstrap, tmp_path, notifier_config(topics, [
        {"name": "slack", "type": "slack", "url": receivers["slack"].url, "group_by": ["tenant"], "retry": {"max_attempts": 2, "timeout_s": 60}},
    ]))
    alerts = alerts_for([f"tenant-{i}" for i in range(12)])  # 12 keys over the 4 partitions
    publish_alerts(topics, alerts)
    try:
        first = notify.start()
        wait_until(lambda: receivers["slack"].arrived >= 1, 90, lambda: notify.log(0))  # a delivery hangs in flight
        second = notify.start()  # joins the group: the first notifier's partitions are revoked
        wait_until(lambda: "revoked" in notify.log(0), 90, lambda: notify.log(0))
        hold.set()  # the delivery in flight completes inside the revoke, is committed, and the new owners skip it
        wait_until(lambda: committed(topics.bootstrap, topics.group, topics.alerts) == len(alerts), 120, lambda: notify.log(0) + notify.log(1))
        assert notify.stop(first) == 0 and notify.stop(second) == 0
        delivered = "".join(r.body.decode() for r in receivers["slack"].delivered())
        assert [delivered.count(a.fingerprint) for a in alerts] == [1] * len(alerts)
    finally:
        hold.set()
        notify.close()
