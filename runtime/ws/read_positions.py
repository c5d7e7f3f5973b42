"""How far the hubs have read each partition of the tenants' `outbound` topics, kept in Redis
beside the resume log, so a hub that starts (after a crash, a deploy, or with no hub running
for a while) reads on from there: what was published while no hub ran reaches the resume log
and the clients that rejoin with their last event id.

A position is the next offset to read; every replica raises it after handling a batch and only
raises it (the furthest any replica got: everything before it is in the resume log). Keys carry
the tenant in braces, so a tenant's deletion (`purge_tenant_keys`) removes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import redis.asyncio as aioredis
from aiokafka import TopicPartition

from simptu.runtime.core.events.topics import tenant_of_topic

PREFIX = "simptu:ws:read"

# HSET field to ARGV[2] unless it already holds as much (positions only move forward).
RAISE = """
local now = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
if tonumber(ARGV[2]) > now then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1 end
return 0
"""


def positions_key(topic: str) -> str:
    """The key of a tenant's positions (`topic` is one of its topics)."""
    tenant = tenant_of_topic(topic)
    if tenant is None:
        raise ValueError(f"{topic} is not a tenant's topic")
    return f"{PREFIX}:{{{tenant}}}:positions"  # the trailing part: purge_tenant_keys matches it


def _field(tp: TopicPartition) -> str:
    return f"{tp.topic}:{tp.partition}"


class ReadPositions:
    """`await positions.raise_to({tp: next_offset})` after handling; `await positions.of(tps)`
    at start."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._raise = redis.register_script(RAISE)

    async def raise_to(self, positions: dict[TopicPartition, int]) -> None:
        for tp, offset in positions.items():
            await self._raise(keys=[positions_key(tp.topic)],
                              args=[_field(tp), offset])

    async def of(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        """The recorded positions of those partitions that have one."""
        found: dict[TopicPartition, int] = {}
        for tp in partitions:
            value = cast("bytes | None", await self.redis.hget(
                positions_key(tp.topic), _field(tp)))
            if value is not None:
                found[tp] = int(value)
        return found
