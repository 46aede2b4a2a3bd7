"""Notifiers against a real broker and real HTTP receivers on 127.0.0.1: the alert contract on the
wire, retries, dead letters and commits (without the broker: test_notifier_delivery.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import EVALSTREAM
from evalstream.contracts.alert import Alert, alert_id, fingerprint

ROUTING_KEY = "R0UT1NGKEY-test-0123456789abcdef"
COORDINATOR_NOT_READY = (KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError.COORDINATOR_NOT_AVAILABLE)
WEBHOOK_SECRET = "whsec-test-3b9f0c"


# -- receivers and Kafka helpers (test_drift uses them too) -----------------------------------


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records every request (POST or GET). It answers 503 to
    the first `fail_first` requests (to all of them with `fail_always`), then `ok_status` with
    `ok_headers`. While `hold` is an unset event, every request hangs until it is set. `port`: listen
    there (a receiver back after an outage), else on a free port."""

    def __init__(
        self, *, fail_first: int = 0, fail_always: bool = False, ok_status: int = 200, ok_body: bytes = b"ok", ok_headers: dict[str, str] | None = None,
        hold: threading.Event | None = None, port: int = 0,
    ) -> None:
        self.requests: list[Request] = []
        self.arrived = 0  # requests received, answered or not (held)
        self.fail_first, self.fail_always = fail_first, fail_always
        self.hold = hold
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.arrived += 1
                if receiver.hold is not None:
                    receiver.hold.wait()
                with receiver.lock:
                    failing = receiver.fail_always or len(receiver.requests) < receiver.fail_first
                    status = 503 if failing else ok_status
                    receiver.requests.append(Request(self.path, dict(self.headers), body, status))
                self.send_response(status)
                for name, value in ({} if failing else ok_headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(b"unavailable" if failing else ok_body)

            do_GET = do_POST  # noqa: N815 (a followed redirect arrives as a GET: it must show)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def delivered(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.status < 300]

    def wait_delivered(self, n: int, timeout: float = 60.0) -> list[Request]:
        wait_until(lambda: len(self.delivered()) >= n, timeout, lambda: f"{len(self.delivered())}/{n} deliveries; requests: {len(self.requests)}")
        return self.delivered()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_until(condition: Callable[[], bool], timeout: float, explain: Callable[[], str] = lambda: "") -> None:
    """Polls `condition` until it holds; fails with `explain()` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not so after {timeout}s: {explain()}"
        time.sleep(0.1)


def create_topics(bootstrap: str, *topics: str, partitions: int = 4) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics]).values():
        future.result(30)


def publish(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "enable.idempotence": True})
    for i, (key, value) in enumerate(records):
        producer.produce(topic, value, key=key)
        if i % 5_000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0


def read_topic(bootstrap: str, topic: str, *, expected: int, timeout: float = 60.0, settle: float = 2.0) -> list[dict[str, Any]]:
    """The topic's messages from the start: waits for `expected`, then `settle` seconds for any more."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{uuid.uuid4().hex[:8]}", "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    quiet_until = None
    try:
        while True:
            now = time.monotonic()
            if len(found) >= expected:
                quiet_until = quiet_until or now + settle
                if now > quiet_until:
                    break
            elif now > deadline:
                break
            msg = consumer.poll(0.2)
            if msg is not None and not msg.error():
                found.append(json.loads(msg.value()))
    finally:
        consumer.close()
    return found


def committed(bootstrap: str, group: str, topic: str, partitions: int = 4) -> int:
    """The group's committed offsets on the topic, summed (the coordinator may still be loading: retried)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                parts = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
                return sum(max(tp.offset, 0) for tp in parts)
            except KafkaException as exc:
                if time.monotonic() > deadline or not (exc.args[0].retriable() or exc.args[0].code() in COORDINATOR_NOT_READY):
                    raise
                time.sleep(0.5)
    finally:
        consumer.close()


class Notify:
    """An `evalstream notify` process with its config file and log."""

    def __init__(self, bootstrap: str, workdir: Path, config: dict[str, Any], env: dict[str, str] | None = None) -> None:
        self.bootstrap, self.workdir = bootstrap, workdir
        self.config_path = workdir / f"notifiers-{uuid.uuid4().hex[:6]}.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.env = {**os.environ, "NOTIFY_ROUTING_KEY": ROUTING_KEY, "NOTIFY_WEBHOOK_SECRET": WEBHOOK_SECRET, **(env or {})}
        self.procs: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = open(self.workdir / f"notify-{len(self.procs)}.log", "w")
        proc = subprocess.Popen([*EVALSTREAM, "notify", "--bootstrap", self.bootstrap, "--config", str(self.config_path)], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def log(self, index: int = -1) -> str:
        return (self.workdir / f"notify-{index % len(self.procs)}.log").read_text()

    def stop(self, proc: subprocess.Popen) -> int:
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=30)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def make_alert(state: str = "firing", *, tenant: str = "acme", statistic: str = "toxicity_rate", region: str = "eu", minute: int = 0) -> Alert:
    fp = fingerprint(tenant, "support-bot", "rag-qa", "gpt-4o-mini", "7", region, statistic, "drift")
    started = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    ts = started + timedelta(minutes=minute)
    return Alert(
        alert_id=alert_id(fp, state, started, ts), fingerprint=fp, state=state, severity="critical", ts=ts, started_at=started,
        tenant=tenant, app="support-bot", use_case="rag-qa", model="gpt-4o-mini", prompt_version="7", region=region,
        statistic=statistic, detector="drift", window_value=0.061, baseline_value=0.004, window_start=ts - timedelta(minutes=10),
        window_end=ts, sample_size=1240, baseline_size=120_000, baseline_description="baseline, 7 days", p_value=1e-9,
        sample_event_ids=[str(uuid.uuid4()) for _ in range(3)], policy="default:toxicity_rate@region:eu",
        runbook_url="https://runbooks.example.com/evalstream/toxicity_rate",
        summary="toxicity rate of acme/support-bot / gpt-4o-mini / prompt v7 in eu rose from 0.4% (baseline, 7 days) to 6.1% (last 10 min, n=1,240, p<0.001)",
    )


@dataclass
class Topics:
    bootstrap: str
    alerts: str
    dlq: str
    group: str


@pytest.fixture
def topics(kafka: str) -> Topics:
    tag = uuid.uuid4().hex[:8]
    t = Topics(kafka, f"test.{tag}.alerts", f"test.{tag}.alerts.dlq", f"notify-{tag}")
    create_topics(kafka, t.alerts, t.dlq)
    return t


@pytest.fixture
def receivers() -> Iterator[dict[str, Receiver]]:
    made: dict[str, Receiver] = {}
    yield made
    for r in made.values():
        r.close()


def notifier_config(t: Topics, channels: list[dict[str, Any]]) -> dict[str, Any]:
    return {"group_id": t.group, "alerts_topic": t.alerts, "dlq_topic": t.dlq, "channels": channels}


def check_signature(request: Request) -> None:
    """What a receiver does: recompute the HMAC over "<timestamp>." + the raw body, compare, check the age."""
    timestamp = request.headers["X-Evalstream-Timestamp"]
    expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Evalstream-Signature"], expected)
    assert abs(time.time() - int(timestamp)) < 300


# -- against the broker ------------------------------------------------------------------------


def test_flaky_receiver_gets_the_alert_once_and_a_dead_one_sends_it_to_the_dead_letter_topic(topics: Topics, receivers: dict[str, Receiver], tmp_path: Path) -> None:
    receivers["slack"] = Receiver(fail_first=3)  # recovers on the 4th try
    receivers["pagerduty"] = Receiver(ok_status=202, ok_body=b'{"status": "success"}')
    receivers["webhook"] = Receiver(fail_always=True)
    fast_retry = {"max_attempts": 5, "initial_backoff_s": 0.05, "max_backoff_s": 0.2}
    notify = Notify(topics.bootstrap, tmp_path, notifier_config(topics, [
        {"name": "slack-oncall", "type": "slack", "url": receivers["slack"].url, "retry": fast_retry},
        {"name": "pager", "type": "pagerduty", "url": receivers["pagerduty"].url, "secret_env": "NOTIFY_ROUTING_KEY", "retry": fast_retry},
        {"name": "audit-hook", "type": "webhook", "url": receivers["webhook"].url, "secret_env": "NOTIFY_WEBHOOK_SECRET", "retry": fast_retry, "give_up_after_s": 0},
        {"name": "log", "type": "log"},
    ]))
    alert = make_alert()
    publish(topics.bootstrap, topics.alerts, [(alert.fingerprint.encode(), alert.model_dump_json().encode())])
    try:
        proc = notify.start()
        (slack,) = receivers["slack"].wait_delivered(1)
        (page,) = receivers["pagerduty"].wait_delivered(1)
        (letter,) = read_topic(topics.bootstrap, topics.dlq, expected=1)

        assert [r.status for r in receivers["slack"].requests] == [503, 503, 503, 200]  # three failures, then once
        assert slack.json()["blocks"][0]["type"] == "header" and alert.summary.replace("<", "&lt;") in slack.body.decode()  # mrkdwn-escaped
        assert page.json()["dedup_key"] == alert.fingerprint and page.json()["routing_key"] == ROUTING_KEY
        assert len(receivers["webhook"].requests) == 5 and not receivers["webhook"].delivered()
        assert letter["channel"] == "audit-hook" and letter["attempts"] == 5 and "HTTP 503" in letter["reason"]
        assert Alert.model_validate(letter["alert"]) == alert
        assert letter["source"]["topic"] == topics.alerts

        # Delivered everywhere or dead-lettered: committed. A new notifier in the group sends nothing again.
        wait_until(lambda: committed(topics.bootstrap, topics.group, topics.alerts) >= 1, 20, notify.log)
        assert notify.stop(proc) == 0
        log_text = notify.log()
        assert ROUTING_KEY not in log_text and WEBHOOK_SECRET not in log_text
        again = notify.start()
        # A later alert on the same partition (same key): once the new notifier has delivered it,
        # it has read past the first one, which it would have sent again had it not been committed.
        later = make_alert("resolved", minute=20)
        publish(topics.bootstrap, topics.alerts, [(later.fingerprint.encode(), later.model_dump_json().encode())])
        *_, slack_later = receivers["slack"].wait_delivered(2)
        *_, page_later = receivers["pagerduty"].wait_delivered(2)
        assert "RESOLVED" in slack_later.body.decode() and "FIRING" not in slack_later.body.decode()
        assert page_later.json()["event_action"] == "resolve"
        assert len(receivers["slack"].requests) == 5 and len(receivers["pagerduty"].requests) == 2
        assert notify.stop(again) == 0
    finally:
        notify.close()


def test_an_alert_is_not_committed_before_delivery_so_a_killed_notifier_delivers_it_after_restart(topics: Topics, receivers: dict[str, Receiver], tmp_path: Path) -> None:
    receivers["slack"] = Receiver(fail_always=True)
    patient = {"max_attempts": 20, "initial_backoff_s": 0.2, "max_backoff_s": 0.5, "timeout_s": 5}
    notify = Notify(topics.bootstrap, tmp_path, notifier_config(topics, [{"name": "slack", "type": "slack", "url_env": "NOTIFY_SLACK_URL", "retry": patient}]), env={"NOTIFY_SLACK_URL": receivers["slack"].url})
    alert = make_alert()
    publish(topics.bootstrap, topics.alerts, [(alert.fingerprint.encode(), alert.model_dump_json().encode())])
    try:
        first = notify.start()
        wait_until(lambda: len(receivers["slack"].requests) >= 3, 30, lambda: notify.log(0))  # retrying
        first.kill()
        first.wait(10)
        assert committed(topics.bootstrap, topics.group, topics.alerts) == 0
        assert receivers["slack"].url not in notify.log(0)  # a Slack URL is a secret

        receivers["slack"].fail_always = False
        second = notify.start()
        (delivered,) = receivers["slack"].wait_delivered(1)
        assert alert.fingerprint in delivered.body.decode()
        assert notify.stop(second) == 0
        assert committed(topics.bootstrap, topics.group, topics.alerts) == 1
    finally:
        notify.close()


def test_alerts_within_the_grouping_window_go_out_as_one_slack_message_and_one_page_each(topics: Topics, receivers: dict[str, Receiver], tmp_path: Path) -> None:
    receivers["slack"] = Receiver()
    receivers["pagerduty"] = Receiver(ok_status=202)
    notify = Notify(topics.bootstrap, tmp_path, notifier_config(topics, [
        {"name": "slack", "type": "slack", "url": receivers["slack"].url, "group_window_s": 3, "group_by": ["tenant"]},
        {"name": "pager", "type": "pagerduty", "url": receivers["pagerduty"].url, "secret_env": "NOTIFY_ROUTING_KEY", "min_severity": "critical"},
    ]))
    alerts = [make_alert(statistic=s) for s in ("toxicity_rate", "error_rate", "faithfulness")] + [make_alert(tenant="globex")]
    duplicate = alerts[0]  # the detector re-sent it (same alert_id): delivered once
    publish(topics.bootstrap, topics.alerts, [(a.fingerprint.encode(), a.model_dump_json().encode()) for a in [*alerts, duplicate]])
    try:
        proc = notify.start()
        messages = receivers["slack"].wait_delivered(2)
        pages = receivers["pagerduty"].wait_delivered(4)
        # All five read, the re-sent copy too: an offset is committed only after its deliveries.
        wait_until(lambda: committed(topics.bootstrap, topics.group, topics.alerts) == 5, 30, notify.log)
        assert notify.stop(proc) == 0
        assert len(receivers["slack"].delivered()) == 2 and len(receivers["pagerduty"].delivered()) == 4
        by_tenant = {("globex" if "globex" in m.body.decode() else "acme"): m.json() for m in messages}
        assert by_tenant["acme"]["blocks"][0]["text"]["text"] == "3 firing drift alerts for acme"
        assert sorted(p.json()["dedup_key"] for p in pages) == sorted(a.fingerprint for a in alerts)
    finally:
        notify.close()
