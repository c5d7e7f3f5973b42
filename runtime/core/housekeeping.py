"""The platform's periodic chores, for every Ready tenant: bookings that have ended become
`completed` (which ratings need, each with its `io.simptu.booking.completed` event),
`Idempotency-Key` records older than a day are purged, and so are the consumers' records of
events handled more than a week ago (longer than a redelivery can come).

Every API replica runs `keep_house` in the background; a Postgres advisory lock lets one of them
do each round. `simptu housekeep` runs one round (a Kubernetes CronJob can run it instead).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

import asyncpg
import structlog

from simptu.runtime.core.bookings import complete_past_bookings
from simptu.runtime.core.bookings.idempotency import purge_idempotency_records
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.events.idempotency import forget_processed_events
from simptu.runtime.core.registry import ready_slugs
from simptu.runtime.core.tenancy import TenantNames

log = structlog.get_logger(__name__)
LOCK = "simptu:housekeeping"  # one round at a time across every replica
BATCH = 500  # bookings completed per transaction
IDEMPOTENCY_HOURS = 24  # how long a retry with the same Idempotency-Key answers the first result
HANDLED_EVENTS_KEPT = dt.timedelta(days=7)  # Kafka's retention: nothing older is redelivered


@dataclass(frozen=True)
class Round:
    """What one round did (None when another replica held the lock)."""

    tenants: int
    completed: int
    purged: int  # idempotency and handled-event records


async def housekeep(pool: asyncpg.Pool) -> Round | None:
    """One round over every Ready tenant, unless another process is doing one."""
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", LOCK):
            return None
        try:
            slugs = await ready_slugs(conn)
            completed = purged = 0
            for slug in slugs:
                try:
                    done, removed = await _tenant_chores(pool, TenantNames(slug))
                except asyncpg.PostgresError:  # one broken tenant does not stop the others
                    log.exception("housekeeping of a tenant failed", tenant=slug)
                    continue
                completed, purged = completed + done, purged + removed
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", LOCK)
    return Round(len(slugs), completed, purged)


async def _tenant_chores(pool: asyncpg.Pool, tenant: TenantNames) -> tuple[int, int]:
    completed = 0
    while True:  # in batches, each its own transaction
        async with pool.acquire() as conn:
            done = await complete_past_bookings(conn, tenant, limit=BATCH)
        completed += done
        if done < BATCH:
            break
    async with TenantUnitOfWork(pool, tenant) as conn:
        purged = await purge_idempotency_records(conn, IDEMPOTENCY_HOURS)
        purged += await forget_processed_events(conn, HANDLED_EVENTS_KEPT)
    return completed, purged


async def keep_house(pool: asyncpg.Pool, interval: float) -> None:
    """`housekeep` every `interval` seconds until cancelled; a failed round is logged and the
    next one tries again."""
    while True:
        await asyncio.sleep(interval)
        try:
            done = await housekeep(pool)
        except (asyncpg.PostgresError, OSError):
            log.exception("housekeeping round failed")
            continue
        if done is not None and (done.completed or done.purged):
            log.info("housekeeping", tenants=done.tenants, completed=done.completed,
                     purged=done.purged)
