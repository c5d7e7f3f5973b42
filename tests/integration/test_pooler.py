"""Behind PgBouncer in transaction mode, where requests share server connections, each unit of
work still runs as its own tenant and leaves nothing for the next request."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from simptu.devstack.envfile import StackEnv
from simptu.runtime.core.database import TenantUnitOfWork
from simptu.runtime.core.tenancy import TenantNames

MakeTenant = Callable[..., Awaitable[TenantNames]]


@pytest.fixture
async def pooled(stack: StackEnv) -> AsyncIterator[asyncpg.Pool]:
    """Many client connections multiplexed by PgBouncer onto 4 server connections."""
    pool = await asyncpg.create_pool(stack["SIMPTU_POOLER_DATABASE_URL"], min_size=1,
                                     max_size=40, statement_cache_size=0)
    assert pool is not None
    yield pool
    await pool.close()


async def test_interleaved_tenants_never_see_each_other_through_the_pooler(
    pooled: asyncpg.Pool, make_tenant: MakeTenant
) -> None:
    tenants = [await make_tenant(name) for name in ("a", "b", "c")]
    login_user = await pooled.fetchval("SELECT current_user")
    default_path = await pooled.fetchval("SELECT current_setting('search_path')")

    async def request(n: int) -> tuple[TenantNames, str, int]:
        tenant = random.choice(tenants)  # noqa: S311 - test traffic, not security
        async with TenantUnitOfWork(pooled, tenant) as conn:
            await conn.execute("INSERT INTO customers (id) VALUES ($1)", uuid.uuid4())
            await asyncio.sleep(0.001 * (n % 5))  # hold the server connection a little
            who = await conn.fetchval("SELECT current_user")
        # A plain query right after, probably on another tenant's former server connection.
        row = await pooled.fetchrow(
            "SELECT current_user AS who, current_setting('search_path') AS path")
        assert (row["who"], row["path"]) == (login_user, default_path)
        return tenant, who, n

    results = await asyncio.gather(*(request(n) for n in range(300)))
    assert all(who == tenant.role for tenant, who, _ in results)
    for tenant in tenants:
        written = sum(1 for t, _, _ in results if t == tenant)
        async with TenantUnitOfWork(pooled, tenant) as conn:
            assert await conn.fetchval("SELECT count(*) FROM customers") == written
