"""Tenant bound to the producer's principal: with a topic per tenant (EVALSTREAM_TENANT_TOPICS),
only that tenant's principal may write its topic (Kafka ACLs, infra/kafka/tenant_acls.py), so
the topic, not the event's own `tenant` field, says whose event it is. An event that declares
another tenant than its topic's is dead-lettered: storing it would poison the other tenant's
drift baselines and costs."""

from __future__ import annotations

from typing import Callable

from evalstream.streams.validate import Invalid

TenantOfTopic = Callable[[str], "str | None"]


def tenant_mismatch(tenant_of_topic: TenantOfTopic | None, topic: str, declared: str) -> Invalid | None:
    """Why an event on `topic` that declares `declared` is refused (None: accepted)."""
    expected = tenant_of_topic(topic) if tenant_of_topic is not None else None
    if expected is None or declared == expected:
        return None
    return Invalid("tenant_mismatch", f"event declares tenant {declared!r} on {topic}, the topic of tenant {expected!r}: only that tenant's principal writes it")
