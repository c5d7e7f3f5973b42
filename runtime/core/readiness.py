"""What `/readyz` of a runtime checks: that Postgres, Redis and Kafka each answer within a
few seconds. Each result is "ok" or a short reason, so a failing probe says what failed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import asyncpg
import redis.asyncio as aioredis

from simptu.runtime.core.events import EventProducer

CHECK_TIMEOUT = 3.0


async def check(probe: Awaitable[object]) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await probe
    except Exception as error:  # any failure is the answer, not a crash of the probe
        return f"failing: {type(error).__name__}: {error}"[:200]
    return "ok"


async def dependency_checks(pool: asyncpg.Pool, redis: aioredis.Redis,
                            producer: EventProducer) -> dict[str, str]:
    postgres, redis_result, kafka = await asyncio.gather(
        check(pool.fetchval("SELECT 1")), check(redis.ping()),
        check(producer.check_connection()))
    return {"postgres": postgres, "redis": redis_result, "kafka": kafka}
