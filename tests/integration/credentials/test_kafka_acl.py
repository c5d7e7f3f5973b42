"""Each tenant's Kafka user, on a real broker with SASL/SCRAM and the StandardAuthorizer: its
own topics and group work; another tenant's topics and group, a wrong password, an old
password after a rotation and a deleted user are refused by the broker itself."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)

from simptu.runtime.core.events import kafka_users
from simptu.runtime.core.events.topics import kafka_admin
from simptu.runtime.core.kafka_access import KafkaAccess
from simptu.runtime.core.tenancy import TenantNames
from tests.integration.credentials.conftest import KafkaTenant
from tests.integration.credentials.sasl_kafka import SaslKafka, login

BOUND = 60.0  # a failsafe on waits for records, never an assertion on speed


@contextlib.asynccontextmanager
async def producing(access: KafkaAccess) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(**access.client_options(), enable_idempotence=True,
                                request_timeout_ms=10_000)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


def consumer(access: KafkaAccess, topic: str, group: str | None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(topic, **access.client_options(), group_id=group,
                            auto_offset_reset="earliest", enable_auto_commit=False)


async def try_reading(access: KafkaAccess, topic: str, group: str | None) -> None:
    """Join (with a group) and fetch until the broker's refusal surfaces as its error (a
    fetch's error is raised by the next `getmany`); a read never refused fails at BOUND."""
    reader = consumer(access, topic, group)
    try:
        await reader.start()
        async with asyncio.timeout(BOUND):
            while True:
                await reader.getmany(timeout_ms=500)
    finally:
        await reader.stop()


async def read_until(reader: AIOKafkaConsumer, wanted: set[bytes], seen: set[bytes],
                     commits: bool = True) -> None:
    """Read (committing as the agent does, unless groupless) until `wanted` was all seen."""
    async with asyncio.timeout(BOUND):
        while not wanted <= seen:
            batch = await reader.getmany(timeout_ms=500)
            seen.update(record.value for records in batch.values() for record in records
                        if record.value is not None)
            if batch and commits:
                await reader.commit()


async def publish(access: KafkaAccess, topic: str, values: list[bytes]) -> None:
    async with producing(access) as producer:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"session-1")


async def test_a_tenant_reads_its_inbound_in_its_group_and_writes_outbound_and_events(
    sasl_broker: SaslKafka, tenant_pair: tuple[KafkaTenant, KafkaTenant],
) -> None:
    a, _ = tenant_pair
    relay = sasl_broker.platform_user("simptu-relay")
    await publish(relay, a.names.topic("inbound"), [b"hello"])
    reader = consumer(a.access, a.names.topic("inbound"), a.group)
    await reader.start()
    try:
        await read_until(reader, {b"hello"}, set())
    finally:
        await reader.stop()
    async with producing(a.access) as producer:
        for stream in ("outbound", "events"):
            sent = await producer.send_and_wait(a.names.topic(stream), b"reply")
            assert sent.offset >= 0


async def test_another_tenants_topics_and_group_are_refused_by_the_broker(
    tenant_pair: tuple[KafkaTenant, KafkaTenant],
) -> None:
    a, b = tenant_pair
    with pytest.raises(TopicAuthorizationFailedError):
        await try_reading(a.access, b.names.topic("inbound"), a.group)
    with pytest.raises(GroupAuthorizationFailedError):
        await try_reading(a.access, a.names.topic("inbound"), b.group)
    # The group of a tenant whose slug begins with a's: named exactly, not by a's prefix.
    longer = kafka_users.agent_group(TenantNames(f"{a.names.slug}2"))
    with pytest.raises(GroupAuthorizationFailedError):
        await try_reading(a.access, a.names.topic("inbound"), longer)
    async with producing(a.access) as producer:
        for topic in (b.names.topic("outbound"), b.names.topic("events"),
                      a.names.topic("inbound")):  # its own inbound is the platform's to write
            with pytest.raises(TopicAuthorizationFailedError):
                await producer.send_and_wait(topic, b"not yours")


