"""Personal data sealed by the data layer crosses the outbox and Kafka only sealed: neither the
outbox row nor the bytes on the topic contain it, yet the receiver opens it."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.crypto import KeyRing, OpenBaoTransit, ensure_data_key
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events.cloudevents import CloudEvent
from simptu.runtime.core.events.outbox import enqueue
from simptu.runtime.core.events.relay import OutboxRelay
from simptu.runtime.core.settings import CoreSettings
from simptu.runtime.core.tenancy import TenantNames

StartRelay = Callable[..., Awaitable[OutboxRelay]]
PERSONAL = "Maria Popescu, +40 712 345 678, vreau o programare joi"


async def _raw_records(stack: StackEnv, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, **stack.kafka.client_options(),
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(60):
            while len(values) < count:
                batch = await consumer.getmany(timeout_ms=200)
                values += [record.value for records in batch.values() for record in records]
    finally:
        await consumer.stop()
    return values


async def test_sealed_text_is_unreadable_in_the_outbox_and_on_the_topic(
    db: asyncpg.Pool, stack: StackEnv, core_settings: CoreSettings,
    redis_client: aioredis.Redis, tenant: TenantNames, start_relay: StartRelay,
) -> None:
    keystore = OpenBaoTransit.from_settings(core_settings)
    async with db.acquire() as conn:
        await ensure_data_key(conn, keystore, tenant)
    try:
        async with KeyRing(db, keystore, redis_client) as ring:
            message_id = uuid.uuid4()
            async with TenantUnitOfWork(db, tenant) as conn:
                sealed = await ring.cipher(tenant, conn).seal("messages", "text", message_id,
                                                              PERSONAL)
                event = CloudEvent(source="/tests/no-plaintext", tenantid=tenant.slug,
                                   type="io.simptu.chat.message.received",
                                   data={"message_id": str(message_id),
                                         "text": base64.b64encode(sealed).decode()})
                await enqueue(conn, event, tenant.topic("inbound"), "session-1")
                waiting = await conn.fetchval("SELECT event FROM outbox")
            assert PERSONAL.encode() not in waiting
            await start_relay()
            [raw] = await _raw_records(stack, tenant.topic("inbound"), 1)
            assert PERSONAL.encode() not in raw
            assert b"Maria" not in raw
            received = CloudEvent.from_bytes(raw)
            assert received.id == event.id
            opened = await ring.cipher(tenant).open_text(
                "messages", "text", message_id, base64.b64decode(received.data["text"]))
            assert opened == PERSONAL
    finally:
        await keystore.destroy_key(tenant.transit_key)
