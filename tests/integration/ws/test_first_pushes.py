"""A reply's parts are claimed in the real Redis by their first Kafka offset: the same part at
another offset (an agent restarted mid-reply) is a repeat; the same event again (another
replica, or a re-read) is not."""

from __future__ import annotations

import uuid

import redis.asyncio as aioredis

from simptu.runtime.ws.first_pushes import FirstPushes, claim_key

from .conftest import CLINIC


async def test_a_part_sent_again_at_another_offset_is_a_repeat(
        redis_client: aioredis.Redis) -> None:
    first = FirstPushes(redis_client, ttl=60)
    session, message = str(uuid.uuid4()), str(uuid.uuid4())
    delta = {"message_id": message, "seq": 1, "delta": "Bună"}

    assert await first.is_first(CLINIC, session, "reply_delta", delta, 10)
    assert await first.is_first(CLINIC, session, "reply_delta", delta, 10)  # another replica
    assert not await first.is_first(CLINIC, session, "reply_delta", delta, 14)  # the restart
    assert await first.is_first(CLINIC, session, "reply_delta", {**delta, "seq": 2}, 15)
    assert await first.is_first(CLINIC, session, "reply", {"message_id": message}, 16)
    assert not await first.is_first(CLINIC, session, "reply", {"message_id": message}, 17)
    assert await first.is_first(CLINIC, session, "typing", {"typing": True}, 18)
    assert await first.is_first(CLINIC, session, "typing", {"typing": True}, 19)


async def test_claims_expire_with_the_resume_log(redis_client: aioredis.Redis) -> None:
    first = FirstPushes(redis_client, ttl=60)
    session, message = str(uuid.uuid4()), str(uuid.uuid4())
    await first.is_first(CLINIC, session, "reply_delta", {"message_id": message, "seq": 1}, 3)
    ttl = await redis_client.ttl(claim_key(CLINIC, session, f"{message}:1"))
    assert 0 < ttl <= 60
