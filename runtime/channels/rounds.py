"""Jobs of the channel senders that visit every Ready tenant in rounds (booking reminders, the
Booking.com poller): one tenant's trouble (deleted meanwhile, shredded, its database away)
never stops the others, and a round that fails is tried again in the next."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from simptu.runtime.core.registry import TenantRecord, TenantRegistry, ready_slugs

log = structlog.get_logger(__name__)


async def every_ready_tenant(pool: asyncpg.Pool, registry: TenantRegistry, interval: float,
                             visit: Callable[[TenantRecord], Awaitable[object]],
                             job: str) -> None:
    """Until cancelled: every `interval` seconds, `visit` each Ready tenant."""
    while True:
        try:
            slugs = await ready_slugs(pool)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("a round could not list the tenants", job=job, error=repr(error))
            slugs = []
        for slug in slugs:
            try:
                await visit(await registry.get(slug))
            except Exception:  # logged, and tried again next round
                log.exception("a round failed for a tenant", job=job, tenant=slug)
        await asyncio.sleep(interval)
