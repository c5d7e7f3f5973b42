"""A tenant's topics are ensured, checked and removed idempotently; the producer publishes a
keyed CloudEvent and fails clearly, within its timeout, when it cannot."""

from __future__ import annotations

import datetime as dt

import pytest
from aiokafka import AIOKafkaConsumer

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.events.cloudevents import STRUCTURED_CONTENT_TYPE, CloudEvent
from simptu.runtime.core.events.producer import EventProducer, PublishError
from simptu.runtime.core.events.topics import (
    TopicSettings,
    check_tenant_topics,
    ensure_tenant_topics,
    kafka_admin,
    remove_tenant_topics,
    tenant_topics,
)
from simptu.runtime.core.tenancy import TenantNames

DAY = dt.timedelta(days=1)


async def test_a_tenant_s_topics_are_created_once_checked_and_removed_once(
    stack: StackEnv, topic_prefix: str, unique: str,
) -> None:
    tenant = TenantNames(unique)  # simptu.<unique>.*: under topic_prefix, removed afterwards
    settings = TopicSettings(partitions=2, retention=DAY)
    async with kafka_admin(stack.kafka) as admin:
        assert sorted(await ensure_tenant_topics(admin, tenant, settings)) == sorted(
            tenant_topics(tenant))
        assert await ensure_tenant_topics(admin, tenant, settings) == []
        assert (await check_tenant_topics(admin, tenant, settings)).ok
        assert sorted(await remove_tenant_topics(admin, tenant)) == sorted(tenant_topics(tenant))
        assert await remove_tenant_topics(admin, tenant) == []
        report = await check_tenant_topics(admin, tenant, settings)
    assert sorted(report.missing) == sorted(tenant_topics(tenant))
    assert all(name.startswith(topic_prefix) for name in report.missing)


async def test_ensure_restores_retention_and_check_reports_what_it_will_not_change(
    stack: StackEnv, topic_prefix: str, unique: str,
) -> None:
    tenant = TenantNames(unique)
    async with kafka_admin(stack.kafka) as admin:
        await ensure_tenant_topics(admin, tenant, TopicSettings(partitions=2, retention=DAY))
        wanted = TopicSettings(partitions=3, retention=2 * DAY)
        drift = (await check_tenant_topics(admin, tenant, wanted)).drift
        assert drift[tenant.topic("inbound")] == [
            "partitions 2, want 3", "retention.ms 86400000, want 172800000"]
        await ensure_tenant_topics(admin, tenant, wanted)
        drift = (await check_tenant_topics(admin, tenant, wanted)).drift
    # Retention is repaired; partitions are not (more partitions would move keys).
    assert drift == {name: ["partitions 2, want 3"] for name in tenant_topics(tenant)}


async def test_a_published_event_arrives_keyed_with_its_id_and_content_type(
    stack: StackEnv, topic_prefix: str, unique: str, producer: EventProducer,
) -> None:
    tenant = TenantNames(unique)
    async with kafka_admin(stack.kafka) as admin:
        await ensure_tenant_topics(admin, tenant, TopicSettings(partitions=3))
    event = CloudEvent(source="/ws", type="io.simptu.chat.message.received",
                       tenantid=tenant.slug, subject="session-7", data={"text": "hi"})
    sent = await producer.publish(tenant.topic("inbound"), event, key="session-7")
    consumer = AIOKafkaConsumer(tenant.topic("inbound"), **stack.kafka.client_options(),
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()
    assert (record.partition, record.offset) == (sent.partition, sent.offset)
    assert record.key == b"session-7"
    assert dict(record.headers)["content-type"] == STRUCTURED_CONTENT_TYPE.encode()
    assert CloudEvent.from_bytes(record.value) == event


async def test_publishing_to_a_topic_that_does_not_exist_fails_within_the_timeout(
    stack: StackEnv, topic_prefix: str,
) -> None:
    event = CloudEvent(source="/ws", type="io.simptu.chat.message.received", tenantid="acme")
    async with EventProducer(stack.kafka, timeout=2.0) as producer:
        # Auto-creation is off: the topic never appears, so no acknowledgement can come.
        with pytest.raises(PublishError):
            await producer.publish(f"{topic_prefix}missing", event, "k")
