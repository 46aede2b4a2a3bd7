"""Binds a tenant to producing principals on a SASL/SCRAM broker (infra/kafka/start.sh --sasl).

    EVALSTREAM_KAFKA_BOOTSTRAP=127.0.0.1:PORT EVALSTREAM_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT \\
    EVALSTREAM_KAFKA_SASL_MECHANISM=SCRAM-SHA-512 EVALSTREAM_KAFKA_SASL_USERNAME=admin \\
    EVALSTREAM_KAFKA_SASL_PASSWORD=... EVALSTREAM_PRINCIPAL_PASSWORD=... \\
    .venv/bin/python infra/kafka/tenant_acls.py add-producer --tenant acme --principal acme-support-bot

For each producing service: a SCRAM-SHA-512 user (its password from EVALSTREAM_PRINCIPAL_PASSWORD
or --password-file, never an argument), the tenant's topic `{EVALSTREAM_EVENTS_TOPIC}.{tenant}`
and ACLs that let that user WRITE and DESCRIBE it and nothing else. The broker denies what no ACL
allows, so the service cannot write another tenant's topic; the workers (the super user) read
every tenant's topic and dead-letter an event whose declared tenant is not its topic's.
The admin's credentials are the EVALSTREAM_KAFKA_* settings, as for every evalstream client.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from evalstream.config.settings import TENANT_NAME, KafkaSettings, TopicSettings

PRODUCER_OPERATIONS = (AclOperation.WRITE, AclOperation.DESCRIBE)
SCRAM_ITERATIONS = 8192


def producer_acls(principal: str, topic: str) -> list[AclBinding]:
    return [
        AclBinding(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, f"User:{principal}", "*", operation, AclPermissionType.ALLOW)
        for operation in PRODUCER_OPERATIONS
    ]


def add_producer(admin: AdminClient, topics: TopicSettings, tenant: str, principal: str, password: str, timeout: float = 30.0) -> str:
    """The principal's credential, its tenant's topic and its ACLs; returns the topic."""
    if not TENANT_NAME.fullmatch(tenant) or tenant == "dlq":
        raise ValueError(f"tenant {tenant!r}: lowercase letters, digits, _ and -, not 'dlq'")
    topic = topics.tenant_topic(tenant)
    upsert = UserScramCredentialUpsertion(principal, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS), password.encode())
    for future in admin.alter_user_scram_credentials([upsert]).values():
        future.result(timeout)
    for future in admin.create_topics([NewTopic(topic, num_partitions=topics.partitions, replication_factor=-1)]).values():
        try:
            future.result(timeout)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    for future in admin.create_acls(producer_acls(principal, topic)).values():
        future.result(timeout)
    return topic


def _password(args: argparse.Namespace) -> str:
    if args.password_file:
        return Path(args.password_file).read_text().strip()
    password = os.environ.get("EVALSTREAM_PRINCIPAL_PASSWORD", "")
    if not password:
        sys.exit("the principal's password: EVALSTREAM_PRINCIPAL_PASSWORD or --password-file")
    return password


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-producer", help="a producing principal that may write only its tenant's topic")
    add.add_argument("--tenant", required=True)
    add.add_argument("--principal", required=True)
    add.add_argument("--password-file", help="a file holding the principal's password (else EVALSTREAM_PRINCIPAL_PASSWORD)")
    args = parser.parse_args(argv)
    admin = AdminClient({**KafkaSettings().librdkafka(), "log_level": 3})
    topic = add_producer(admin, TopicSettings(), args.tenant, args.principal, _password(args))
    print(f"User:{args.principal} may write {topic} (WRITE, DESCRIBE) and nothing else")


if __name__ == "__main__":
    main()
