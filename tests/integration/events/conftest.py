"""Fixtures for the event bus: a tenant with its topics, a producer, relays that stop after the
test, an outbox filler, and a reader that collects what arrived on Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from simptu.devstack.envfile import StackEnv
from simptu.devstack.processes import ManagedProcess
from simptu.devstack.stack import Stack
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events.cloudevents import CloudEvent
from simptu.runtime.core.events.outbox import enqueue
from simptu.runtime.core.events.producer import EventProducer
from simptu.runtime.core.events.relay import OutboxRelay
from simptu.runtime.core.events.settings import OutboxRelaySettings
from simptu.runtime.core.events.topics import (
    TopicSettings,
    ensure_tenant_topics,
    kafka_admin,
    remove_tenant_topics,
)
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames

MakeTenant = Callable[..., Awaitable[TenantNames]]


@dataclass(frozen=True)
class Received:
    key: str | None
    event: CloudEvent
    partition: int
    offset: int
    headers: dict[str, bytes]

    @property
    def seq(self) -> int:
        seq: int = self.event.data["seq"]
        return seq


Until = Callable[[list[Received]], bool]
Collect = Callable[..., Awaitable[list[Received]]]
FillOutbox = Callable[..., Awaitable[list[CloudEvent]]]
StartRelay = Callable[..., Awaitable[OutboxRelay]]
RelaySettings = Callable[..., OutboxRelaySettings]


@pytest.fixture
async def tenant(make_tenant: MakeTenant, stack: StackEnv,
                 stack_relay_paused: None) -> AsyncIterator[TenantNames]:
    """A Ready tenant with its three topics (3 partitions each), all removed afterwards; the
    stack's relay leaves it to the test's relays."""
    made = await make_tenant()
    async with kafka_admin(stack.kafka) as admin:
        await ensure_tenant_topics(admin, made, TopicSettings(partitions=3))
    yield made
    async with kafka_admin(stack.kafka) as admin:
        await remove_tenant_topics(admin, made)


@pytest.fixture
async def producer(stack: StackEnv) -> AsyncIterator[EventProducer]:
    async with EventProducer(stack.kafka, client_id="simptu-tests") as started:
        yield started


def distinct_ids(count: int) -> Until:
    """Stop once `count` different event ids arrived."""
    return lambda received: len({r.event.id for r in received}) >= count


@pytest.fixture
def collect(stack: StackEnv) -> Collect:
    """Read `topics` from the beginning (no consumer group) until `until(received)` holds."""

    async def read(topics: list[str], until: Until, seconds: float = 60.0) -> list[Received]:
        consumer = AIOKafkaConsumer(*topics, **stack.kafka.client_options(),
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        received: list[Received] = []
        try:
            async with asyncio.timeout(seconds):
                while not until(received):
                    batch = await consumer.getmany(timeout_ms=200)
                    received += [_received(record) for records in batch.values()
                                 for record in records]
        except TimeoutError:
            pytest.fail(f"only {len(received)} record(s) arrived on {topics} in {seconds}s")
        finally:
            await consumer.stop()
        return received

    return read


def _received(record: Any) -> Received:
    return Received(key=record.key.decode() if record.key is not None else None,
                    event=CloudEvent.from_bytes(record.value), partition=record.partition,
                    offset=record.offset, headers=dict(record.headers))


@pytest.fixture
def fill_outbox(db: asyncpg.Pool) -> FillOutbox:
    """Enqueue `count` events, keyed round-robin by `keys`, `per_transaction` at a time;
    event number i carries `{"seq": i}`."""

    async def fill(tenant: TenantNames, count: int, keys: list[str],
                   per_transaction: int = 100, stream: str = "events") -> list[CloudEvent]:
        events = [CloudEvent(source="/tests/outbox", type="io.simptu.test.outbox.filled",
                             tenantid=tenant.slug, subject=keys[i % len(keys)],
                             data={"seq": i}) for i in range(count)]
        for start in range(0, count, per_transaction):
            async with TenantUnitOfWork(db, tenant) as conn:
                for event in events[start:start + per_transaction]:
                    await enqueue(conn, event, tenant.topic(stream), event.subject)
        return events

    return fill


@pytest.fixture
def stack_relay_paused(local_stack: Stack) -> Iterator[None]:
    """The local stack's own relay stopped (SIGSTOP) for the test: a test that kills, starves
    or counts relays must be the only one draining its tenant. It continues afterwards."""
    relay = ManagedProcess("relay", local_stack.ctx.settings.state_dir / "run").pid()
    if relay is not None:
        os.kill(relay, signal.SIGSTOP)
    try:
        yield
    finally:
        if relay is not None:
            os.kill(relay, signal.SIGCONT)


@pytest.fixture
def relay_settings(core_settings: CoreSettings) -> RelaySettings:
    """The relay's settings for the local stack, with `SIMPTU_OUTBOX_*` ones changed:
    `relay_settings(batch_size=50)`."""
    def make(**outbox: Any) -> OutboxRelaySettings:
        return OutboxRelaySettings.model_validate(
            core_settings.model_dump() | {f"outbox_{name}": value
                                          for name, value in outbox.items()})
    return make


@pytest.fixture
async def start_relay(db: asyncpg.Pool, stack: StackEnv,
                      relay_settings: RelaySettings) -> AsyncIterator[StartRelay]:
    """Run relays in this process; each is stopped (and its producer closed) afterwards."""
    running: list[tuple[OutboxRelay, asyncio.Task[None], EventProducer]] = []

    async def start(*, listen: bool = True, **settings: Any) -> OutboxRelay:
        chosen = relay_settings(**settings)
        relay_producer = EventProducer(stack.kafka, client_id="simptu-test-relay",
                                       timeout=chosen.outbox_publish_timeout)
        await relay_producer.start()
        relay = OutboxRelay(db, relay_producer, chosen, stack.database_url if listen else None)
        running.append((relay, asyncio.create_task(relay.run()), relay_producer))
        return relay

    yield start
    for relay, task, relay_producer in running:
        relay.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 30)
        await relay_producer.stop()


async def outbox_size(db: asyncpg.Pool, tenant: TenantNames) -> int:
    async with TenantUnitOfWork(db, tenant) as conn:
        size: int = await conn.fetchval("SELECT count(*) FROM outbox")
    return size


@pytest.fixture
def outbox_rows(db: asyncpg.Pool) -> Callable[[TenantNames], Awaitable[int]]:
    """How many rows wait in a tenant's outbox."""
    return lambda tenant: outbox_size(db, tenant)


def first_occurrences_per_key(received: list[Received]) -> dict[str | None, list[int]]:
    """For each key, the `seq` of each event the first time it arrived, in arrival order."""
    seen: set[str] = set()
    order: dict[str | None, list[int]] = {}
    for record in sorted(received, key=lambda r: (r.partition, r.offset)):
        if record.event.id not in seen:
            seen.add(record.event.id)
            order.setdefault(record.key, []).append(record.seq)
    return order


@pytest.fixture
def outbox_drained(db: asyncpg.Pool) -> Callable[[TenantNames], Awaitable[None]]:
    """Wait until the relay deleted every row of a tenant's outbox (it does so after Kafka
    acknowledged them, so a consumer may see an event a moment before)."""

    async def drained(tenant: TenantNames) -> None:
        for _ in range(1200):
            if not await outbox_size(db, tenant):
                return
            await asyncio.sleep(0.05)
        pytest.fail(f"{tenant.slug}'s outbox still has rows after 60s")

    return drained


@pytest.fixture
def key_order() -> Callable[[list[Received]], dict[str | None, list[int]]]:
    return first_occurrences_per_key


@pytest.fixture
def until_ids() -> Callable[[int], Until]:
    return distinct_ids
