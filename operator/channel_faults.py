"""The channel senders record faults only people can fix (a refused access token) in the
registry's database; the operator, which alone writes Tenants' status, polls for new ones and
converges their tenants, so the fault shows in the ChannelsReady condition within seconds."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from simptu.runtime.core.channels.faults import faulty_since

log = structlog.get_logger(__name__)


async def watch(pool: asyncpg.Pool, converge: Callable[[str], Awaitable[None]],
                interval: float) -> None:
    """Until cancelled: every `interval` seconds, converge the tenants with a new fault."""
    since: dt.datetime = await pool.fetchval("SELECT now()")
    while True:
        await asyncio.sleep(interval)
        try:
            slugs, since = await faulty_since(pool, since)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("could not read channel faults", error=repr(error))
            continue
        for slug in slugs:
            await converge(slug)
