"""The transactional outbox: an event leaves if and only if its transaction committed, once, with
its id, in per-key order, woken by NOTIFY and found by polling when a NOTIFY is missed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events.cloudevents import STRUCTURED_CONTENT_TYPE, CloudEvent
from simptu.runtime.core.events.listener import LISTENER_APPLICATION_NAME
from simptu.runtime.core.events.outbox import OutboxError, enqueue
from simptu.runtime.core.events.producer import EventProducer
from simptu.runtime.core.events.relay import MissingTopics, OutboxRelay
from simptu.runtime.core.events.settings import OutboxRelaySettings
from simptu.runtime.core.events.topics import kafka_admin
from simptu.runtime.core.tenancy import TenantNames

# The fixtures' types (conftest.py): what they return is read through these.
Collect = Callable[..., Awaitable[list[Any]]]
StartRelay = Callable[..., Awaitable[Any]]
MakeTenant = Callable[..., Awaitable[TenantNames]]
FillOutbox = Callable[..., Awaitable[list[CloudEvent]]]
KeyOrder = Callable[[list[Any]], dict[str | None, list[int]]]
UntilIds = Callable[[int], Callable[[list[Any]], bool]]
OutboxRows = Callable[[TenantNames], Awaitable[int]]
OutboxDrained = Callable[[TenantNames], Awaitable[None]]
RelaySettings = Callable[..., OutboxRelaySettings]
HOUR = 3600.0


def new_event(tenant: TenantNames, seq: int = 0) -> CloudEvent:
    return CloudEvent(source="/tests/outbox", type="io.simptu.test.outbox.filled",
                      tenantid=tenant.slug, data={"seq": seq})


async def publish_one(db: asyncpg.Pool, tenant: TenantNames, seq: int = 0) -> CloudEvent:
    event = new_event(tenant, seq)
    async with TenantUnitOfWork(db, tenant) as conn:
        await enqueue(conn, event, tenant.topic("events"), "session-1")
    return event


def ids_of(received: list[Any]) -> list[str]:
    return [r.event.id for r in received]


async def records_on(stack: StackEnv, topic: str) -> int:
    """How many records the topic holds, over all its partitions."""
    async with kafka_admin(stack.kafka) as admin:
        [described] = await admin.describe_topics([topic])
    partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    consumer = AIOKafkaConsumer(**stack.kafka.client_options())
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
    finally:
        await consumer.stop()
    return sum(ends[tp] - starts[tp] for tp in partitions)


async def test_an_event_whose_transaction_rolled_back_is_never_published(
    db: asyncpg.Pool, tenant: TenantNames, start_relay: StartRelay,
    collect: Collect,
) -> None:
    lost = new_event(tenant, 0)
    with pytest.raises(RuntimeError, match="booking conflict"):
        async with TenantUnitOfWork(db, tenant) as conn:
            await enqueue(conn, lost, tenant.topic("events"), "session-1")
            raise RuntimeError("booking conflict")
    kept = await publish_one(db, tenant, 1)
    await start_relay()
    received = await collect([tenant.topic("events")],
                             until=lambda got: kept.id in ids_of(got))
    # Same key, enqueued first: had it been written, it would have arrived before `kept`.
    assert lost.id not in ids_of(received)


async def test_a_committed_event_is_published_once_with_its_id(
    db: asyncpg.Pool, stack: StackEnv, tenant: TenantNames,
    start_relay: StartRelay, collect: Collect,
    outbox_drained: OutboxDrained,
) -> None:
    event = await publish_one(db, tenant)
    await start_relay()
    [received] = await collect([tenant.topic("events")], until=lambda got: len(got) >= 1)
    assert received.event == event
    assert received.key == "session-1"
    assert received.headers["content-type"] == STRUCTURED_CONTENT_TYPE.encode()
    await outbox_drained(tenant)
    assert await records_on(stack, tenant.topic("events")) == 1


async def test_events_of_one_key_arrive_in_the_order_they_were_enqueued(
    tenant: TenantNames, start_relay: StartRelay, collect: Collect,
    fill_outbox: FillOutbox,
    key_order: KeyOrder,
    until_ids: UntilIds,
) -> None:
    await start_relay(batch_size=50)  # running while the events are written
    keys = [f"session-{n}" for n in range(5)]
    events = await fill_outbox(tenant, 1000, keys, per_transaction=20)
    received = await collect([tenant.topic("events")], until=until_ids(len(events)))
    assert {r.event.id for r in received} == {e.id for e in events}
    for key, seqs in key_order(received).items():
        assert seqs == sorted(seqs), f"{key} arrived out of order"
        assert len(seqs) == 200


async def test_a_notify_wakes_the_relay_long_before_its_next_poll(
    db: asyncpg.Pool, tenant: TenantNames, start_relay: StartRelay,
    collect: Collect,
) -> None:
    first = await publish_one(db, tenant, 0)
    await start_relay(poll_interval=HOUR)
    await collect([tenant.topic("events")], until=lambda got: first.id in ids_of(got))
    # The relay has swept once and will not poll again for an hour: only NOTIFY can wake it.
    second = await publish_one(db, tenant, 1)
    await collect([tenant.topic("events")], until=lambda got: second.id in ids_of(got))


async def test_a_tenant_whose_topics_are_missing_fails_at_once_and_keeps_its_events(
    db: asyncpg.Pool, stack: StackEnv, make_tenant: MakeTenant, outbox_rows: OutboxRows,
    stack_relay_paused: None, relay_settings: RelaySettings,
) -> None:
    broken = await make_tenant("broken")  # Ready, but its topics were never created
    await publish_one(db, broken)
    settings = relay_settings(publish_timeout=HOUR)
    async with EventProducer(stack.kafka, timeout=HOUR) as producer:
        relay = OutboxRelay(db, producer, settings, None)
        # Waiting for the topics' metadata would hold one of the relay's slots for an hour,
        # and every other tenant behind it.
        with pytest.raises(MissingTopics, match=broken.topic("events")):
            async with asyncio.timeout(30):
                await relay.drain(broken)
    assert await outbox_rows(broken) == 1


async def test_without_notifications_the_relay_still_publishes_by_polling(
    db: asyncpg.Pool, tenant: TenantNames, start_relay: StartRelay,
    collect: Collect,
) -> None:
    first = await publish_one(db, tenant, 0)
    await start_relay(listen=False, poll_interval=0.3)
    await collect([tenant.topic("events")], until=lambda got: first.id in ids_of(got))
    second = await publish_one(db, tenant, 1)
    await collect([tenant.topic("events")], until=lambda got: second.id in ids_of(got))


async def test_a_relay_leaves_the_tenants_it_skips_to_a_relay_of_their_own(
    db: asyncpg.Pool, tenant: TenantNames, producer: EventProducer,
    relay_settings: RelaySettings,
) -> None:
    """The stack's relay skips the fault tests' tenants, whose private relay they kill. (Which
    tenants a relay drains, as read from the registry: draining itself is not watched here,
    since any other relay running meanwhile, a chart's pod or a test's, drains every tenant.)"""
    skipping = OutboxRelay(db, producer, relay_settings(skip_tenants=f"x-*,{tenant.slug}"), None)
    serving = OutboxRelay(db, producer, relay_settings(tenants=f"x-*,{tenant.slug}"), None)
    everyone = OutboxRelay(db, producer, relay_settings(), None)
    for relay in (skipping, serving, everyone):
        assert await relay._refresh_ready()  # the registry read each sweep makes
    assert tenant.slug not in skipping._ready
    assert serving._ready == {tenant.slug}
    assert tenant.slug in everyone._ready


async def test_while_listening_the_relay_polls_only_at_the_long_interval(
    start_relay: StartRelay,
) -> None:
    """A sweep costs a transaction per Ready tenant: while NOTIFY arrives, none is needed."""
    listening = await start_relay(poll_interval=0.1, listening_sweep_interval=HOUR)
    polling = await start_relay(listen=False, poll_interval=0.1)
    async with asyncio.timeout(30):
        while not (listening.listening and listening.sweeps >= 2):  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # the first sweep, and the one its connection asks for
    before = (listening.sweeps, polling.sweeps)
    await asyncio.sleep(1.0)
    assert listening.sweeps == before[0]
    assert polling.sweeps >= before[1] + 3


async def listener_backends(db: asyncpg.Pool) -> list[int]:
    return [row["pid"] for row in await db.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
        LISTENER_APPLICATION_NAME)]


async def test_a_lost_listener_connection_loses_no_event_and_is_reopened(
    db: asyncpg.Pool, tenant: TenantNames, start_relay: StartRelay,
    collect: Collect,
) -> None:
    first = await publish_one(db, tenant, 0)
    others = set(await listener_backends(db))  # the local stack's relay (paused) listens too
    await start_relay(poll_interval=0.5)
    await collect([tenant.topic("events")], until=lambda got: first.id in ids_of(got))
    [listener] = set(await listener_backends(db)) - others
    await db.execute("SELECT pg_terminate_backend($1)", listener)
    second = await publish_one(db, tenant, 1)  # its NOTIFY has no listener
    await collect([tenant.topic("events")], until=lambda got: second.id in ids_of(got))
    for _ in range(300):
        if set(await listener_backends(db)) - others - {listener}:
            return
        await asyncio.sleep(0.1)
    pytest.fail("the listener did not reconnect within 30s")


async def test_two_relays_at_once_keep_each_key_in_order(
    tenant: TenantNames, start_relay: StartRelay, collect: Collect,
    fill_outbox: FillOutbox,
    key_order: KeyOrder,
    until_ids: UntilIds,
) -> None:
    await start_relay(batch_size=20)
    await start_relay(batch_size=20)
    keys = [f"session-{n}" for n in range(4)]
    events = await fill_outbox(tenant, 2000, keys, per_transaction=10)
    received = await collect([tenant.topic("events")], until=until_ids(len(events)))
    assert {r.event.id for r in received} == {e.id for e in events}
    for key, seqs in key_order(received).items():
        assert seqs == sorted(seqs), f"{key} arrived out of order"


async def test_enqueue_refuses_another_tenant_s_topic_and_writes_nothing(
    db: asyncpg.Pool, tenant: TenantNames,
    outbox_rows: OutboxRows,
) -> None:
    with pytest.raises(OutboxError, match="not one of tenant"):
        async with TenantUnitOfWork(db, tenant) as conn:
            await enqueue(conn, new_event(tenant), "simptu.someone-else.events", "k")
    assert await outbox_rows(tenant) == 0


async def test_enqueue_refuses_to_run_outside_a_transaction(db: asyncpg.Pool,
                                                             tenant: TenantNames) -> None:
    async with db.acquire() as conn:
        with pytest.raises(OutboxError, match="transaction"):
            await enqueue(conn, new_event(tenant), tenant.topic("events"), "k")
