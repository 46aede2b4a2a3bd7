"""Notifiers without the broker: message formats, HTTP delivery to real receivers on 127.0.0.1,
retries, rate limits and configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from evalstream.notifiers.channel import Channel
from evalstream.notifiers.config import ChannelConfig, ConfigError, RetryConfig, load_config
from evalstream.notifiers.delivery import DeliveryError, TokenBucket, with_retries
from evalstream.notifiers.pagerduty import PagerDutyChannel, pagerduty_event
from evalstream.notifiers.slack import SlackChannel, slack_message
from evalstream.notifiers.webhook import WebhookChannel, sign, verify_signature, webhook_payload
from test_notifiers import ROUTING_KEY, WEBHOOK_SECRET, Receiver, check_signature, make_alert, receivers  # noqa: F401 (a fixture)


def test_message_formats() -> None:
    firing, resolved = make_alert(), make_alert("resolved", minute=20)
    trigger = pagerduty_event(firing, "rk")
    assert trigger["event_action"] == "trigger" and trigger["dedup_key"] == firing.fingerprint
    assert trigger["payload"]["severity"] == "critical" and trigger["payload"]["summary"] == firing.summary
    assert trigger["payload"]["custom_details"]["sample_event_ids"] == firing.sample_event_ids
    assert trigger["links"] == [{"href": firing.runbook_url, "text": "Runbook"}]
    assert pagerduty_event(resolved, "rk") == {"routing_key": "rk", "event_action": "resolve", "dedup_key": firing.fingerprint}

    message = slack_message([firing, resolved])
    assert message["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "1 firing and 1 resolved drift alerts for acme", "emoji": True}}
    buttons = [b for b in message["blocks"] if b["type"] == "actions"]
    assert buttons[0]["elements"][0]["url"] == firing.runbook_url
    assert len(slack_message([make_alert(minute=i) for i in range(30)])["blocks"]) <= 50  # Slack's limit

    body = b'{"alerts": []}'
    signature = sign("key", "1700000000", body)
    assert verify_signature("key", "1700000000", body, signature, now=1700000100)
    assert not verify_signature("key", "1700000000", body + b" ", signature, now=1700000100)
    assert not verify_signature("key", "1700000000", body, signature, now=1700009999)  # a replay, too old


def test_retries_back_off_exponentially_and_a_client_error_is_not_retried() -> None:
    waits: list[float] = []
    calls = iter([DeliveryError("HTTP 503"), DeliveryError("HTTP 503"), DeliveryError("HTTP 503"), None])

    def flaky() -> None:
        if (error := next(calls)) is not None:
            raise error

    outcome = with_retries(flaky, RetryConfig(max_attempts=5, initial_backoff_s=1, max_backoff_s=3), sleep=waits.append)
    assert outcome.delivered and outcome.attempts == 4
    assert 0.5 <= waits[0] <= 1 and 1 <= waits[1] <= 2 and 1.5 <= waits[2] <= 3  # doubling, capped, jittered

    def bad_request() -> None:
        raise DeliveryError("HTTP 400 Bad Request", retryable=False)

    outcome = with_retries(bad_request, RetryConfig(max_attempts=5), sleep=waits.append)
    assert not outcome.delivered and outcome.attempts == 1 and "400" in outcome.reason


def test_a_receivers_retry_after_is_waited_up_to_the_backoff_cap() -> None:
    waits: list[float] = []
    calls = iter([DeliveryError("HTTP 429", retry_after=2.5), DeliveryError("HTTP 429", retry_after=60), None])

    def limited() -> None:
        if (error := next(calls)) is not None:
            raise error

    outcome = with_retries(limited, RetryConfig(max_attempts=5, initial_backoff_s=0.1, max_backoff_s=3), sleep=waits.append)
    assert outcome.delivered and outcome.attempts == 3 and waits[0] == 2.5 and waits[1] == 3


def test_each_channel_posts_what_its_receiver_expects_and_the_webhook_is_signed(receivers: dict[str, Receiver], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_ROUTING_KEY", ROUTING_KEY)
    monkeypatch.setenv("NOTIFY_WEBHOOK_SECRET", WEBHOOK_SECRET)
    slack, pager, hook = receivers["slack"], receivers["pagerduty"], receivers["webhook"] = Receiver(), Receiver(ok_status=202), Receiver()
    alert = make_alert()
    SlackChannel(ChannelConfig(name="s", type="slack", url=slack.url)).send([alert])
    PagerDutyChannel(ChannelConfig(name="p", type="pagerduty", url=pager.url, secret_env="NOTIFY_ROUTING_KEY")).send([alert])
    WebhookChannel(ChannelConfig(name="w", type="webhook", url=hook.url, secret_env="NOTIFY_WEBHOOK_SECRET")).send([alert])

    (message,), (page,), (signed,) = slack.delivered(), pager.delivered(), hook.delivered()
    assert all(r.headers["Content-Type"] == "application/json" for r in (message, page, signed))
    assert message.json() == json.loads(json.dumps(slack_message([alert])))
    assert page.json() == json.loads(json.dumps(pagerduty_event(alert, ROUTING_KEY)))
    assert signed.json() == webhook_payload([alert])
    check_signature(signed)


def test_a_redirect_is_a_failed_delivery_and_is_not_followed(receivers: dict[str, Receiver]) -> None:
    target = receivers["target"] = Receiver()
    moved = receivers["moved"] = Receiver(ok_status=301, ok_headers={"Location": target.url})
    channel = SlackChannel(ChannelConfig(name="s", type="slack", url=moved.url))
    outcome = with_retries(lambda: channel.send([make_alert()]), channel.config.retry)
    assert not outcome.delivered and outcome.attempts == 1 and "HTTP 301" in outcome.reason
    assert [r.status for r in moved.requests] == [301] and target.requests == []


def test_an_unreachable_receiver_is_retried_and_its_url_stays_out_of_the_reason() -> None:
    gone = Receiver()
    url = gone.url + "/T0SECRET"
    gone.close()
    channel = SlackChannel(ChannelConfig(name="s", type="slack", url=url, retry=RetryConfig(max_attempts=2, initial_backoff_s=0.01)))
    outcome = with_retries(lambda: channel.send([make_alert()]), channel.config.retry)
    assert not outcome.delivered and outcome.attempts == 2 and outcome.reason == "ConnectError"


def test_rate_limit_and_grouping() -> None:
    now = [0.0]
    bucket = TokenBucket(6, clock=lambda: now[0])  # 6 a minute: one every 10 s, bursts of 6
    assert sum(bucket.try_acquire() for _ in range(10)) == 6
    assert bucket.wait_s() == pytest.approx(10)
    now[0] += 10
    assert bucket.try_acquire() and not bucket.try_acquire()

    channel = Channel(ChannelConfig(name="s", type="log", group_by=["tenant", "state"]))
    groups = channel.messages([make_alert(), make_alert(statistic="error_rate"), make_alert("resolved"), make_alert(tenant="globex")])
    assert sorted(len(g) for g in groups) == [1, 1, 2]


def test_config_mistakes_are_refused_with_the_place_and_missing_secrets_at_start(tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text(yaml.safe_dump({"channels": [{"name": "p", "type": "pagerduty", "url": "http://x", "secrte_env": "X"}]}))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "channels.0.secrte_env: Extra inputs are not permitted" in str(error.value)

    path.write_text(yaml.safe_dump({"channels": [{"name": "p", "type": "pagerduty", "rate_limit_per_minute": 0}, {"name": "w", "type": "webhook", "url": "http://x"}]}))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "channels.0.rate_limit_per_minute: Input should be greater than 0" in str(error.value)
    assert "channels.1: Value error, a webhook channel needs secret_env" in str(error.value)

    path.write_text(yaml.safe_dump({"channels": [{"name": "p", "type": "pagerduty", "secret_env": "EVALSTREAM_TEST_UNSET_KEY"}]}))
    with pytest.raises(ConfigError, match="environment variable EVALSTREAM_TEST_UNSET_KEY is not set"):
        load_config(path)
