"""Tenants' Redis ACL users live in Redis's memory only (no aclfile: a managed Redis may offer
none), so a Redis restart, or a failover to a replica, loses them and every agent's Redis login
fails. The operator watches Redis's run id, which a new server process changes, and converges
every Ready tenant at once when it does, which sets each user again (a tenant not Ready gets its
user as it becomes so); the drift check would too, but only after its interval."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from simptu.runtime.core.registry import ready_slugs

log = structlog.get_logger(__name__)


async def run_id(redis: aioredis.Redis) -> str | None:
    """The server process's id, or None while Redis cannot be reached."""
    try:
        server = await redis.info("server")
    except (OSError, RedisError) as error:
        log.warning("could not read Redis's run id", error=repr(error))
        return None
    return str(server["run_id"])


async def watch(redis: aioredis.Redis, pool: asyncpg.Pool,
                converge: Callable[[str], Awaitable[None]], interval: float) -> None:
    """Until cancelled: every `interval` seconds, converge every Ready tenant if Redis
    restarted."""
    known = await run_id(redis)
    while True:
        await asyncio.sleep(interval)
        current = await run_id(redis)
        if current is None or current == known:
            continue
        if known is not None:
            await _converge_all(pool, converge)
        known = current


async def _converge_all(pool: asyncpg.Pool, converge: Callable[[str], Awaitable[None]]) -> None:
    try:
        slugs = await ready_slugs(pool)  # the others' users are set as they get ready
    except (OSError, asyncpg.PostgresError) as error:
        log.warning("Redis restarted; tenants not listed, left to the drift check",
                    error=repr(error))
        return
    log.info("Redis restarted: setting every tenant's ACL user again", tenants=len(slugs))
    for slug in slugs:
        await converge(slug)
