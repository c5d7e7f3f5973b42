"""The hub's resume log in Redis: pushes come back in order, sealed while they are there; an
entry altered or moved in Redis is left out of the replay."""

from __future__ import annotations

import uuid
from typing import Any, cast

import redis.asyncio as aioredis

from simptu.runtime.core.crypto import KeyRing
from simptu.runtime.ws.session_log import SessionLog

from .conftest import CLINIC


async def _entries(redis_client: aioredis.Redis, session: str) -> list[bytes]:
    """The stored (sealed) entries of a session's log."""
    raw = cast("list[tuple[bytes, dict[bytes, bytes]]]",
               await redis_client.xrange(f"simptu:ws:log:{{{CLINIC}}}:{session}"))
    return [fields[b"e"] for _, fields in raw]


def _push(text: str) -> dict[str, Any]:
    return {"event": "reply", "payload": {"text": text}}


async def test_pushes_come_back_in_order_and_are_sealed_in_redis(
        redis_client: aioredis.Redis, key_ring: KeyRing) -> None:
    log = SessionLog(redis_client, key_ring, max_events=10, ttl=60)
    session = str(uuid.uuid4())
    for event_id, text in ((7, "Bună"), (9, "Avem loc joi.")):
        assert await log.append(CLINIC, session, event_id, _push(text))
    assert not await log.append(CLINIC, session, 9, _push("Avem loc joi."))  # another replica

    assert await log.since(CLINIC, session, 0) == [_push("Bună"), _push("Avem loc joi.")]
    assert await log.since(CLINIC, session, 7) == [_push("Avem loc joi.")]
    stored = await _entries(redis_client, session)
    assert len(stored) == 2
    assert all(b"Avem" not in entry and b"Bun" not in entry for entry in stored)


async def test_an_entry_altered_or_moved_in_redis_is_left_out(
        redis_client: aioredis.Redis, key_ring: KeyRing) -> None:
    log = SessionLog(redis_client, key_ring, max_events=10, ttl=60)
    session, other = str(uuid.uuid4()), str(uuid.uuid4())
    await log.append(CLINIC, session, 1, _push("one"))
    await log.append(CLINIC, other, 2, _push("theirs"))
    [theirs] = await _entries(redis_client, other)
    # Another session's entry copied in, and an entry with a flipped bit: neither opens here.
    key = f"simptu:ws:log:{{{CLINIC}}}:{session}"
    await redis_client.xadd(key, {"e": theirs}, id="2-1")
    sealed = bytearray(theirs)
    sealed[-1] ^= 1
    await redis_client.xadd(key, {"e": bytes(sealed)}, id="3-1")
    await log.append(CLINIC, session, 4, _push("four"))

    assert await log.since(CLINIC, session, 0) == [_push("one"), _push("four")]
