"""The consumer commits an offset only after its event was handled, retries a failing handler
until it succeeds, and drops redelivered events by id (effects happen once)."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events.cloudevents import CloudEvent
from simptu.runtime.core.events.consumer import EventConsumer
from simptu.runtime.core.events.idempotency import (
    IN_PROGRESS,
    EventProcessor,
    PostgresIdempotency,
    RedisIdempotency,
    forget_processed_events,
)
from simptu.runtime.core.events.producer import EventProducer, OutgoingRecord
from simptu.runtime.core.events.retry import Backoff
from simptu.runtime.core.events.topics import TopicSettings, ensure_topics, kafka_admin
from simptu.runtime.core.tenancy import TenantNames

QUICK_RETRY = Backoff(first=0.1, longest=0.5)


def new_event(tenant: str, text: str) -> CloudEvent:
    return CloudEvent(source="/tests/consumer", type="io.simptu.chat.message.received",
                      tenantid=tenant, subject="session-1", data={"text": text})


async def one_partition_topic(stack: StackEnv, name: str) -> str:
    async with kafka_admin(stack.kafka) as admin:
        await ensure_topics(admin, [name], TopicSettings(partitions=1))
    return name


@asynccontextmanager
async def consuming(stack: StackEnv, group: str, topic: str,
                    process: EventProcessor) -> AsyncIterator[EventConsumer]:
    consumer = EventConsumer(stack.kafka, group, [topic], process,
                             backoff=QUICK_RETRY)
    task = asyncio.create_task(consumer.run())
    try:
        yield consumer
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)


async def eventually(condition: Callable[[], bool]) -> None:
    for _ in range(1200):
        if condition():
            return
        await asyncio.sleep(0.05)
    pytest.fail("not within 60s")


async def committed(stack: StackEnv, group: str, topic: str) -> int | None:
    admin = AIOKafkaAdminClient(**stack.kafka.client_options())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    found = offsets.get(TopicPartition(topic, 0))
    return None if found is None else int(found.offset)


async def test_a_failed_handler_sees_the_event_again_and_its_offset_waits_for_success(
    stack: StackEnv, topic_prefix: str, unique: str, producer: EventProducer,
) -> None:
    topic = await one_partition_topic(stack, f"{topic_prefix}commands")
    group = f"{unique}-retry"
    events = [new_event("acme", text) for text in ("one", "two", "three")]
    for event in events:
        await producer.publish(topic, event, "session-1")
    seen: list[str] = []
    committed_at_retry: list[int | None] = []

    async def flaky(event: CloudEvent) -> bool:
        seen.append(event.id)
        if event.id == events[1].id:
            if seen.count(event.id) == 1:
                raise ConnectionError("the calendar API is down")
            committed_at_retry.append(await committed(stack, group, topic))
        return True

    async with consuming(stack, group, topic, flaky):
        await eventually(lambda: events[2].id in seen)
    assert seen == [events[0].id, events[1].id, events[1].id, events[2].id]
    assert committed_at_retry == [1]  # only the first event was done when the second failed
    assert await committed(stack, group, topic) == 3


async def test_an_event_that_arrives_as_its_partition_s_task_ends_is_handled(
    stack: StackEnv, topic_prefix: str, unique: str, producer: EventProducer,
) -> None:
    """A conversation: each event is sent a moment after the one before it was handled, so
    some are fetched just as their partition's task is finishing. None may be left behind."""
    topic = await one_partition_topic(stack, f"{topic_prefix}ping-pong")
    handled: list[str] = []
    replies: set[asyncio.Task[None]] = set()

    async def reply(text: str, after: float) -> None:
        await asyncio.sleep(after)
        await producer.publish(topic, new_event("acme", text), "session-1")

    async def answer(event: CloudEvent) -> bool:
        handled.append(event.data["text"])
        if len(handled) < 300:  # the next message comes while this one is committed, or later
            task = asyncio.create_task(reply(str(len(handled)), secrets.randbelow(16) / 1000))
            replies.add(task)
            task.add_done_callback(replies.discard)
        return True

    async with consuming(stack, f"{unique}-ping-pong", topic, answer):
        await producer.publish(topic, new_event("acme", "0"), "session-1")
        await eventually(lambda: len(handled) == 300)
    assert handled == [str(n) for n in range(300)]
    assert await committed(stack, f"{unique}-ping-pong", topic) == 300


def key_on(partition: int, partitions: int) -> str:
    """A key the producer's default partitioner sends to `partition`."""
    choose = DefaultPartitioner()
    every = list(range(partitions))
    return next(key for n in range(1000) if choose(
        (key := f"session-{n}").encode(), every, every) == partition)


async def test_a_slow_event_holds_up_only_its_own_partition(
    stack: StackEnv, topic_prefix: str, unique: str, producer: EventProducer,
) -> None:
    """A hosted model may take seconds over one turn: the conversations on other partitions
    are answered meanwhile, not after it."""
    topic = f"{topic_prefix}slow"
    async with kafka_admin(stack.kafka) as admin:
        await ensure_topics(admin, [topic], TopicSettings(partitions=2))
    slow, quick = new_event("acme", "slow"), new_event("acme", "quick")
    slow_started, quick_handled = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def handle(event: CloudEvent) -> bool:
        if event.id == slow.id:
            slow_started.set()
            try:  # without partitions of their own, the quick one waits for this one
                async with asyncio.timeout(20):
                    await quick_handled.wait()
            except TimeoutError:
                order.append("the slow one gave up waiting")
        else:
            quick_handled.set()
        order.append(event.data["text"])
        return True

    async with consuming(stack, f"{unique}-slow", topic, handle):
        await producer.publish(topic, slow, key_on(0, 2))
        async with asyncio.timeout(60):
            await slow_started.wait()
        await producer.publish(topic, quick, key_on(1, 2))
        await eventually(lambda: len(order) == 2)
    assert order == ["quick", "slow"]


