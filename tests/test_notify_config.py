"""Notifier settings checked at start (URLs, retry budget, fallbacks) and alert text made inert on
its way to Slack, PagerDuty and the log. In process, without the broker."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml

from evalstream.notifiers.config import ChannelConfig, ConfigError, NotifierConfig, RetryConfig, load_config
from evalstream.notifiers.log import LogChannel
from evalstream.notifiers.pagerduty import pagerduty_event
from evalstream.notifiers.slack import SlackChannel, slack_message
from evalstream.notifiers.urls import url_problem
from test_notifiers import make_alert

SLACK_SECRET = "T0SECRET/B0SECRET/xoxsecretpart"


def write(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "notify.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    "url, problem",
    [
        (f"http://hooks.slack.com/services/{SLACK_SECRET}", "must use https"),
        (f"ftp://hooks.slack.com/services/{SLACK_SECRET}", "must start with https://"),
        (f"hooks.slack.com/services/{SLACK_SECRET}", "must start with https://"),
        (f"https:///services/{SLACK_SECRET}", "has no host"),
        (f"https://[hooks.slack.com/services/{SLACK_SECRET}", "cannot be parsed"),
        (f"https://hooks.slack.com:99999/services/{SLACK_SECRET}", "cannot be parsed"),
        (f" https://hooks.slack.com/services/{SLACK_SECRET}\n", "spaces or control characters"),
    ],
)
def test_a_bad_channel_url_stops_the_notifier_at_start_without_showing_any_of_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, problem: str) -> None:
    monkeypatch.setenv("NOTIFY_TEST_SLACK_URL", url)
    path = write(tmp_path, {"channels": [{"name": "oncall", "type": "slack", "url_env": "NOTIFY_TEST_SLACK_URL"}]})
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert problem in message and "oncall" in message and "NOTIFY_TEST_SLACK_URL" in message
    assert "SECRET" not in message and "hooks.slack" not in message and "\n" not in message
    with pytest.raises(ConfigError) as error:  # built by hand, not from a file: the same check
        SlackChannel(ChannelConfig(name="oncall", type="slack", url=url))
    assert "SECRET" not in str(error.value)


def test_https_anywhere_and_plain_http_on_loopback_only() -> None:
    assert url_problem(f"https://hooks.slack.com/services/{SLACK_SECRET}") is None
    for local in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]:9/x", "http://receiver.localhost/x"):
        assert url_problem(local) is None, local
    for remote in ("http://10.0.0.5/hook", "http://receiver/hook", "http://127.0.0.1.example.com/x"):
        assert "https" in (url_problem(remote) or ""), remote


def test_a_yaml_mistake_names_the_place_but_not_the_line_which_may_hold_a_url(tmp_path: Path) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text(f"channels:\n  - name: oncall\n    type: slack\n    url: https://hooks.slack.com/services/{SLACK_SECRET}: [\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "line 4" in str(error.value) and "SECRET" not in str(error.value)


def test_retries_that_could_outlast_the_poll_interval_are_refused_in_one_line(tmp_path: Path) -> None:
    slow = {"max_attempts": 20, "timeout_s": 120, "max_backoff_s": 600}
    path = write(tmp_path, {"channels": [{"name": "pager", "type": "log"}, {"name": "hook", "type": "slack", "url": "https://example.com/x", "retry": slow}]})
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert "\n" not in message
    assert "channel 'hook': one delivery may retry for 18,600 s (20 attempts x 3 x 120 s timeout + 19 x 600 s backoff)" in message
    assert "max_poll_interval_s (600 s) less 30 s" in message

    assert RetryConfig().worst_case_s() == 270  # the defaults fit: 5 x 3 x 10 s + 4 x 30 s
    NotifierConfig(channels=[ChannelConfig(name="hook", type="slack", url="https://example.com/x", retry=RetryConfig(max_attempts=10, timeout_s=30))],
                   max_poll_interval_s=1200)  # 900 + 270 s: fits a longer poll interval
    with pytest.raises(ValueError, match="one delivery may retry for 1,170 s"):
        NotifierConfig(channels=[ChannelConfig(name="hook", type="slack", url="https://example.com/x", retry=RetryConfig(max_attempts=10, timeout_s=30))])


def test_fallbacks_must_name_a_channel_and_must_not_go_round() -> None:
    def config(*channels: tuple[str, str | None]) -> NotifierConfig:
        return NotifierConfig(channels=[ChannelConfig(name=n, type="log", fallback=f) for n, f in channels])

    config(("pager", "slack"), ("slack", "log"), ("log", None))
    with pytest.raises(ValueError, match="fallback 'slak' is not a channel"):
        config(("pager", "slak"), ("slack", None))
    with pytest.raises(ValueError, match="fallbacks go round in a circle: pager -> slack -> pager"):
        config(("pager", "slack"), ("slack", "pager"))
    with pytest.raises(ValueError, match="cannot be its own fallback"):
        config(("pager", "pager"))


HOSTILE = "acme <!channel> & <https://evil.example|click here>\n*urgent* \u202eedoc\u202c `x`"


def mrkdwn_texts(message: dict) -> list[str]:
    texts = [message["text"]]
    for block in message["blocks"]:
        texts += [block["text"]["text"]] if "text" in block else []
        texts += [e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return texts


def test_names_from_producers_reach_slack_pagerduty_and_the_log_inert(caplog: pytest.LogCaptureFixture) -> None:
    # The event contract refuses such names (producer/contract.py SAFE_NAME); an alert written to
    # the topic by anything else must still not mention @channel, link, or reorder a line.
    alert = make_alert().model_copy(update={"summary": HOSTILE, "policy": "p`olicy", "runbook_url": "javascript:alert(1)"})
    message = slack_message([alert], note="not delivered to pager (pagerduty): HTTP 400 <!here>")
    for text in mrkdwn_texts(message):
        assert "<" not in text and ">" not in text and "\n" not in text and "\u202e" not in text, text
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click here&gt;" in json.dumps(message)
    assert "policy `p'olicy`" in json.dumps(message)  # a backtick cannot end the code span early
    assert not [b for b in message["blocks"] if b["type"] == "actions"]  # no button for a non-http(s) runbook
    assert "links" not in pagerduty_event(alert, "rk") and "\n" not in pagerduty_event(alert, "rk")["payload"]["summary"]

    with caplog.at_level(logging.INFO, logger="evalstream.alerts"):
        LogChannel(ChannelConfig(name="log", type="log")).send([alert])
    (record,) = caplog.records
    assert "\n" not in record.getMessage() and "\u202e" not in record.getMessage()
