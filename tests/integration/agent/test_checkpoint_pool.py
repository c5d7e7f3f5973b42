"""A tenant's checkpoint pool never hands a turn a connection its server dropped while it was
idle (Postgres restarted, a backend terminated): the connection is checked when it is taken,
and a dead one replaced, instead of failing the turn, which the consumer then retries after a
backoff that grew while Postgres was down (issue 22: the fault suite's Postgres restart)."""

from __future__ import annotations

import asyncio

import asyncpg

from simptu.devstack.envfile import StackEnv
from simptu.runtime.agent.checkpoints import tenant_pool
from tests.integration.agent.conftest import AgentTenant

GONE_TIMEOUT = 10.0  # bound on a terminated backend leaving pg_stat_activity


async def test_a_connection_dropped_while_idle_is_replaced_when_taken(
        stack: StackEnv, db: asyncpg.Pool, agent_tenants: dict[str, AgentTenant]) -> None:
    tenant = agent_tenants["gym"]
    pool = tenant_pool(stack.database_url, tenant.names, 2)
    await pool.open(wait=True)
    try:
        async with pool.connection() as conn:
            dropped = await (await conn.execute("SELECT pg_backend_pid() AS pid")).fetchone()
        assert dropped is not None
        async with db.acquire() as admin:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", dropped["pid"])
            async with asyncio.timeout(GONE_TIMEOUT):
                while True:  # until its backend is gone
                    if not await admin.fetchval("SELECT count(*) FROM pg_stat_activity "
                                                "WHERE pid = $1", dropped["pid"]):
                        break
                    await asyncio.sleep(0.05)

        async with pool.connection() as conn:
            taken = await (await conn.execute(
                "SELECT pg_backend_pid() AS pid, current_user AS role, "
                "current_schema() AS schema")).fetchone()
    finally:
        await pool.close()

    assert taken is not None
    assert taken["pid"] != dropped["pid"]
    assert (taken["role"], taken["schema"]) == (tenant.names.role, tenant.names.schema)
