"""What `/readyz` of a runtime checks: that Postgres, Redis and Kafka each answer within a
few seconds, and for a runtime that opens sealed fields (the API, the hub, the agent) that
OpenBao answers unsealed. Each result is "ok" or a short reason, so a failing probe says what
failed. `dependency_away(error)` tells a request that failed because a dependency cannot be reached
(the caller may retry it) from one that failed for another reason."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import asyncpg
import redis.asyncio as aioredis
from asyncpg.exceptions import InsufficientResourcesError, OperatorInterventionError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from simptu.runtime.core.crypto import KeyStoreUnavailable, OpenBaoTransit
from simptu.runtime.core.events import EventProducer

CHECK_TIMEOUT = 3.0
# What a call raises while a dependency cannot be reached, or not in time: a refused or reset
# connection (OSError), a pool's acquire or a command's timeout (TimeoutError), a Postgres
# connection lost or refused (class 08), a server shutting down or starting up, a statement
# cancelled (class 57), too many connections (class 53, PgBouncer's and Postgres's), Redis
# away, OpenBao away or sealed. Anything else is a fault of the request or of the code.
DEPENDENCY_AWAY: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncpg.PostgresConnectionError, OperatorInterventionError,
    InsufficientResourcesError, RedisConnectionError, RedisTimeoutError, KeyStoreUnavailable)


def dependency_away(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, says a dependency is away."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, DEPENDENCY_AWAY):
            return True
        seen = seen.__cause__
    return False


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
