"""What `/readyz` of a runtime checks: that Postgres, Redis and Kafka each answer within a
few seconds, and for a runtime that opens sealed fields (the agent) that OpenBao answers
unsealed. Each result is "ok" or a short reason, so a failing probe says what failed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import asyncpg
import redis.asyncio as aioredis

from simptu.runtime.core.crypto import OpenBaoTransit
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
                            producer: EventProducer,
                            keystore: OpenBaoTransit | None = None) -> dict[str, str]:
    """Each dependency's result, all checked at once; OpenBao's only when `keystore` is given."""
    probes = {"postgres": pool.fetchval("SELECT 1"), "redis": redis.ping(),
              "kafka": producer.check_connection(),
              **({"openbao": keystore.check_unsealed()} if keystore is not None else {})}
    results = await asyncio.gather(*(check(probe) for probe in probes.values()))
    return dict(zip(probes, results, strict=True))