async def count_rows(db: asyncpg.Pool, tenant: TenantNames, table: str) -> int:
    async with TenantUnitOfWork(db, tenant) as conn:
        found: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return found


async def test_a_redelivered_event_has_its_database_effects_once(
    stack: StackEnv, db: asyncpg.Pool, make_tenant: Callable[..., Awaitable[TenantNames]],
    topic_prefix: str, unique: str, producer: EventProducer,
) -> None:
    tenant = await make_tenant()
    topic = await one_partition_topic(stack, f"{topic_prefix}commands")
    first, second = new_event(tenant.slug, "book"), new_event(tenant.slug, "cancel")
    for event in (first, first, second):  # the first one is delivered twice
        await producer.publish(topic, event, "session-1")
    calls: list[str] = []

    async def add_customer(event: CloudEvent, conn: asyncpg.Connection) -> None:
        calls.append(event.id)
        # Not idempotent by itself: every call that commits adds a row.
        await conn.execute("INSERT INTO customers (id) VALUES ($1)", uuid.uuid4())
        if calls == [first.id]:
            raise ConnectionError("failed after writing: the transaction must roll back")

    store = PostgresIdempotency(db, consumer=f"{unique}-bookings")
    async with consuming(stack, f"{unique}-bookings", topic, store.processor(add_customer)):
        await eventually(lambda: second.id in calls)
    assert calls == [first.id, first.id, second.id]
    assert await count_rows(db, tenant, "customers") == 2
    assert await count_rows(db, tenant, "processed_events") == 2
    async with TenantUnitOfWork(db, tenant) as conn:
        assert await forget_processed_events(conn, dt.timedelta(0)) == 2


async def test_a_redelivered_event_is_handled_once_with_the_redis_store(
    stack: StackEnv, redis_client: aioredis.Redis, topic_prefix: str, unique: str,
    producer: EventProducer,
) -> None:
    topic = await one_partition_topic(stack, f"{topic_prefix}notifications")
    first, second = new_event("acme", "push"), new_event("acme", "push again")
    for event in (first, first, second):
        await producer.publish(topic, event, "session-1")
    calls: list[str] = []

    async def notify(event: CloudEvent) -> None:
        calls.append(event.id)
        if calls == [first.id]:
            raise ConnectionError("push service unavailable")

    store = RedisIdempotency(redis_client, f"{unique}-push", ttl=dt.timedelta(minutes=1))
    async with consuming(stack, f"{unique}-push", topic, store.processor(notify)):
        await eventually(lambda: second.id in calls)
    assert calls == [first.id, first.id, second.id]


async def test_an_event_claimed_by_a_worker_that_died_is_handled_after_its_lease(
    stack: StackEnv, redis_client: aioredis.Redis, topic_prefix: str, unique: str,
    producer: EventProducer,
) -> None:
    topic = await one_partition_topic(stack, f"{topic_prefix}notifications")
    event = new_event("acme", "push")
    await producer.publish(topic, event, "session-1")
    store = RedisIdempotency(redis_client, f"{unique}-push", ttl=dt.timedelta(minutes=1))
    # Another worker claimed it and died mid-handler: its claim expires with its lease.
    await redis_client.set(store.key(event), IN_PROGRESS, px=1000)
    calls: list[str] = []

    async def notify(handled: CloudEvent) -> None:
        calls.append(handled.id)

    async with consuming(stack, f"{unique}-push", topic, store.processor(notify)):
        await eventually(lambda: bool(calls))
    assert calls == [event.id]


async def test_a_record_that_is_not_a_valid_event_of_its_tenant_is_logged_and_passed(
    stack: StackEnv, topic_prefix: str, unique: str, producer: EventProducer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tenant = TenantNames(unique)  # its topics start with topic_prefix: removed afterwards
    topic = await one_partition_topic(stack, tenant.topic("inbound"))
    await producer.publish_many([OutgoingRecord(topic, b"{not json")])
    await producer.publish(topic, new_event("someone-else", "spoofed"))
    valid = new_event(tenant.slug, "hello")
    await producer.publish(topic, valid)
    calls: list[str] = []

    async def record(event: CloudEvent) -> bool:
        calls.append(event.id)
        return True

    async with consuming(stack, f"{unique}-inbound", topic, record):
        await eventually(lambda: bool(calls))
    assert calls == [valid.id]
    rejected = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejected) == 2
    assert "not UTF-8 JSON" in rejected[0]
    assert "someone-else" in rejected[1]
    assert await committed(stack, f"{unique}-inbound", topic) == 3


async def test_a_consumer_of_a_topic_deleted_before_it_started_stops_when_told(
    stack: StackEnv, topic_prefix: str, unique: str,
) -> None:
    # A tenant removed between the listing of its topics and the consumer's start: Kafka's
    # client waits for the topic's metadata for ever, and nothing must wait on it.
    async def never(_event: CloudEvent) -> bool:
        raise AssertionError("no event exists")

    consumer = EventConsumer(stack.kafka, f"{unique}-gone",
                             [f"{topic_prefix}{unique}.events"], never)
    running = asyncio.create_task(consumer.run())
    await asyncio.sleep(1)  # still starting: the topic never appears
    assert not running.done()
    consumer.stop()
    await asyncio.wait_for(running, 15)  # it ends, rather than waiting for the topic