async def test_a_wrong_password_is_refused(tenant_pair: tuple[KafkaTenant, KafkaTenant]) -> None:
    a, _ = tenant_pair
    await login(a.access)
    with pytest.raises(SaslAuthenticationFailed):
        await login(a.access.as_user(a.access.username, "not-the-password"))


async def test_rotation_while_a_conversation_runs_loses_no_message_and_refuses_the_old_password(
    sasl_broker: SaslKafka, tenant_pair: tuple[KafkaTenant, KafkaTenant],
) -> None:
    a, _ = tenant_pair
    relay, inbound = sasl_broker.platform_user("simptu-relay"), a.names.topic("inbound")
    sent = [f"message-{n}".encode() for n in range(30)]
    seen: set[bytes] = set()
    old_agent = consumer(a.access, inbound, a.group)
    await old_agent.start()
    try:
        await publish(relay, inbound, sent[:10])
        await read_until(old_agent, set(sent[:10]), seen)
        new_password = kafka_users.new_password()
        async with kafka_admin(sasl_broker.admin) as admin:  # what the operator's rotation does
            await kafka_users.upsert_credential(admin, a.access.username, new_password,
                                                a.access.mechanism)
        await publish(relay, inbound, sent[10:20])
        # The running agent's connections were authenticated before: it reads on.
        await read_until(old_agent, set(sent[:20]), seen)
    finally:
        await old_agent.stop()  # the Deployment's roll: the old pod goes
    with pytest.raises(SaslAuthenticationFailed):
        await login(a.access)
    rotated = a.access.as_user(a.access.username, new_password)
    await publish(relay, inbound, sent[20:])
    new_agent = consumer(rotated, inbound, a.group)
    await new_agent.start()
    try:
        await read_until(new_agent, set(sent[20:]), seen)
    finally:
        await new_agent.stop()
    assert seen == set(sent)


async def test_a_deleted_tenants_user_is_refused(
    sasl_broker: SaslKafka, tenant_pair: tuple[KafkaTenant, KafkaTenant],
) -> None:
    a, _ = tenant_pair
    async with kafka_admin(sasl_broker.admin) as admin:  # what operator/deletion.py removes
        await kafka_users.delete_credential(admin, a.access.username, a.access.mechanism)
        await kafka_users.revoke_all(admin, a.access.username)
        assert await kafka_users.granted(admin, a.access.username) == set()
        await kafka_users.delete_credential(admin, a.access.username, a.access.mechanism)
    with pytest.raises(SaslAuthenticationFailed):
        await login(a.access)


async def test_platform_users_have_only_what_their_runtime_needs(
    sasl_broker: SaslKafka, tenant_pair: tuple[KafkaTenant, KafkaTenant],
) -> None:
    a, _ = tenant_pair
    relay, hub = (sasl_broker.platform_user(user) for user in ("simptu-relay", "simptu-ws"))
    channels = sasl_broker.platform_user("simptu-channels")
    await publish(relay, a.names.topic("outbound"), [b"reply"])
    with pytest.raises(TopicAuthorizationFailedError):  # the relay publishes, never reads
        await try_reading(relay, a.names.topic("inbound"), None)
    reader = consumer(hub, a.names.topic("outbound"), None)  # the hub reads without a group
    await reader.start()
    try:
        await read_until(reader, {b"reply"}, set(), commits=False)
    finally:
        await reader.stop()
    with pytest.raises(GroupAuthorizationFailedError):  # no group but its own
        await try_reading(channels, a.names.topic("outbound"), a.group)
    # Allowed to write nowhere, the channel senders do not even get a producer id.
    with pytest.raises(ClusterAuthorizationFailedError):
        await publish(channels, a.names.topic("inbound"), [b"forged"])
