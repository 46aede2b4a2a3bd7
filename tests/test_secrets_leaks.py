"""A whole pipeline run with known secrets and PII: none of them is found afterwards in any log,
any topic the workers write, or any table. (The events topics hold what producers sent: they are
the input, not something evalstream published.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

from conftest import Flow, make_event
from test_tenancy_broker import TENANTS, add_producer, client, produce, sasl_broker, wait_committed  # noqa: F401 (fixture)

PII = {
    "email": "jane.roe.7731@example.org",
    "api_key": "sk-proj-Q7vX2mN9pL4kR8sT1wY6zB3cD5fG0hJ",
    "aws_key": "AKIAZ7QW3ERT5YUI9OPA",
    "iban": "DE89 3704 0044 0532 0130 00",
    "ip": "203.0.113.77",
}
SECRETS = {"admin": "admin-secret-3b1f", "producer": "acme-pw-leak-8c1d"}


def events() -> list[dict]:
    base = [make_event(i, tenant="acme") for i in range(4)]
    base[0]["prompt"] = f"My e-mail is {PII['email']} and my IBAN {PII['iban']}; how long do I have to return it?"
    base[1]["response"] = f"Use the key {PII['api_key']} from host {PII['ip']}."
    base[2]["context"] = [f"Deploy with {PII['aws_key']}.", "Items can be returned within 14 days."]
    base[3]["metadata"] = {"customer": {"contact": PII["email"], "note": f"key {PII['api_key']}"}}
    base[3]["unknown_field"] = f"from {PII['ip']}"  # an unknown top-level key: moved into metadata
    claims_globex = make_event(5, tenant="globex", prompt=f"reach me at {PII['email']}")  # dead-lettered: wrong tenant
    not_an_event = {**make_event(6, tenant="acme"), "latency_ms": f"ask {PII['email']}"}  # dead-lettered: schema
    return [*base, claims_globex, not_an_event]


def read_topic(admin: dict, topic: str) -> list[bytes]:
    consumer = Consumer(client(admin["EVALSTREAM_KAFKA_BOOTSTRAP"], "admin", SECRETS["admin"], **{"group.id": f"leak-{topic}", "auto.offset.reset": "earliest", "enable.partition.eof": True}))
    consumer.subscribe([topic])
    values: list[bytes] = []
    eofs, partitions = 0, None
    try:
        for _ in range(200):
            msg = consumer.poll(0.5)
            if msg is None:
                if partitions is not None and eofs >= partitions:
                    break
                continue
            partitions = partitions or len(consumer.assignment()) or None
            if msg.error():
                eofs += 1
                if partitions is not None and eofs >= partitions:
                    break
                continue
            values.append((msg.key() or b"") + b" " + (msg.value() or b""))
    finally:
        consumer.close()
    return values


def test_no_secret_or_pii_is_left_in_logs_topics_or_tables(sasl_broker: dict, tmp_path: Path) -> None:  # noqa: F811
    assert sasl_broker["EVALSTREAM_KAFKA_SASL_PASSWORD"] == SECRETS["admin"]
    bootstrap = sasl_broker["EVALSTREAM_KAFKA_BOOTSTRAP"]
    flow = Flow(bootstrap, tmp_path)
    flow.env.update(sasl_broker)
    flow.env.update({"EVALSTREAM_TENANT_TOPICS": "true", "EVALSTREAM_TENANTS": json.dumps(TENANTS), "EVALSTREAM_SCORERS": '["cost"]'})
    acme_topic = f"{flow.events_topic}.acme"
    add_producer(flow, "acme", "acme-leak-bot", SECRETS["producer"])
    sent = events()
    assert produce(bootstrap, "acme-leak-bot", SECRETS["producer"], acme_topic, sent) == [None] * len(sent)
    try:
        worker = flow.start_worker()
        wait_committed(flow, sasl_broker, {acme_topic: len(sent)})
        assert flow.stop_worker(worker) == 0

        found: dict[str, list[str]] = {}
        needles = {**{f"pii:{k}": v for k, v in PII.items()}, **{f"secret:{k}": v for k, v in SECRETS.items()}}

        def look(where: str, text: str) -> None:
            for name, needle in needles.items():
                if needle in text or needle.replace(" ", "") in text:
                    found.setdefault(where, []).append(name)

        for log in tmp_path.glob("*.log"):
            look(log.name, log.read_text(errors="replace"))
        admin = AdminClient(client(bootstrap, "admin", SECRETS["admin"]))
        written = [t for t in admin.list_topics(timeout=10).topics if t.startswith(flow.events_topic.rsplit(".", 1)[0]) and t not in (acme_topic, f"{flow.events_topic}.globex")]
        assert flow.dlq_topic in written
        for topic in written:
            look(f"topic {topic}", b"\n".join(read_topic(sasl_broker, topic)).decode(errors="replace"))
        tables = [r["name"] for r in flow.query("SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT IN ('MaterializedView', 'View')")]
        assert "scored_events" in tables
        columns = flow.query("SELECT table, name FROM system.columns WHERE database = currentDatabase() AND type NOT LIKE 'AggregateFunction%'")
        for table in tables:  # aggregate states hold numbers only, and the client cannot read them
            names = ", ".join(f"`{c['name']}`" for c in columns if c["table"] == table)
            look(f"table {table}", json.dumps(flow.query(f"SELECT {names} FROM {table}"), default=str))
        stored = flow.query("SELECT count() AS n FROM scored_events")[0]["n"]
        assert int(stored) == 4  # the four acme events, redacted, are stored: the check looked at real rows
        assert found == {}, found
    finally:
        flow.close()
