"""Running a handler once per event id, however often the event is delivered: in Postgres
with the handler's own effects, or in Redis for handlers that change no database state."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable

import asyncpg
import redis.asyncio as aioredis

from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events.cloudevents import CloudEvent
from simptu.runtime.core.tenancy import TenantNames

# A handler's effects go through the unit-of-work connection it is given (the tenant's role).
UnitOfWorkHandler = Callable[[CloudEvent, asyncpg.Connection], Awaitable[None]]
EventHandler = Callable[[CloudEvent], Awaitable[None]]
# What the consumer runs per event: True if handled now, False if it was a duplicate.
EventProcessor = Callable[[CloudEvent], Awaitable[bool]]

MARK_PROCESSED = ("INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) "
                  "ON CONFLICT DO NOTHING RETURNING true")
DONE, IN_PROGRESS = b"done", b"in-progress"


class EventInProgress(RuntimeError):
    """Another worker is handling this event now (or died doing so): try again later."""


class PostgresIdempotency:
    """Once per (consumer, event id): the event is recorded in the tenant's `processed_events`
    in the same transaction as the handler's effects, so both commit or neither does."""

    def __init__(self, pool: asyncpg.Pool, consumer: str) -> None:
        self.pool = pool
        self.consumer = consumer

    async def run_once(self, event: CloudEvent, handler: UnitOfWorkHandler) -> bool:
        async with TenantUnitOfWork(self.pool, TenantNames(event.tenantid)) as conn:
            # A concurrent delivery of the same event waits here on the row lock, then finds it.
            if not await conn.fetchval(MARK_PROCESSED, self.consumer, event.id):
                return False
            await handler(event, conn)
        return True

    def processor(self, handler: UnitOfWorkHandler) -> EventProcessor:
        return functools.partial(self.run_once, handler=handler)


async def forget_processed_events(conn: asyncpg.Connection, older_than: dt.timedelta) -> int:
    """Purge records older than any redelivery can be (run in a tenant unit of work)."""
    result: str = await conn.execute(
        "DELETE FROM processed_events WHERE processed_at < now() - $1::interval", older_than)
    return int(result.split()[-1])


class RedisIdempotency:
    """Once per (consumer, event id) within `ttl`, for handlers without database effects.

    The event is claimed for `lease` while its handler runs: a delivery that finds it claimed
    is retried later rather than dropped, so a worker that dies mid-handler loses nothing.
    """

    def __init__(self, redis: aioredis.Redis, consumer: str, *,
                 ttl: dt.timedelta = dt.timedelta(days=7),
                 lease: dt.timedelta = dt.timedelta(minutes=5)) -> None:
        self.redis = redis
        self.consumer = consumer
        self.ttl = ttl
        self.lease = lease

    def key(self, event: CloudEvent) -> str:
        return f"simptu:processed:{{{event.tenantid}}}:{self.consumer}:{event.id}"

    async def run_once(self, event: CloudEvent, handler: EventHandler) -> bool:
        key = self.key(event)
        if not await self.redis.set(key, IN_PROGRESS, nx=True, px=self.lease):
            if await self.redis.get(key) == DONE:
                return False
            raise EventInProgress(f"event {event.id} is being handled by another worker")
        try:
            await handler(event)
        except BaseException:
            await self.redis.delete(key)  # let the retry run it
            raise
        await self.redis.set(key, DONE, px=self.ttl)
        return True

    def processor(self, handler: EventHandler) -> EventProcessor:
        return functools.partial(self.run_once, handler=handler)
