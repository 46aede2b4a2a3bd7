"""Channel lanes in process, against real HTTP receivers on 127.0.0.1: a hung or failing receiver
holds back its own channel only; a failure for now is retried later, then given up."""

from __future__ import annotations

import queue
import threading
import time

from evalstream.notifiers.config import ChannelConfig, RetryConfig
from evalstream.notifiers.lanes import Lane, Pending, Result, Task
from evalstream.notifiers.pagerduty import PagerDutyChannel
from evalstream.notifiers.slack import SlackChannel
from test_notifiers import ROUTING_KEY, Receiver, make_alert, receivers, wait_until  # noqa: F401 (a fixture)


def lane(channel, results: queue.SimpleQueue, stopping: threading.Event) -> Lane:
    return Lane(channel, results, stopping, time.monotonic)


def task(lane_: Lane, minute: int = 0, tenant: str = "acme") -> Task:
    pending = Pending(0, minute, time.monotonic(), make_alert(minute=minute, tenant=tenant))
    pending.waiting.add(lane_.name)
    t = Task(pending, lane_.name)
    lane_.add(t)
    return t


def next_result(results: queue.SimpleQueue, timeout: float = 60.0) -> Result:
    return results.get(timeout=timeout)


def test_a_hung_slack_receiver_does_not_hold_back_pagerduty(receivers, monkeypatch) -> None:
    monkeypatch.setenv("NOTIFY_ROUTING_KEY", ROUTING_KEY)
    hold = threading.Event()
    receivers["slack"], receivers["pager"] = Receiver(hold=hold), Receiver(ok_status=202)
    results: queue.SimpleQueue = queue.SimpleQueue()
    stopping = threading.Event()
    slack = lane(SlackChannel(ChannelConfig(name="slack", type="slack", url=receivers["slack"].url, retry=RetryConfig(timeout_s=120))), results, stopping)
    pager = lane(PagerDutyChannel(ChannelConfig(name="pager", type="pagerduty", url=receivers["pager"].url, secret_env="NOTIFY_ROUTING_KEY")), results, stopping)
    try:
        task(slack), task(pager), task(pager, minute=1)
        slack.dispatch(force=False)
        wait_until(lambda: len(receivers["slack"].requests) == 0 and slack.in_flight != [], 10)
        pager.dispatch(force=False)
        for _ in range(2):  # one page per alert; Slack is still hanging: these are PagerDuty's
            result = next_result(results)
            assert result.lane is pager and result.outcome.delivered
            assert pager.settle(result) == (result.tasks, [])
        assert len(receivers["pager"].delivered()) == 2
        assert slack.in_flight and not receivers["slack"].delivered()
        hold.set()
        result = next_result(results)
        assert result.lane is slack and result.outcome.delivered and result.outcome.attempts == 1
    finally:
        hold.set()
        stopping.set()
        slack.close(wait=True)
        pager.close(wait=True)


def test_a_failure_for_now_is_queued_again_and_the_lane_holds_off_until_the_outage_outlasts_give_up(receivers) -> None:
    receivers["slack"] = Receiver(fail_always=True)
    results: queue.SimpleQueue = queue.SimpleQueue()
    stopping = threading.Event()
    fast = RetryConfig(max_attempts=2, initial_backoff_s=0.01, max_backoff_s=0.5)
    slack = lane(SlackChannel(ChannelConfig(name="slack", type="slack", url=receivers["slack"].url, retry=fast, give_up_after_s=3)), results, stopping)
    try:
        first = task(slack)
        slack.dispatch(force=False)
        result = next_result(results)
        assert not result.outcome.delivered and result.outcome.retryable and result.outcome.attempts == 2
        assert slack.settle(result) == ([], []) and slack.queued == [first] and slack.down
        slack.dispatch(force=True)
        assert not slack.in_flight  # holding off: even a forced dispatch waits max_backoff_s
        given_up: list[Task] = []
        while not given_up:  # down for longer than give_up_after_s: given up
            wait_until(lambda: not slack.down, 10)
            slack.dispatch(force=False)
            given_up = slack.settle(next_result(results))[1]
        assert given_up == [first] and slack.queued == [] and len(receivers["slack"].requests) >= 4

        receivers["slack"].fail_always = False
        wait_until(lambda: not slack.down, 10)
        second = task(slack, minute=5)
        slack.dispatch(force=False)
        assert slack.settle(next_result(results)) == ([second], []) and not slack.down
    finally:
        stopping.set()
        slack.close(wait=True)


def test_stopping_ends_a_retrying_delivery_before_its_next_attempt(receivers) -> None:
    receivers["slack"] = Receiver(fail_always=True)
    results: queue.SimpleQueue = queue.SimpleQueue()
    stopping = threading.Event()
    patient = RetryConfig(max_attempts=10, initial_backoff_s=20, max_backoff_s=30)
    slack = lane(SlackChannel(ChannelConfig(name="slack", type="slack", url=receivers["slack"].url, retry=patient)), results, stopping)
    task(slack)
    slack.dispatch(force=False)
    wait_until(lambda: len(receivers["slack"].requests) == 1, 10)
    stopping.set()
    result = next_result(results, timeout=10)
    assert result.cancelled and slack.settle(result) == ([], []) and len(receivers["slack"].requests) == 1
    slack.close(wait=True)
