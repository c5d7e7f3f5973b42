"""A hub that starts reads each tenant's outbound topic on from where the hubs had got to (their
positions in Redis), so what was published while no hub ran still reaches the resume log; no
further back than its catch-up window, so a hub down for a week does not replay it all; and a
partition no hub has read yet starts at its end, as before."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiokafka import TopicPartition

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.events import CloudEvent, EventProducer
from simptu.runtime.core.events.topics import (
    TopicSettings,
    ensure_tenant_topics,
    kafka_admin,
    remove_tenant_topics,
)
from simptu.runtime.core.tenancy import TenantNames
from simptu.runtime.ws.fanout import TopicReader
from simptu.runtime.ws.read_positions import ReadPositions, positions_key

WAIT = 30.0  # bound on what the reader should see; a failure, not a timing


class Reading:
    """A TopicReader of one tenant's topics, recording the offsets it hands on."""

    def __init__(self, stack: StackEnv, tenant: TenantNames, redis: aioredis.Redis,
                 window: float) -> None:
        self.offsets: list[int] = []
        self.reader = TopicReader(stack.kafka, self._handle, self._tenants,
                                  refresh_interval=60, positions=ReadPositions(redis),
                                  catch_up_window=window)
        self.tenant = tenant
        self._task: asyncio.Task[None] | None = None

    async def _handle(self, topic: str, offset: int, event: CloudEvent) -> None:
        if topic.endswith(".outbound"):
            self.offsets.append(offset)

    async def _tenants(self) -> set[str]:
        return {self.tenant.slug}

    async def __aenter__(self) -> Reading:
        self._task = asyncio.create_task(self.reader.run())
        async with asyncio.timeout(WAIT):
            await self.reader.ready.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()  # as a killed hub: nothing more is read or recorded
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def seen(self, offsets: list[int]) -> None:
        async with asyncio.timeout(WAIT):
            while True:
                if set(offsets) <= set(self.offsets):
                    return
                await asyncio.sleep(0.05)


@pytest.fixture
async def tenant(stack: StackEnv, redis_client: aioredis.Redis,
                 unique: str) -> AsyncIterator[TenantNames]:
    """Topics of a tenant of this test's own (one partition each), read by no other hub."""
    names = TenantNames(unique)
    async with kafka_admin(stack.kafka) as admin:
        await ensure_tenant_topics(admin, names, TopicSettings(partitions=1))
    yield names
    await redis_client.delete(positions_key(names.topic("outbound")))
    async with kafka_admin(stack.kafka) as admin:
        await remove_tenant_topics(admin, names)


async def publish(producer: EventProducer, tenant: TenantNames, count: int) -> list[int]:
    offsets = []
    for _ in range(count):
        event = CloudEvent(source="/simptu/test", type="io.simptu.test.ping",
                           tenantid=tenant.slug, data={})
        offsets.append((await producer.publish(tenant.topic("outbound"), event, "s")).offset)
    return offsets


async def test_a_starting_hub_reads_what_was_published_while_no_hub_ran(
        stack: StackEnv, redis_client: aioredis.Redis, producer: EventProducer,
        tenant: TenantNames) -> None:
    async with Reading(stack, tenant, redis_client, window=3600) as first:
        before = await publish(producer, tenant, 2)
        await first.seen(before)
    while_down = await publish(producer, tenant, 3)

    async with Reading(stack, tenant, redis_client, window=3600) as second:
        after = await publish(producer, tenant, 1)
        await second.seen(while_down + after)

    assert second.offsets == while_down + after  # nothing missed, nothing read twice
    assert first.offsets == before


async def test_a_hub_down_longer_than_its_window_starts_at_the_end(
        stack: StackEnv, redis_client: aioredis.Redis, producer: EventProducer,
        tenant: TenantNames) -> None:
    async with Reading(stack, tenant, redis_client, window=3600) as first:
        await first.seen(await publish(producer, tenant, 1))
    await publish(producer, tenant, 3)
    await asyncio.sleep(1.5)  # those are now older than the next reader's window of 1 s

    async with Reading(stack, tenant, redis_client, window=1.0) as second:
        after = await publish(producer, tenant, 1)
        await second.seen(after)

    assert second.offsets == after


async def test_a_partition_no_hub_has_read_starts_at_its_end_and_gets_a_position(
        stack: StackEnv, redis_client: aioredis.Redis, producer: EventProducer,
        tenant: TenantNames) -> None:
    old = await publish(producer, tenant, 2)

    async with Reading(stack, tenant, redis_client, window=3600) as reading:
        recorded = await ReadPositions(redis_client).of([TopicPartition(
            tenant.topic("outbound"), 0)])
        after = await publish(producer, tenant, 1)
        await reading.seen(after)

    assert reading.offsets == after
    assert list(recorded.values()) == [old[-1] + 1]
