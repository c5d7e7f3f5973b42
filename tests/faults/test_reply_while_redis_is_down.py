"""A reply streamed while the hub's Redis is down (where the hub claims each part and logs it
for resuming clients) is not dropped: the hub waits for Redis and pushes it once it is back."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import redis.asyncio as aioredis

from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.core.events import EventProducer
from simptu.runtime.core.registry import TenantRegistry
from tests.integration.ws.conftest import Agent, GuestChat

from .load import Load
from .runtimes import PrivatePlatform
from .scenarios import until_ready_is

WHILE_DOWN = 8.0  # longer than the Redis client retries a command (~3 s)


async def test_a_reply_streamed_while_redis_is_down_reaches_the_page_once(
        platform: PrivatePlatform, load: Load, db: asyncpg.Pool, redis_client: aioredis.Redis,
        producer: EventProducer, key_ring: KeyRing) -> None:
    chat = load.conversations[0]
    tenant = await TenantRegistry(db, redis_client).require_ready(platform.tenant.slug)
    agent = Agent(producer, key_ring)
    page = GuestChat(tenant, uuid.UUID(chat.session_id), chat.token)

    platform["redis"].kill()
    await until_ready_is(platform, ["ws"], 503)
    message_id = await agent.reply(page, ["Suntem ", "deschiși ", "până la 20."])
    await asyncio.sleep(WHILE_DOWN)
    await platform["redis"].start()

    reply = await load.phoenix.event(chat.socket, "reply",
                                     lambda reply: reply["message_id"] == str(message_id))
    assert reply["text"] == "Suntem deschiși până la 20."
    deltas = [d for d in load.phoenix.events(chat.socket, "reply_delta")
              if d["message_id"] == str(message_id)]
    assert [d["seq"] for d in deltas] == [0, 1, 2]
